import { promNumber, type Labels } from './format.js';

// Building blocks for promtool input series. Every alert's fixtures are computed from the
// same config thresholds as its expression, so a changed threshold moves the tests with it.

/** One promtool `input_series` entry. */
export interface InputSeries {
  series: string;
  values: string;
}

/** All fixtures are sampled once a minute; builders get the number of samples to cover the test. */
export const FIXTURE_INTERVAL_MINUTES = 1;

/** How far past a threshold "just above" and "just below" go (10 %), so float noise never decides a test. */
const MARGIN = 0.1;

function seriesName(metric: string, labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `${metric}{${pairs.join(',')}}`;
}

/** A series that keeps one value for every sample. */
export function gauge(metric: string, labels: Labels, value: number, samples: number): InputSeries {
  return { series: seriesName(metric, labels), values: `${promNumber(value)}+0x${samples}` };
}

/** A series that changes by `perSample` each sample, starting at `start` (a counter, or a draining gauge). */
export function linear(metric: string, labels: Labels, start: number, perSample: number, samples: number): InputSeries {
  const step = perSample < 0 ? `-${promNumber(-perSample)}` : `+${promNumber(perSample)}`;
  return { series: seriesName(metric, labels), values: `${promNumber(start)}${step}x${samples}` };
}

/** A counter that grows by `perSample` each sample, from zero. */
export function counter(metric: string, labels: Labels, perSample: number, samples: number): InputSeries {
  return linear(metric, labels, 0, perSample, samples);
}

/** A value strictly above `threshold` by about 10 %, but never reaching `ceiling` (the next tier, or 1 for ratios). */
export function justAbove(threshold: number, ceiling = Infinity): number {
  if (threshold >= ceiling) throw new Error(`no value lies above ${threshold} and below ${ceiling}`);
  const above = threshold === 0 ? MARGIN : threshold * (1 + MARGIN);
  return Math.min(above, (threshold + ceiling) / 2);
}

/** A value strictly below `threshold` by about 10 %, but above `floor` (the next lower tier, or 0). */
export function justBelow(threshold: number, floor = 0): number {
  if (threshold <= floor) throw new Error(`no value lies below ${threshold} and above ${floor}`);
  return Math.max(threshold * (1 - MARGIN), (threshold + floor) / 2);
}

/** Histogram bucket `(lower, upper]` whose every observation is above `threshold`. */
export function bucketAbove(buckets: readonly number[], threshold: number, what: string): { lower: number; upper: number } {
  const index = buckets.findIndex((bound) => bound >= threshold);
  const lower = buckets[index];
  const upper = buckets[index + 1];
  if (index < 0 || lower === undefined || upper === undefined) {
    throw new Error(`${what}: ${threshold}s leaves no finite histogram bucket above it (buckets ${buckets.join(', ')})`);
  }
  return { lower, upper };
}

/** Histogram bucket `(lower, upper]` whose every observation is at or below `threshold`. */
export function bucketAtOrBelow(buckets: readonly number[], threshold: number, what: string): { lower: number; upper: number } {
  const below = buckets.filter((bound) => bound <= threshold);
  const upper = below[below.length - 1];
  if (upper === undefined) throw new Error(`${what}: ${threshold}s is below the smallest histogram bucket (${buckets[0]})`);
  return { lower: buckets[below.length - 2] ?? 0, upper };
}

/** `le` label text as client libraries write it. */
export function leLabel(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

/**
 * A histogram (`_bucket` for every bound plus +Inf, `_count`, `_sum`) that receives, each sample,
 * `perSample[i].count` observations of `perSample[i].seconds` (an exact value, placed in its bucket).
 */
export function histogram(
  metric: string,
  labels: Labels,
  buckets: readonly number[],
  perSample: readonly { seconds: number; count: number }[],
  samples: number,
): InputSeries[] {
  const observedUpTo = (bound: number) => perSample.filter((o) => o.seconds <= bound).reduce((sum, o) => sum + o.count, 0);
  const total = perSample.reduce((sum, o) => sum + o.count, 0);
  const sum = perSample.reduce((s, o) => s + o.count * o.seconds, 0);
  return [
    ...[...buckets, Infinity].map((bound) => counter(`${metric}_bucket`, { ...labels, le: leLabel(bound) }, observedUpTo(bound), samples)),
    counter(`${metric}_count`, labels, total, samples),
    counter(`${metric}_sum`, labels, sum, samples),
  ];
}

/**
 * Observations per sample (`total` of them) whose histogram_quantile(q) is exactly `target`:
 * a share at or below the target's bucket, a share inside it, and the rest above it, so that
 * the interpolated rank lands on `target`. Lets latency fixtures sit just above or below an SLA.
 */
export function quantileMix(buckets: readonly number[], q: number, target: number, total: number, what: string): { seconds: number; count: number }[] {
  const index = buckets.findIndex((bound) => bound >= target);
  const hi = buckets[index];
  if (index < 0 || hi === undefined) throw new Error(`${what}: ${target}s is above the largest histogram bucket (${buckets.join(', ')})`);
  const lo = index > 0 ? buckets[index - 1]! : 0;
  const position = (target - lo) / (hi - lo);
  // below: observations at lo (counted in le=lo); inside: at hi; above: past hi.
  const [below, inside] = q >= position && position < 1 ? [(q - position) / (1 - position), (1 - q) / (1 - position)] : [0, q / position];
  if (below > 0 && lo === 0) throw new Error(`${what}: ${target}s is in the first histogram bucket; no fixture can place the quantile there`);
  const above = 1 - below - inside;
  const beyond = buckets[index + 1] ?? hi * 2;
  return [
    { seconds: lo, count: below * total },
    { seconds: hi, count: inside * total },
    { seconds: beyond, count: above * total },
  ].filter((o) => o.count > 1e-9);
}

/** A counter that is 0 and steps to 1 at sample `at`: increase() over a window that holds the step is exactly 1. */
export function stepCounter(metric: string, labels: Labels, at: number, samples: number): InputSeries {
  const before = Array.from({ length: at }, () => '0').join(' ');
  return { series: seriesName(metric, labels), values: `${before}${before ? ' ' : ''}1+0x${Math.max(samples - at, 0)}` };
}

/** A counter that counts one event every `every` samples: increase() over a window of `every` samples is exactly 1. */
export function sparseCounter(metric: string, labels: Labels, every: number, samples: number): InputSeries {
  const blocks = Math.ceil((samples + 1) / every);
  const values = Array.from({ length: blocks }, (_, k) => (every === 1 ? `${k}` : `${k}x${every - 1}`)).join(' ');
  return { series: seriesName(metric, labels), values };
}
