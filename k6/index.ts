export { generateK6Thresholds, k6Thresholds } from './thresholds.js';
