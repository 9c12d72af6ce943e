// Order statistics shared by the regression statistics and the benchmarks.

/**
 * The q-quantile (0 ≤ q ≤ 1) of values already sorted ascending, interpolating linearly between
 * closest ranks (Hyndman & Fan type 7, the default of R and NumPy). NaN when empty.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/** The median of unsorted values (NaN when empty). */
export function median(values: readonly number[]): number {
  return quantileSorted(sortedCopy(values), 0.5);
}
