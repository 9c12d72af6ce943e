export * from './kpi.js';
export * from './publish.js';
export * from './store/index.js';
export * from './report/index.js';
export * from './analyze/index.js';
export * from './compare.js';
export { compareKpi, changePoints, detectRegressionInHistory, mannWhitney, decideVerdict, median, quantileSorted } from './stats/index.js';
export type { CompareKpiInput, CompareKpiResult, ChangePointOptions } from './stats/index.js';
