// detectChanges: where did a KPI's history (one value per run, oldest first) change, how (a step, a
// gradual drift, a transient that came back), and by how much. Every change it returns has been
// confirmed; the same input always gives the same output (there is no randomness anywhere).
//
// 1. Robust levels. Each value is clipped to within 3σ of the median of itself and its two
//    neighbours (σ from the median successive difference), so a single outlier run, a heavy tail or
//    an isolated visit to a second mode cannot fake a change, while a step of two or more runs stays.
// 2. Noise. σ² is half the mean squared successive difference of the clipped series (a step moves
//    one difference of many), locally shrunk towards the whole series' value.
// 3. Candidates: seeded binary segmentation (Kovács et al. 2020) with narrowest-over-threshold
//    selection (Baranowski et al. 2019). Intervals of every scale (n, n/2, n/4, …, overlapping by
//    half) are scanned with the standardised CUSUM, in O(1) per split from prefix sums; the largest
//    statistic of an interval is judged against the supremum of a standardised Brownian bridge
//    (closed form, see distributions.ts), Bonferroni-corrected over the intervals of its scale; the
//    narrowest significant interval gives the next change. A short rise that falls back inside a
//    long history is found at its own scale. O(n log n) in all.
// 4. Confirmation, each change against its neighbours (the runs from the previous change to the
//    next), after moving it to the best split between them:
//      - the difference of the clipped means, over the larger of the long-run noise (σ² scaled by
//        the lag-1 autocorrelation ρ of the residuals around the candidates' levels, (1 + ρ)/(1 − ρ)²,
//        so slowly wandering noise is not read as steps) and the spread within the two segments;
//      - a Mann–Whitney rank test on the raw values, so a few extreme runs cannot carry a change;
//      both judged as the maximum over splits (the split was chosen, so it must be stronger than a
//      single test would demand), p = the larger of the two ≤ alpha;
//      - a practical effect: the relative change of the medians must be able to reach
//        threshold = max(minEffect, noiseMultiple × run-to-run CV): |change| + z·SE ≥ threshold.
//    The weakest failing change is dropped and its neighbours judged again, until all pass.
// 5. Classification. Consecutive changes in one direction, or a single one, are refitted as a
//    ramp (flat, linear, flat: both knots searched within RAMP_MARGIN runs of the changes, O(1) per
//    fit from prefix sums); when the ramp explains the runs better by BIC than the steps do, the
//    changes become one `drift` whose index is the first run of the ramp (a Theil–Sen or
//    Mann–Kendall test would say that the level moves; the fit also says where it began). A step
//    followed by one in the other direction that brings the level back (to within a third of the
//    excursion) makes a `transient`, both ends reported; the rest are `step`s.

import { quantileSorted } from './descriptive.js';
import { bridgeScanPValue, normalCdfStd, normalQuantile } from './distributions.js';

export type ChangeKind = 'step' | 'drift' | 'transient';

export interface ChangeOptions {
  /** Significance level of each change (default 0.01). */
  alpha?: number;
  /** Smallest relative change that counts, before noise (default 0.05). */
  minEffect?: number;
  /** The threshold is at least this multiple of the run-to-run CV (default 2). */
  noiseMultiple?: number;
  /** Fewest runs on each side of a change (default 3, at least 2). */
  minSegment?: number;
}

export interface Change {
  /** The first run of the new regime (for a drift: the first run of the ramp). */
  index: number;
  kind: ChangeKind;
  /** Rank-test p-value of the change against its neighbouring segments. */
  pValue: number;
  /** Median of the runs from the previous change (or the start) up to index − 1. */
  before: number;
  /** Median of the runs from index up to the next change (drift: the fitted level where the ramp ends). */
  after: number;
  /** after / before − 1. */
  relativeChange: number;
  /** Drift only: runs over which the level moved. */
  duration?: number;
  /** The smallest change that counted here: max(minEffect, noiseMultiple × run-to-run CV). */
  threshold: number;
}

