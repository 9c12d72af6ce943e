// The input of the run report: what the engine knows about one run when it ends. Everything
// here is plain data (no Dates, no classes) so the engine can build it from its own state and
// a test can write it as a literal.

import type { MetricType, ValueKind } from '../../metrics/types.js';

/** Latency percentiles of the requests that completed within one interval (ms). */
export interface IntervalLatency {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** One interval of the run (usually 1 s). Counts are for this interval only, not cumulative. */
export interface TimelinePoint {
  /** Milliseconds since the run started. */
  t: number;
  /** Active VUs at the end of the interval. */
  vus: number;
  /** Allocated VUs (k6's vus_max). */
  vusMax: number;
  /** Requests completed in the interval. */
  requests: number;
  failedRequests: number;
  iterations: number;
  droppedIterations: number;
  dataSentBytes: number;
  dataReceivedBytes: number;
  /** Percentiles of this interval's requests only (ms); null when none completed. */
  latency: IntervalLatency | null;
}

/** One point per interval (usually 1 s). */
export interface RunTimeline {
  points: TimelinePoint[];
  /**
   * Length of one interval in ms. Optional: when absent it is the median spacing of `t`
   * (1000 ms for a single point). Rates per second are counts divided by this.
   */
  intervalMs?: number;
}

export type ThresholdUnit = 'ms' | 'bytes' | 'ratio' | 'count';

export interface ThresholdResult {
  /** The metric or sub-metric, e.g. `http_req_duration{name:checkout}`. */
  key: string;
  /** The k6 threshold expression, e.g. `p(95)<500`. */
  expression: string;
  ok: boolean;
  /** The measured value the expression was judged on, in `unit`. */
  value?: number;
  unit: ThresholdUnit;
}

/** One metric of the end-of-test summary, with k6's value keys (avg, p(95), count, rate, …). */
export interface SummaryRow {
  metric: string;
  values: Record<string, number>;
  /** Optional, from the metric's MetricInfo: lets the table print ms, bytes and percentages. */
  type?: MetricType;
  contains?: ValueKind;
}

export interface CheckResult {
  name: string;
  passes: number;
  fails: number;
}

export interface ReportInput {
  title: string;
  testid: string;
  scenario: string;
  gitSha: string;
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  timeline: RunTimeline;
  thresholds: ThresholdResult[];
  summaryRows: SummaryRow[];
  checks: CheckResult[];
  /** Things worth knowing about the run, e.g. "3 of 120 remote-write pushes failed". */
  notes?: string[];
}
