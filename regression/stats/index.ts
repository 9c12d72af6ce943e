// The statistics of regression detection: is one run worse than its baseline (compareKpi), and
// where in a KPI's history did it change (changePoints, detectRegressionInHistory).
// See docs/performance_regression_guide.md.

export { compareKpi, decideVerdict, DEFAULT_RESAMPLES, MIN_SAMPLES_FOR_RANK_TEST } from './compare.js';
export type { CompareKpiInput, CompareKpiResult } from './compare.js';
export { changePoints } from './edivisive.js';
export type { ChangePoint, ChangePointOptions } from './edivisive.js';
export { detectRegressionInHistory } from './history.js';
export type { HistoryChange, HistoryOptions, HistoryResult } from './history.js';
export { mannWhitney } from './mann-whitney.js';
export type { MannWhitneyResult } from './mann-whitney.js';
export { DEFAULT_SEED } from './random.js';
export { median, quantileSorted } from './descriptive.js';