const CLIP_SIGMAS = 3;
/** Candidates are kept at this multiple of alpha before confirmation (a liberal first pass). */
const CANDIDATE_ALPHA_FACTOR = 5;
/** Ramps are fitted on at most this many runs either side of the changes they replace. */
const RAMP_MARGIN = 60;


function sortNumbers(values: Float64Array): Float64Array {
  return values.sort();
}

function median3(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
}

interface Prepared {
  raw: Float64Array;
  /** Clipped values. */
  w: Float64Array;
  /** MSSD variance of the clipped series (before the autocorrelation factor). */
  sigma2: number;
  /** Long-run variance factor (1 + ρ)/(1 − ρ)². */
  lrFactor: number;
  /** Marginal variance factor 1/(1 − ρ): σ²·this is a run's own variance. */
  marginalFactor: number;
  /** Prefix sums of the clipped values. */
  prefix: Float64Array;
  /** Prefix sums of squared clipped differences: sqDiff[i] = Σ_{k < i} (w[k+1] − w[k])², clipped. */
  sqDiff: Float64Array;
}

function prepare(series: readonly number[]): Prepared {
  const n = series.length;
  const raw = Float64Array.from(series);
  // σ from the median absolute successive difference: robust to steps and outliers.
  const absDiff = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) absDiff[i - 1] = Math.abs((raw[i] as number) - (raw[i - 1] as number));
  const sortedAbs = sortNumbers(Float64Array.from(absDiff));
  let sigmaD = quantileSorted(sortedAbs, 0.5) / (0.6744897501960817 * Math.SQRT2);
  if (!(sigmaD > 0)) {
    // Mostly ties (e.g. an error rate that is usually 0): fall back to the mean absolute difference.
    let sum = 0;
    for (const d of absDiff) sum += d;
    sigmaD = (sum / Math.max(1, absDiff.length)) * 0.886226925452758;
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const centre =
      n < 3
        ? (raw[i] as number)
        : i === 0
          ? median3(raw[0] as number, raw[1] as number, raw[2] as number)
          : i === n - 1
            ? median3(raw[n - 3] as number, raw[n - 2] as number, raw[n - 1] as number)
            : median3(raw[i - 1] as number, raw[i] as number, raw[i + 1] as number);
    const limit = CLIP_SIGMAS * sigmaD;
    const value = raw[i] as number;
    w[i] = value > centre + limit ? centre + limit : value < centre - limit ? centre - limit : value;
  }
  // Differences of the clipped series, themselves clipped so that a step's own jump does not count as noise.
  const diffLimit = CLIP_SIGMAS * Math.SQRT2 * sigmaD;
  const d = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) {
    const x = (w[i] as number) - (w[i - 1] as number);
    d[i - 1] = x > diffLimit ? diffLimit : x < -diffLimit ? -diffLimit : x;
  }
  // Centred on the mean difference, so a steady trend is not counted as noise.
  let dMean = 0;
  for (let i = 0; i < n - 1; i++) dMean += d[i] as number;
  dMean /= Math.max(1, n - 1);
  const sqDiff = new Float64Array(n);
  let squares = 0;
  for (let i = 0; i < n - 1; i++) {
    squares += ((d[i] as number) - dMean) ** 2;
    sqDiff[i + 1] = squares;
  }
  const sigma2 = squares / (2 * Math.max(1, n - 1));
  // Lag-1 autocorrelation of the differences: −½ for independent noise, −(1 − ρ)/2 for AR(1) noise.
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < n - 1; i++) c0 += ((d[i] as number) - dMean) ** 2;
  for (let i = 0; i < n - 2; i++) c1 += ((d[i] as number) - dMean) * ((d[i + 1] as number) - dMean);
  const rd = c0 > 0 ? c1 / c0 : -0.5;
  // Shrunk by two standard errors, so short noise series are not called autocorrelated by chance.
  const rho = Math.min(0.9, Math.max(0, 1 + 2 * rd - 2 * Math.sqrt(2 / Math.max(1, n - 2))));
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (w[i] as number);
  return { raw, w, sigma2, lrFactor: (1 + rho) / ((1 - rho) * (1 - rho)), marginalFactor: 1 / (1 - rho), prefix, sqDiff };
}

