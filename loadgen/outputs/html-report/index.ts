// The run report: perfstack's self-contained HTML report of one load-engine run (replacing
// k6's web-dashboard export): verdict, thresholds, charts over time, checks and metrics.

export type {
  CheckResult,
  IntervalLatency,
  ReportInput,
  RunTimeline,
  SummaryRow,
  ThresholdResult,
  ThresholdUnit,
  TimelinePoint,
} from './types.js';
export { renderRunReport } from './render.js';
export { writeRunReport } from './write.js';
export { MAX_BUCKETS, prepareTimeline, type Bucket, type PreparedTimeline } from './charts.js';
