// The statistics of regression detection: is one run worse than its baseline (compareKpi), and
// where in a KPI's history did it change, and how (detectChanges, detectRegressionInHistory).
// See docs/performance_regression_guide.md.

export {
  compareKpi,
  decideVerdict,
  runEstimate,
  DEFAULT_NOISE_MULTIPLE,
  MIN_HISTORY_FOR_NOISE,
  MIN_SAMPLES_PER_RUN,
  THRESHOLD_TOLERANCE,
} from './compare.js';
export type { CompareKpiInput, CompareKpiResult, CompareTest } from './compare.js';
export { detectChanges } from './changes.js';
export type { Change, ChangeKind, ChangeOptions } from './changes.js';
export { detectRegressionInHistory } from './history.js';
export type { HistoryChange, HistoryOptions, HistoryResult } from './history.js';
export { changePoints as eDivisive } from './edivisive.js';
export type { ChangePoint as EDivisiveChangePoint, ChangePointOptions as EDivisiveOptions } from './edivisive.js';
export { mannWhitney } from './mann-whitney.js';
export type { MannWhitneyResult } from './mann-whitney.js';
export { DEFAULT_SEED } from './random.js';
export { median, quantileSorted } from './descriptive.js';