interface Candidate {
  index: number;
  pValue: number;
  length: number;
  start: number;
}

/** Largest standardised CUSUM split of the clipped values in [a, b), and its bridge p-value. */
function scanInterval(p: Prepared, a: number, b: number, minSegment: number): { tau: number; pValue: number } {
  const m = b - a;
  const { prefix, sqDiff } = p;
  const total = (prefix[b] as number) - (prefix[a] as number);
  // Local noise, shrunk towards the whole series' (ten pseudo-differences of prior weight).
  const prior = 10;
  const localSquares = (sqDiff[b - 1] as number) - (sqDiff[a] as number);
  const variance = ((localSquares / 2 + prior * p.sigma2) / (m - 1 + prior)) * p.lrFactor;
  if (!(variance > 0)) {
    // No noise at all: any split between different values is a change.
    for (let tau = a + minSegment; tau <= b - minSegment; tau++) {
      const left = ((prefix[tau] as number) - (prefix[a] as number)) / (tau - a);
      const right = ((prefix[b] as number) - (prefix[tau] as number)) / (b - tau);
      if (left !== right) return { tau, pValue: 0 };
    }
    return { tau: -1, pValue: 1 };
  }
  let best = -1;
  let bestZ2 = -1;
  for (let tau = a + minSegment; tau <= b - minSegment; tau++) {
    const k = tau - a;
    const u = (prefix[tau] as number) - (prefix[a] as number) - (k / m) * total;
    const z2 = (u * u * m) / (k * (m - k));
    if (z2 > bestZ2) {
      bestZ2 = z2;
      best = tau;
    }
  }
  if (best < 0) return { tau: -1, pValue: 1 };
  return { tau: best, pValue: bridgeScanPValue(Math.sqrt(bestZ2 / variance), minSegment / m) };
}

function candidates(p: Prepared, minSegment: number, alpha: number): number[] {
  const n = p.w.length;
  const minLength = 2 * minSegment;
  const found: Candidate[] = [];
  for (let length = n; ; length = Math.ceil(length / 2)) {
    const size = Math.max(length, minLength);
    const count = size >= n ? 1 : 2 * Math.ceil(n / size) - 1;
    const levelAlpha = (alpha * size) / n;
    for (let j = 0; j < count; j++) {
      const start = count === 1 ? 0 : Math.floor((j * (n - size)) / (count - 1));
      const scan = scanInterval(p, start, start + size, minSegment);
      // Bonferroni over the intervals of one scale (they overlap by half, so about n/size are independent).
      if (scan.tau >= 0 && scan.pValue <= levelAlpha) found.push({ index: scan.tau, pValue: scan.pValue, length: size, start });
    }
    if (size <= minLength) break;
  }
  // Narrowest over threshold: the narrowest significant interval names a change; intervals that
  // contain a named change are then spent.
  found.sort((x, y) => x.length - y.length || x.pValue - y.pValue || x.start - y.start);
  const chosen: number[] = [];
  for (const candidate of found) {
    const end = candidate.start + candidate.length;
    let spent = false;
    for (const c of chosen) {
      if (c > candidate.start && c < end) {
        spent = true;
        break;
      }
    }
    if (!spent) chosen.push(candidate.index);
  }
  chosen.sort((x, y) => x - y);
  // Changes closer than minSegment: keep the first (confirmation sorts out the rest).
  const spaced: number[] = [];
  for (const c of chosen) if (spaced.length === 0 || c - (spaced[spaced.length - 1] as number) >= minSegment) spaced.push(c);
  return spaced.filter((c) => c >= minSegment && c <= n - minSegment);
}

/**
 * The autocorrelation again, from the residuals around the candidates' segments: a change itself
 * makes neighbouring differences look correlated, residuals around the levels do not.
 */
