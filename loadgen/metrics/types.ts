// The engine's metric model, shared by the k6 modules that emit samples, the aggregation that
// keeps them, the thresholds that judge them and the outputs that publish them. It follows k6's
// model: four metric types, a value kind, and string tags on every sample.

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
/** What a value measures: plain numbers, milliseconds, or bytes (k6's `contains`). */
export type ValueKind = 'default' | 'time' | 'data';
export type Tags = Readonly<Record<string, string>>;

/** One metric as k6 defines it: a name, a type and a value kind. */
export interface MetricInfo {
  name: string;
  type: MetricType;
  contains: ValueKind;
}

/** Percentiles and moments of a trend (times in milliseconds, as k6 keeps them). */
export interface TrendReader {
  readonly count: number;
  readonly sum: number;
  /** NaN when count is 0. */
  readonly min: number;
  readonly max: number;
  /** The p-th percentile, 0 ≤ p ≤ 100; NaN when count is 0. */
  percentile(p: number): number;
}

/** One series (metric + tag set) as it stands at a moment: what remote-write publishes. */
export interface SeriesSnapshot {
  metric: MetricInfo;
  tags: Tags;
  /** counter: the total so far. */
  counter?: number;
  /** gauge: the last value. */
  gauge?: number;
  /** rate: non-zero samples and all samples so far. */
  rate?: { passes: number; total: number };
  /** trend: every sample so far, cumulative since the start of the run (as k6's remote-write output). */
  trend?: TrendReader;
}

/**
 * The statistics of one metric or sub-metric over the whole run, keyed as in k6's end-of-test
 * summary `values`: counter {count, rate}, gauge {value, min, max}, rate {rate, passes, fails},
 * trend {avg, min, med, max, p(90), p(95), …}.
 */
export type SummaryValues = Record<string, number>;
