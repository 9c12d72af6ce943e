// E-divisive means change-point detection (Matteson & James 2014, "A nonparametric approach for
// multiple change point analysis of multivariate data"), the method Apache Otava (formerly Hunter)
// applies to performance history, here for univariate series with the distance exponent 1.
//
// For a split of a segment into A (before) and B (after) the energy statistic is
//   Q = |A||B|/(|A|+|B|) · ( 2·mean|a − b| − mean|a − a'| − mean|b − b'| ),
// large when the two sides come from different distributions (any difference, not only the mean).
// The split with the largest Q is kept when a permutation test says so (the segment's values are
// shuffled `permutations` times and rescanned; p = (1 + #{Q* ≥ Q}) / (1 + permutations) ≤ alpha); then both
// sides are searched again, recursively. Finally change points that move the median of the runs
// either side by less than minMagnitude are dropped, smallest first, merging their segments.
//
// Cost. Pairwise sums Σ|x − y| are kept incrementally with a rank-indexed Fenwick tree (adding a
// value costs O(log m)), so one pass forwards and one backwards score every split of an m-point
// segment in O(m log m), instead of O(m²) per split (O(m³) per scan) done naively. A test costs up
// to (permutations + 1) scans; a test that can no longer reach alpha stops early (once
// 1 + #{Q* ≥ Q} > alpha·(1 + permutations)), so segments without a change cost only a few scans.
// Without a window, each level of the recursion costs O(permutations · n log n) for the segments
// that hold a change: with k changes, O(permutations · n log n · depth), depth between log₂ k and k.
//
// `window` bounds the longest stretch analysed at once, for speed on long histories (as Otava's
// window does): the series is cut into windows of `window` points overlapping by half, each window
// is segmented on its own, and a change found by two windows is kept once. That makes the cost
// O(permutations · n log window · depth within a window), linear in n, and keeps each comparison
// local: a change is judged against the runs around it, not against the series' whole past. A
// change needs ≥ minSegment points on both sides inside some window, so window ≳ 4 × minSegment.

import { median } from './descriptive.js';
import { createRandom, DEFAULT_SEED, type Random } from './random.js';

export interface ChangePointOptions {
  /** Significance level of each split's permutation test, p ≤ alpha (default 0.01). */
  alpha?: number;
  /** Smallest relative change of the medians either side that is reported (default 0.05). */
  minMagnitude?: number;
  /** Longest stretch analysed at once (windows overlap by half); default: the whole series. */
  window?: number;
  /** Permutations per test (default 199, so p can go down to 0.005). */
  permutations?: number;
  /** PRNG seed of the permutations (a fixed default keeps results deterministic). */
  seed?: number;
  /** Fewest points on each side of a split (default 3, at least 2). */
  minSegment?: number;
}

export interface ChangePoint {
  /** Index of the first point of the new regime. */
  index: number;
  /** Permutation p-value of the split when it was found. */
  pValue: number;
  /** Median of the points from the previous change point (or the start) up to index − 1. */
  before: number;
  /** Median of the points from index up to the next change point (or the end). */
  after: number;
  /** after / before − 1. */
  relativeChange: number;
}

/**
 * Σ |x − y| over all pairs of a growing multiset. Values are added by their rank in the segment,
 * and a Fenwick tree over ranks gives the count and sum of the values below a rank in O(log m).
 */
class PairSums {
  private readonly count: Int32Array;
  private readonly sum: Float64Array;
  private size = 0;
  private total = 0;
  /** Σ |x − y| over the pairs added so far. */
  pairs = 0;

  constructor(private readonly capacity: number) {
    this.count = new Int32Array(capacity + 1);
    this.sum = new Float64Array(capacity + 1);
  }

  reset(): void {
    this.count.fill(0);
    this.sum.fill(0);
    this.size = 0;
    this.total = 0;
    this.pairs = 0;
  }

  /** Adds `value`, whose distinct rank within the segment is `rank` (0-based). */
  add(value: number, rank: number): void {
    let lessCount = 0;
    let lessSum = 0;
    for (let i = rank; i > 0; i -= i & -i) {
      lessCount += this.count[i] as number;
      lessSum += this.sum[i] as number;
    }
    // |value − y| summed: below it value·count − sum, above it sum − value·count.
    this.pairs += value * lessCount - lessSum + (this.total - lessSum) - value * (this.size - lessCount);
    for (let i = rank + 1; i <= this.capacity; i += i & -i) {
      this.count[i] = (this.count[i] as number) + 1;
      this.sum[i] = (this.sum[i] as number) + value;
    }
    this.size++;
    this.total += value;
  }
}