function withResidualAutocorrelation(p: Prepared, found: readonly number[]): Prepared {
  const n = p.w.length;
  const edges = [0, ...found, n];
  const residuals = new Float64Array(n);
  for (let k = 0; k + 1 < edges.length; k++) {
    const a = edges[k] as number;
    const b = edges[k + 1] as number;
    const level = ((p.prefix[b] as number) - (p.prefix[a] as number)) / (b - a);
    for (let i = a; i < b; i++) residuals[i] = (p.w[i] as number) - level;
  }
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < n; i++) c0 += (residuals[i] as number) ** 2;
  for (let k = 0; k + 1 < edges.length; k++) {
    for (let i = (edges[k] as number) + 1; i < (edges[k + 1] as number); i++) c1 += (residuals[i] as number) * (residuals[i - 1] as number);
  }
  // Residuals around fitted means bias the lag-1 autocorrelation low by about one per segment over
  // n. No residual noise at all is no evidence of autocorrelation.
  const rho = c0 > 0 ? Math.min(0.9, Math.max(0, c1 / c0 + (edges.length - 1) / n)) : 0;
  return { ...p, lrFactor: (1 + rho) / ((1 - rho) * (1 - rho)), marginalFactor: 1 / (1 - rho) };
}

function medianOf(values: Float64Array, from: number, to: number): number {
  return quantileSorted(Float64Array.from(values.subarray(from, to)).sort(), 0.5);
}

/** Mann–Whitney z of the runs [b, c) against [a, b), ties averaged. */
function rankZ(raw: Float64Array, a: number, b: number, c: number): number {
  const m = c - a;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = a + i;
  order.sort((x, y) => (raw[x] as number) - (raw[y] as number) || x - y);
  let rankSumRight = 0;
  let tieTerm = 0;
  for (let start = 0; start < m; ) {
    let end = start + 1;
    const value = raw[order[start] as number] as number;
    while (end < m && raw[order[end] as number] === value) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if ((order[k] as number) >= b) rankSumRight += averageRank;
    const ties = end - start;
    if (ties > 1) tieTerm += ties * ties * ties - ties;
    start = end;
  }
  const n1 = b - a;
  const n2 = c - b;
  const u = rankSumRight - (n2 * (n2 + 1)) / 2;
  const variance = ((n1 * n2) / 12) * (m + 1 - tieTerm / (m * (m - 1)));
  if (!(variance > 0)) return 0;
  return (u - (n1 * n2) / 2) / Math.sqrt(variance);
}

interface Judged {
  index: number;
  pValue: number;
  before: number;
  after: number;
  relativeChange: number;
  threshold: number;
  /** |change| + z·SE − threshold (≥ 0 passes). */
  reach: number;
  passes: boolean;
}

/** (after − before) / |before|: the sign always says which way the level moved. */
function relativeOf(after: number, before: number): number {
  if (before === 0) return after === 0 ? 0 : after > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return (after - before) / Math.abs(before);
}

