// Mann–Whitney U (Wilcoxon rank-sum) test, two-sided, by the normal approximation with tie and
// continuity corrections. O((n + m) log(n + m)): one sort of the pooled samples.

import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

export interface MannWhitneyResult {
  /** U of the second sample (the candidate): how often one of its values beats a first-sample value. */
  u: number;
  /** Standardised U after the continuity correction (0 when there is no spread at all). */
  z: number;
  pValue: number;
}

export function mannWhitney(first: readonly number[], second: readonly number[]): MannWhitneyResult {
  const n1 = first.length;
  const n2 = second.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitney needs at least one value on each side');
  const total = n1 + n2;
  const values = new Float64Array(total);
  values.set(first, 0);
  values.set(second, n1);
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));

  // Average ranks for ties; Σ(t³ − t) over tie groups for the variance correction.
  let rankSumSecond = 0;
  let tieTerm = 0;
  for (let start = 0; start < total; ) {
    let end = start + 1;
    const value = values[order[start] as number] as number;
    while (end < total && values[order[end] as number] === value) end++;
    const ties = end - start;
    const averageRank = (start + 1 + end) / 2; // ranks start .. end-1 are 1-based start+1 .. end
    for (let k = start; k < end; k++) if ((order[k] as number) >= n1) rankSumSecond += averageRank;
    if (ties > 1) tieTerm += ties * ties * ties - ties;
    start = end;
  }

  const u = rankSumSecond - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (!(variance > 0)) return { u, z: 0, pValue: 1 };
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  const pValue = Math.min(1, 2 * (1 - normalCdf(z, 0, 1)));
  return { u, z: Math.sign(u - mean) * z, pValue };
}