export interface Split {
  /** Points before the split (the split's index within the segment); −1 when none fits. */
  tau: number;
  q: number;
}

/** Scans every split of a segment in O(m log m); reusable across permutations of its values. */
class SplitScanner {
  private readonly sums: PairSums;
  /** prefix[τ] = Σ|x − y| over pairs within values[0, τ); suffix[τ] likewise within values[τ, m). */
  private readonly prefix: Float64Array;
  private readonly suffix: Float64Array;

  constructor(
    readonly values: Float64Array,
    readonly ranks: Int32Array,
    private readonly minSegment: number,
  ) {
    this.sums = new PairSums(values.length);
    this.prefix = new Float64Array(values.length + 1);
    this.suffix = new Float64Array(values.length + 1);
  }

  best(): Split {
    const { values, ranks, prefix, suffix, sums, minSegment } = this;
    const m = values.length;
    sums.reset();
    for (let i = 0; i < m; i++) {
      sums.add(values[i] as number, ranks[i] as number);
      prefix[i + 1] = sums.pairs;
    }
    sums.reset();
    for (let i = m - 1; i >= 0; i--) {
      sums.add(values[i] as number, ranks[i] as number);
      suffix[i] = sums.pairs;
    }
    const all = prefix[m] as number;
    let best: Split = { tau: -1, q: Number.NEGATIVE_INFINITY };
    for (let tau = minSegment; tau <= m - minSegment; tau++) {
      const nA = tau;
      const nB = m - tau;
      const withinA = prefix[tau] as number;
      const withinB = suffix[tau] as number;
      const between = all - withinA - withinB;
      const energy = (2 * between) / (nA * nB) - (2 * withinA) / (nA * (nA - 1)) - (2 * withinB) / (nB * (nB - 1));
      const q = ((nA * nB) / (nA + nB)) * energy;
      if (q > best.q) best = { tau, q };
    }
    return best;
  }
}

/** Distinct ranks 0..m−1 of values (ties broken by position; equal values add 0 either way). */
function ranksOf(values: Float64Array): Int32Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
  const ranks = new Int32Array(values.length);
  order.forEach((index, rank) => {
    ranks[index] = rank;
  });
  return ranks;
}

/**
 * The energy statistic Q of the best split of `values` and its permutation p-value. Exported for
 * tests and benchmarks; most callers want changePoints().
 */
export function bestSplit(
  values: Float64Array,
  options: { minSegment: number; permutations: number; alpha: number; random: Random },
): { tau: number; q: number; pValue: number; permutationsRun: number } {
  const ranks = ranksOf(values);
  const observed = new SplitScanner(values, ranks, options.minSegment).best();
  if (observed.tau < 0) return { tau: -1, q: Number.NaN, pValue: 1, permutationsRun: 0 };

  const shuffledValues = new Float64Array(values.length);
  const shuffledRanks = new Int32Array(values.length);
  const scanner = new SplitScanner(shuffledValues, shuffledRanks, options.minSegment);
  const order = Int32Array.from({ length: values.length }, (_, i) => i);
  // A Monte Carlo test that rejects when p = (1 + #{Q* ≥ Q}) / (1 + permutations) ≤ alpha has size
  // exactly alpha when alpha·(1 + permutations) is a whole number (0.01 · 200 = 2: Q must beat all
  // but at most one of 199 shuffles). Stop as soon as that can no longer happen.
  const allowed = options.alpha * (options.permutations + 1) + 1e-9;
  let asLarge = 0;
  let run = 0;
  while (run < options.permutations) {
    options.random.shuffle(order);
    for (let i = 0; i < order.length; i++) {
      shuffledValues[i] = values[order[i] as number] as number;
      shuffledRanks[i] = ranks[order[i] as number] as number;
    }
    run++;
    if (scanner.best().q >= observed.q) asLarge++;
    if (1 + asLarge > allowed) break; // p can no longer reach alpha
  }
  return { tau: observed.tau, q: observed.q, pValue: (1 + asLarge) / (1 + run), permutationsRun: run };
}

function relativeChange(after: number, before: number): number {
  if (before === 0) return after === 0 ? 0 : after > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return after / before - 1;
}