function judge(p: Prepared, a: number, b: number, c: number, settings: Settings): Judged {
  const { raw } = p;
  const before = medianOf(raw, a, b);
  const after = medianOf(raw, b, c);
  const relativeChange = relativeOf(after, before);
  const m = c - a;
  // Local noise (clipped differences on both sides, not across the change), shrunk towards the series'.
  const squares = (p.sqDiff[b - 1] as number) - (p.sqDiff[a] as number) + (p.sqDiff[c - 1] as number) - (p.sqDiff[b] as number);
  const pairs = m - 2;
  const prior = 10;
  const sigma2 = (squares / 2 + prior * p.sigma2) / (pairs + prior);
  const meanA = ((p.prefix[b] as number) - (p.prefix[a] as number)) / (b - a);
  const meanB = ((p.prefix[c] as number) - (p.prefix[b] as number)) / (c - b);
  // The noise of a mean: the long-run variance, or the spread within the two segments when that is
  // larger (a second mode that runs visit now and then is spread, not a change).
  let within = 0;
  for (let i = a; i < c; i++) {
    const v = (p.w[i] as number) - (i < b ? meanA : meanB);
    within += v * v;
  }
  within /= Math.max(1, m - 2);
  const variance = Math.max(sigma2 * p.lrFactor, within);
  const zValues = variance > 0 ? (meanB - meanA) / Math.sqrt(variance * (1 / (b - a) + 1 / (c - b))) : meanB === meanA ? 0 : Number.POSITIVE_INFINITY;
  const zRanks = rankZ(raw, a, b, c) / Math.sqrt(p.lrFactor);
  // The rank test guards the value test against a few extreme runs; it is judged as a scan over
  // splits at least as unbalanced as this one, so a short stretch picked out of a long history
  // must be correspondingly stronger.
  const rankP = bridgeScanPValue(Math.abs(zRanks), Math.min(b - a, c - b) / m);
  const pValue = Math.max(bridgeScanPValue(Math.abs(zValues), settings.minSegment / m), rankP);
  const level = Math.abs(before);
  const cv = level > 0 ? Math.sqrt(sigma2 * p.marginalFactor) / level : Number.POSITIVE_INFINITY;
  const threshold = Math.max(settings.minEffect, settings.noiseMultiple * (Number.isFinite(cv) ? cv : 0));
  // Standard error of a difference of medians (efficiency π/2 against means) under long-run noise.
  const se = level > 0 ? (1.2533141373155 * Math.sqrt(sigma2 * p.lrFactor * (1 / (b - a) + 1 / (c - b)))) / level : 0;
  const reach = Math.abs(relativeChange) + settings.z * se - threshold;
  const passes = pValue <= settings.alpha + 1e-12 && reach >= -1e-9 && relativeChange !== 0;
  return { index: b, pValue, before, after, relativeChange, threshold, reach, passes };
}

interface Settings {
  alpha: number;
  minEffect: number;
  noiseMultiple: number;
  minSegment: number;
  z: number;
}

/** Moves each change to the best split between its neighbours (standardised CUSUM of the clipped values). */
function refine(p: Prepared, points: number[], minSegment: number): void {
  const n = p.w.length;
  for (let i = 0; i < points.length; i++) {
    const a = i === 0 ? 0 : (points[i - 1] as number);
    const c = i === points.length - 1 ? n : (points[i + 1] as number);
    const m = c - a;
    const total = (p.prefix[c] as number) - (p.prefix[a] as number);
    let best = points[i] as number;
    let bestZ2 = -1;
    for (let tau = a + minSegment; tau <= c - minSegment; tau++) {
      const k = tau - a;
      const u = (p.prefix[tau] as number) - (p.prefix[a] as number) - (k / m) * total;
      const z2 = (u * u * m) / (k * (m - k));
      if (z2 > bestZ2 + 1e-12 * Math.abs(bestZ2)) {
        bestZ2 = z2;
        best = tau;
      }
    }
    points[i] = best;
  }
}

function confirm(p: Prepared, found: number[], settings: Settings): Judged[] {
  const n = p.raw.length;
  const points = [...found];
  refine(p, points, settings.minSegment);
  refine(p, points, settings.minSegment);
  const judgeAt = (i: number): Judged => judge(p, i === 0 ? 0 : (points[i - 1] as number), points[i] as number, i === points.length - 1 ? n : (points[i + 1] as number), settings);
  let judged = points.map((_, i) => judgeAt(i));
  for (;;) {
    let weakest = -1;
    for (let i = 0; i < judged.length; i++) {
      const j = judged[i] as Judged;
      if (j.passes) continue;
      if (weakest < 0) {
        weakest = i;
        continue;
      }
      const w = judged[weakest] as Judged;
      // Not significant first (largest p), then the smallest effect.
      const jSignificant = j.pValue <= settings.alpha;
      const wSignificant = w.pValue <= settings.alpha;
      if (jSignificant !== wSignificant ? !jSignificant : jSignificant ? j.reach < w.reach : j.pValue > w.pValue) weakest = i;
    }
    if (weakest < 0) {
      const before = points.join(',');
      refine(p, points, settings.minSegment);
      if (points.join(',') === before) return judged;
      judged = points.map((_, i) => judgeAt(i));
      continue;
    }
    points.splice(weakest, 1);
    judged.splice(weakest, 1);
    if (weakest - 1 >= 0) judged[weakest - 1] = judgeAt(weakest - 1);
    if (weakest < points.length) judged[weakest] = judgeAt(weakest);
  }
}

