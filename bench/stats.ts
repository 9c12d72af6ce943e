// Latency summaries for the benchmarks, on the order statistics of regression/stats.

import { median, quantileSorted } from '../regression/index.js';

// One implementation of the order statistics serves the regression detector and the benchmarks.
export { median, quantileSorted };

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
