// Chart rendering shared by the HTML reports (regression comparisons, load runs).
export { renderSvg, normalizeSvg } from './svg.js';