/** SSE of a piecewise-constant fit of w over [from, to) with the given breaks. */
function stepSse(w: Float64Array, from: number, to: number, breaks: readonly number[]): number {
  let sse = 0;
  const edges = [from, ...breaks, to];
  for (let k = 0; k + 1 < edges.length; k++) {
    let sum = 0;
    let squares = 0;
    const a = edges[k] as number;
    const b = edges[k + 1] as number;
    for (let i = a; i < b; i++) {
      const v = w[i] as number;
      sum += v;
      squares += v * v;
    }
    sse += squares - (sum * sum) / (b - a);
  }
  return sse;
}

/** The best flat–linear–flat fit of w over [from, to): the ramp's first run s and its length L. */
function bestRamp(w: Float64Array, from: number, to: number, firstBreak: number, lastBreak: number, minSegment: number) {
  const m = to - from;
  // Prefix sums over local time t = i − from.
  const c1 = new Float64Array(m + 1);
  const c2 = new Float64Array(m + 1);
  const cy = new Float64Array(m + 1);
  const cty = new Float64Array(m + 1);
  let yy = 0;
  for (let t = 0; t < m; t++) {
    const y = w[from + t] as number;
    c1[t + 1] = (c1[t] as number) + t;
    c2[t + 1] = (c2[t] as number) + t * t;
    cy[t + 1] = (cy[t] as number) + y;
    cty[t + 1] = (cty[t] as number) + t * y;
    yy += y * y;
  }
  const sy = cy[m] as number;
  const syyCentred = yy - (sy * sy) / m;
  let best = { start: -1, length: 0, sse: Number.POSITIVE_INFINITY, beta0: 0, beta1: 0, gEnd: 0 };
  // The ramp must span the changes it replaces: it starts at most RAMP_MARGIN runs before the first
  // and ends at most RAMP_MARGIN runs after the last (or runs on past the end of the history).
  const first = firstBreak - from;
  const last = lastBreak - from;
  const sMin = Math.max(minSegment - 1, 1, first - RAMP_MARGIN);
  for (let s = sMin; s <= first; s++) {
    const lMin = Math.max(3, last - s + 1);
    const lMax = last - s + RAMP_MARGIN;
    for (let L = lMin; L <= lMax; L++) {
      const e = Math.min(s + L, m);
      const cnt = e - s;
      const st = (c1[e] as number) - (c1[s] as number);
      const st2 = (c2[e] as number) - (c2[s] as number);
      const syr = (cy[e] as number) - (cy[s] as number);
      const styr = (cty[e] as number) - (cty[s] as number);
      const o = s - 1;
      // Inside the ramp g = (t − o)/L; after it g = 1.
      const after = m - e;
      const sg = (st - o * cnt) / L + after;
      const sgg = (st2 - 2 * o * st + o * o * cnt) / (L * L) + after;
      const sgy = (styr - o * syr) / L + ((cy[m] as number) - (cy[e] as number));
      const sggC = sgg - (sg * sg) / m;
      if (!(sggC > 0)) continue;
      const sgyC = sgy - (sg * sy) / m;
      const sse = syyCentred - (sgyC * sgyC) / sggC;
      if (sse < best.sse) {
        const beta1 = sgyC / sggC;
        const beta0 = (sy - beta1 * sg) / m;
        const gEnd = Math.min(1, (m - 1 - o) / L);
        best = { start: from + s, length: L, sse, beta0, beta1, gEnd };
      }
    }
  }
  return best;
}

