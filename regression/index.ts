export * from './kpi.js';
export * from './publish.js';
export * from './store/index.js';
export * from './report/index.js';
export * from './analyze/index.js';
export * from './compare.js';
export * from './series-input.js';
export { compareKpi, detectChanges, detectRegressionInHistory, eDivisive, mannWhitney, decideVerdict, median, quantileSorted } from './stats/index.js';
export type { Change, ChangeKind, ChangeOptions, CompareKpiInput, CompareKpiResult, HistoryChange, HistoryResult } from './stats/index.js';
