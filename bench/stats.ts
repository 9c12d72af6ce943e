// Small statistics helpers shared by the benchmarks (latency percentiles of raw samples). The
// regression statistics live in regression/stats; these few lines are all the benchmarks need.

/**
 * The q-quantile (0 ≤ q ≤ 1) of samples that are already sorted ascending, by linear
 * interpolation between closest ranks (Hyndman & Fan type 7, the default of R and NumPy).
 * Returns NaN for an empty array.
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

/** The median of unsorted samples (NaN when empty). */
export function median(samples: readonly number[]): number {
  return quantileSorted([...samples].sort((a, b) => a - b), 0.5);
}

export interface LatencySummary {
  /** Successful samples the figures below are computed from. */
  samples: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** p50/p95/p99/mean/min/max of latency samples in milliseconds (all NaN when there are none). */
export function summariseLatencies(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const n = sorted.length;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    samples: n,
    minMs: n ? (sorted[0] as number) : Number.NaN,
    p50Ms: quantileSorted(sorted, 0.5),
    p95Ms: quantileSorted(sorted, 0.95),
    p99Ms: quantileSorted(sorted, 0.99),
    meanMs: n ? sum / n : Number.NaN,
    maxMs: n ? (sorted[n - 1] as number) : Number.NaN,
  };
}