function classify(p: Prepared, judged: Judged[], settings: Settings): Change[] {
  const n = p.raw.length;
  const changes: Change[] = [];
  let i = 0;
  while (i < judged.length) {
    // A run of consecutive changes in one direction.
    let j = i;
    const sign = Math.sign((judged[i] as Judged).relativeChange);
    while (j + 1 < judged.length && Math.sign((judged[j + 1] as Judged).relativeChange) === sign) j++;
    const group = judged.slice(i, j + 1);
    const first = group[0] as Judged;
    const last = group[group.length - 1] as Judged;
    const outerFrom = i === 0 ? 0 : (judged[i - 1] as Judged).index;
    const outerTo = j + 1 < judged.length ? (judged[j + 1] as Judged).index : n;
    const from = Math.max(outerFrom, first.index - RAMP_MARGIN);
    const to = Math.min(outerTo, last.index + RAMP_MARGIN);
    const breaks = group.map((g) => g.index);
    const m = to - from;
    const ramp = bestRamp(p.w, from, to, first.index, last.index, settings.minSegment);
    const steps = stepSse(p.w, from, to, breaks);
    const floor = 1e-12 * m * (p.sigma2 + 1e-300);
    const bic = (sse: number, parameters: number) => m * Math.log(Math.max(sse, floor) / m) + parameters * Math.log(m);
    if (ramp.start >= 0 && ramp.length >= 4 && bic(ramp.sse, 4) < bic(steps, 2 * breaks.length + 1)) {
      const before = medianOf(p.raw, outerFrom, ramp.start);
      const after = ramp.beta0 + ramp.beta1 * ramp.gEnd;
      const pValue = Math.min(...group.map((g) => g.pValue));
      changes.push({
        index: ramp.start,
        kind: 'drift',
        pValue,
        before,
        after,
        relativeChange: relativeOf(after, before),
        duration: Math.min(ramp.length, n - ramp.start),
        threshold: Math.max(...group.map((g) => g.threshold)),
      });
    } else {
      for (const g of group) {
        changes.push({ index: g.index, kind: 'step', pValue: g.pValue, before: g.before, after: g.after, relativeChange: g.relativeChange, threshold: g.threshold });
      }
    }
    i = j + 1;
  }
  // A step followed by one that brings the level back (within a third of the excursion) is a transient.
  for (let k = 0; k + 1 < changes.length; k++) {
    const up = changes[k] as Change;
    const down = changes[k + 1] as Change;
    if (up.kind !== 'step' || down.kind !== 'step' || Math.sign(up.relativeChange) === Math.sign(down.relativeChange)) continue;
    const rise = up.after - up.before;
    if (Math.abs(down.after - up.before) <= Math.abs(rise) / 3) {
      up.kind = 'transient';
      down.kind = 'transient';
      k++;
    }
  }
  return changes;
}

function checkSeries(series: readonly number[]): void {
  if (!Array.isArray(series)) throw new TypeError('series must be an array of numbers');
  const bad = series.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`series[${bad}] must be a finite number, got ${String(series[bad])}`);
}

/** Confirmed, classified changes of `series` (oldest first); see the file header. */
export function detectChanges(series: readonly number[], options: ChangeOptions = {}): Change[] {
  const alpha = options.alpha ?? 0.01;
  const minEffect = options.minEffect ?? 0.05;
  const noiseMultiple = options.noiseMultiple ?? 2;
  const minSegment = options.minSegment ?? 3;
  checkSeries(series);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got ${alpha}`);
  if (!(Number.isFinite(minEffect) && minEffect >= 0)) throw new RangeError(`minEffect must be ≥ 0, got ${minEffect}`);
  if (!(Number.isFinite(noiseMultiple) && noiseMultiple >= 0)) throw new RangeError(`noiseMultiple must be ≥ 0, got ${noiseMultiple}`);
  if (!Number.isInteger(minSegment) || minSegment < 2) throw new RangeError(`minSegment must be an integer ≥ 2, got ${minSegment}`);
  if (series.length < 2 * minSegment) return [];
  const settings: Settings = { alpha, minEffect, noiseMultiple, minSegment, z: normalQuantile(1 - alpha / 2) };
  const prepared = prepare(series);
  // Candidates are found liberally (no autocorrelation allowance); the confirmation then uses the
  // autocorrelation of the residuals around them.
  const found = candidates({ ...prepared, lrFactor: 1 }, minSegment, Math.min(0.5, alpha * CANDIDATE_ALPHA_FACTOR));
  const judged = confirm(withResidualAutocorrelation(prepared, found), found, settings);
  return classify(prepared, judged, settings);
}