function describe(series: readonly number[], found: { index: number; pValue: number }[]): ChangePoint[] {
  return found.map(({ index, pValue }, i) => {
    const start = i === 0 ? 0 : (found[i - 1] as { index: number }).index;
    const end = i === found.length - 1 ? series.length : (found[i + 1] as { index: number }).index;
    const before = median(series.slice(start, index));
    const after = median(series.slice(index, end));
    return { index, pValue, before, after, relativeChange: relativeChange(after, before) };
  });
}

function isSignificant(pValue: number, alpha: number): boolean {
  return pValue <= alpha + 1e-12;
}

interface Candidate {
  index: number;
  pValue: number;
  /** Distance to the nearer edge of the window it was found in. */
  margin: number;
}

/** Binary segmentation of series[start, end), breadth first so the PRNG is used in a fixed order. */
function segment(
  series: readonly number[],
  start: number,
  end: number,
  test: { minSegment: number; permutations: number; alpha: number; random: Random },
  into: Candidate[],
): void {
  const queue: [number, number][] = [[start, end]];
  while (queue.length > 0) {
    const [from, to] = queue.shift() as [number, number];
    if (to - from < 2 * test.minSegment) continue;
    const split = bestSplit(Float64Array.from(series.slice(from, to)), test);
    if (split.tau < 0 || !isSignificant(split.pValue, test.alpha)) continue;
    const index = from + split.tau;
    into.push({ index, pValue: split.pValue, margin: Math.min(index - start, end - index) });
    queue.push([from, index], [index, to]);
  }
}

/** Change points of `series` (oldest first), by E-divisive means; see the file header. */
export function changePoints(series: readonly number[], options: ChangePointOptions = {}): ChangePoint[] {
  const alpha = options.alpha ?? 0.01;
  const minMagnitude = options.minMagnitude ?? 0.05;
  const permutations = options.permutations ?? 199;
  const minSegment = options.minSegment ?? 3;
  const window = options.window ?? Number.POSITIVE_INFINITY;
  if (!Array.isArray(series)) throw new TypeError('series must be an array of numbers');
  const bad = series.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`series[${bad}] must be a finite number, got ${String(series[bad])}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got ${alpha}`);
  if (!(Number.isFinite(minMagnitude) && minMagnitude >= 0)) throw new RangeError(`minMagnitude must be ≥ 0, got ${minMagnitude}`);
  if (!Number.isInteger(permutations) || permutations < 1) throw new RangeError(`permutations must be a positive integer, got ${permutations}`);
  if (!Number.isInteger(minSegment) || minSegment < 2) throw new RangeError(`minSegment must be an integer ≥ 2, got ${minSegment}`);
  if (!(window === Number.POSITIVE_INFINITY || (Number.isInteger(window) && window >= 2 * minSegment))) {
    throw new RangeError(`window must be an integer ≥ 2·minSegment (${2 * minSegment}), got ${window}`);
  }
  const random = createRandom(options.seed ?? DEFAULT_SEED);
  const test = { minSegment, permutations, alpha, random };

  // Windows of `window` points overlapping by half (the whole series when window is unset), each
  // segmented on its own; a change found by two windows is kept once, from the window where it
  // lies further from the edge (lower p first).
  const candidates: Candidate[] = [];
  const n = series.length;
  const step = Math.max(1, Math.floor(window / 2));
  for (let start = 0; ; start += step) {
    const end = Math.min(n, start + window);
    segment(series, start, end, test, candidates);
    if (end >= n) break;
  }
  candidates.sort((a, b) => a.index - b.index || a.pValue - b.pValue || b.margin - a.margin);
  const found: Candidate[] = [];
  for (const candidate of candidates) {
    const last = found[found.length - 1];
    if (last && candidate.index - last.index < minSegment) {
      if (candidate.pValue < last.pValue || (candidate.pValue === last.pValue && candidate.margin > last.margin)) found[found.length - 1] = candidate;
    } else {
      found.push(candidate);
    }
  }

  // Drop changes too small to matter, smallest first; neighbours then span the merged segment.
  for (;;) {
    const described = describe(series, found);
    let weakest = -1;
    for (let i = 0; i < described.length; i++) {
      const magnitude = Math.abs((described[i] as ChangePoint).relativeChange);
      if (magnitude < minMagnitude && (weakest < 0 || magnitude < Math.abs((described[weakest] as ChangePoint).relativeChange))) weakest = i;
    }
    if (weakest < 0) return described;
    found.splice(weakest, 1);
  }
}
