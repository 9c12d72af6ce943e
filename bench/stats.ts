// Latency summaries for the benchmarks, on the order statistics of regression/stats.

import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
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

export interface MedianInterval {
  lower: number;
  upper: number;
  /** The coverage the two order statistics actually give (at least the level asked for), or NaN when there are too few values. */
  level: number;
}

/**
 * A distribution-free confidence interval for the median: the order statistics the sign test
 * gives, x(k) and x(n-k+1) with k the largest rank where P(Binomial(n, 1/2) < k) <= (1 - level) / 2.
 * No assumption about the shape of the values (per-round differences here are skewed by bursts).
 * With too few values for the level (n < 6 at 95 %) both bounds are NaN.
 */
export function medianConfidenceInterval(values: readonly number[], level = 0.95): MedianInterval {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const tail = (1 - level) / 2;
  let k = 0;
  while (k + 1 <= Math.floor(n / 2) && binomialCdf(k, n, 0.5) <= tail) k++;
  if (k === 0) return { lower: Number.NaN, upper: Number.NaN, level: Number.NaN };
  return { lower: sorted[k - 1] as number, upper: sorted[n - k] as number, level: 1 - 2 * binomialCdf(k - 1, n, 0.5) };
}
