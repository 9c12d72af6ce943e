// compareKpi: is a candidate's KPI better, worse or the same as its baseline's?
//
// Two paths, chosen by the data available:
//  - per-request samples on both sides (≥ 20 each): Mann–Whitney U for the p-value, and a seeded
//    bootstrap of the relative change of the medians for the confidence interval;
//  - run-level values (one KPI value per run, baseline ≥ 2 runs, candidate ≥ 1 run): the difference
//    of medians, studentised by a pooled robust spread, with its null distribution and confidence
//    interval from a seeded parametric bootstrap (see runLevelTest below).
// A verdict other than "unchanged" needs p < alpha, a confidence interval that excludes 0, and a
// relative change larger than minEffect. Direction only decides whether a change is good or bad.

import type { Direction, Verdict } from '../kpi.js';
import { median, quantileSorted, sortedCopy } from './descriptive.js';
import { mannWhitney } from './mann-whitney.js';
import { createRandom, DEFAULT_SEED } from './random.js';

/** Per-request samples per side needed before the rank test is used. */
export const MIN_SAMPLES_FOR_RANK_TEST = 20;
export const DEFAULT_RESAMPLES = 2000;

export interface CompareKpiInput {
  /** The KPI's value per baseline run (≥ 2 when there are no per-request samples). */
  baseline: number[];
  /** The KPI's value per candidate run (≥ 1). */
  candidate: number[];
  /** Per-request samples of the baseline (e.g. latencies); used with candidateSamples when both have ≥ 20. */
  baselineSamples?: number[];
  candidateSamples?: number[];
  direction: Direction;
  /** Smallest relative change that counts, e.g. 0.05 for 5 %. */
  minEffect: number;
  /** Significance level, e.g. 0.01; the confidence interval is at 1 − alpha. */
  alpha: number;
  /** PRNG seed of the bootstrap (a fixed default keeps results deterministic). */
  seed?: number;
  /** Bootstrap replicates (default 2000). */
  resamples?: number;
}

export interface CompareKpiResult {
  verdict: Verdict;
  /** Candidate centre relative to baseline centre, signed: +0.12 means 12 % higher. */
  relativeChange: number;
  /** Confidence interval of relativeChange at 1 − alpha. */
  ci: [number, number];
  pValue: number;
  test: 'mann-whitney' | 'bootstrap';
  /** Medians: of per-request samples on the Mann–Whitney path, of run values otherwise. */
  baselineCentre: number;
  candidateCentre: number;
  note?: string;
}

function checkValues(field: string, values: unknown, min: number): asserts values is number[] {
  if (!Array.isArray(values)) throw new TypeError(`${field} must be an array of numbers`);
  if (values.length < min) throw new RangeError(`${field} needs at least ${min} value${min === 1 ? '' : 's'}, got ${values.length}`);
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`${field}[${bad}] must be a finite number, got ${String(values[bad])}`);
}

function relative(candidate: number, baseline: number): number {
  if (baseline === 0) return candidate === 0 ? 0 : candidate > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return candidate / baseline - 1;
}

export function decideVerdict(
  relativeChange: number,
  ci: readonly [number, number],
  pValue: number,
  direction: Direction,
  minEffect: number,
  alpha: number,
): Verdict {
  const ciExcludesZeroSameSide = relativeChange > 0 ? ci[0] > 0 : relativeChange < 0 ? ci[1] < 0 : false;
  if (!(pValue < alpha) || !ciExcludesZeroSameSide || !(Math.abs(relativeChange) > minEffect)) return 'unchanged';
  const higher = relativeChange > 0;
  const worse = direction === 'lower-is-better' ? higher : !higher;
  return worse ? 'regressed' : 'improved';
}

export function compareKpi(input: CompareKpiInput): CompareKpiResult {
  const { direction, minEffect, alpha } = input;
  if (direction !== 'lower-is-better' && direction !== 'higher-is-better') {
    throw new RangeError(`direction must be 'lower-is-better' or 'higher-is-better', got ${String(direction)}`);
  }
  if (!(Number.isFinite(minEffect) && minEffect >= 0)) throw new RangeError(`minEffect must be a relative change ≥ 0 such as 0.05, got ${minEffect}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be a significance level between 0 and 1, got ${alpha}`);
  const seed = input.seed ?? DEFAULT_SEED;
  const resamples = input.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 100) throw new RangeError(`resamples must be an integer ≥ 100, got ${resamples}`);

  const { baselineSamples, candidateSamples } = input;
  let note: string | undefined;
  if (baselineSamples !== undefined || candidateSamples !== undefined) {
    if (baselineSamples !== undefined) checkValues('baselineSamples', baselineSamples, 0);
    if (candidateSamples !== undefined) checkValues('candidateSamples', candidateSamples, 0);
    const nb = baselineSamples?.length ?? 0;
    const nc = candidateSamples?.length ?? 0;
    if (baselineSamples && candidateSamples && nb >= MIN_SAMPLES_FOR_RANK_TEST && nc >= MIN_SAMPLES_FOR_RANK_TEST) {
      return samplesTest(baselineSamples, candidateSamples, input, seed, resamples);
    }
    note = `per-request samples ignored (${nb} baseline, ${nc} candidate; the rank test needs ≥ ${MIN_SAMPLES_FOR_RANK_TEST} on each side): compared run values instead`;
  }
  checkValues('baseline', input.baseline, 2);
  checkValues('candidate', input.candidate, 1);
  const result = runLevelTest(input.baseline, input.candidate, input, seed, resamples);
  if (note) result.note = result.note ? `${note}; ${result.note}` : note;
  return result;
}

// --- per-request samples --------------------------------------------------------------------------

/**
 * The median of a bootstrap resample of n sorted values, drawn in O(1): the resample's median is
 * the empirical quantile at rank fraction ½ + Z/(2√n), Z standard normal (the number of resampled
 * values below any point is Binomial(n, p), so the median's rank fraction is ≈ N(½, 1/(4n)) for
 * n ≥ 20). Exact resampling would cost O(n) per replicate, too slow for 10⁵-request runs.
 */
function bootstrapMedian(sorted: Float64Array, z: number): number {
  return quantileSorted(sorted, 0.5 + z / (2 * Math.sqrt(sorted.length)));
}

function samplesTest(
  baselineSamples: number[],
  candidateSamples: number[],
  input: CompareKpiInput,
  seed: number,
  resamples: number,
): CompareKpiResult {
  const sortedBaseline = sortedCopy(baselineSamples);
  const sortedCandidate = sortedCopy(candidateSamples);
  const baselineCentre = quantileSorted(sortedBaseline, 0.5);
  const candidateCentre = quantileSorted(sortedCandidate, 0.5);
  const relativeChange = relative(candidateCentre, baselineCentre);
  const { pValue } = mannWhitney(baselineSamples, candidateSamples);

  const random = createRandom(seed);
  const changes = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) {
    changes[i] = relative(bootstrapMedian(sortedCandidate, random.normal()), bootstrapMedian(sortedBaseline, random.normal()));
  }
  changes.sort();
  const ci: [number, number] = [quantileSorted(changes, input.alpha / 2), quantileSorted(changes, 1 - input.alpha / 2)];
  const result: CompareKpiResult = {
    verdict: decideVerdict(relativeChange, ci, pValue, input.direction, input.minEffect, input.alpha),
    relativeChange,
    ci,
    pValue,
    test: 'mann-whitney',
    baselineCentre,
    candidateCentre,
  };
  if (baselineCentre === 0) result.note = 'the baseline median is 0, so the relative change is not finite';
  return result;
}

// --- run-level values -----------------------------------------------------------------------------

/**
 * The robust studentised difference of medians: (median(c) − median(b)) / (s·√(1/nb + 1/nc)), with
 * s the mean absolute deviation of every run from its own side's median, pooled over both sides.
 * Medians keep one odd run from moving the centre; an odd run can only inflate s, which makes the
 * test more cautious, never more alarmed.
 */
function studentise(baseline: ArrayLike<number>, candidate: ArrayLike<number>, baselineCentre: number, candidateCentre: number) {
  let deviations = 0;
  for (let i = 0; i < baseline.length; i++) deviations += Math.abs((baseline[i] as number) - baselineCentre);
  for (let i = 0; i < candidate.length; i++) deviations += Math.abs((candidate[i] as number) - candidateCentre);
  const spread = deviations / (baseline.length + candidate.length);
  const standardError = spread * Math.sqrt(1 / baseline.length + 1 / candidate.length);
  return { standardError, t: (candidateCentre - baselineCentre) / standardError };
}

const nullCache = new Map<string, Float64Array>();

/**
 * The null distribution of the studentised statistic for nb baseline and nc candidate runs, sorted:
 * the statistic is location- and scale-free, so its distribution under "both sides are draws from
 * one normal distribution" is the same for every KPI and can be simulated once with N(0, 1) draws
 * (a parametric bootstrap) and cached. Unlike a permutation test it can reach p < 0.01 with a single
 * candidate run against five baseline runs; unlike resampling the runs themselves it does not
 * pretend five runs show the whole spread of the noise (that called 11 % of pure-noise 5-vs-1
 * comparisons significant at alpha 0.01 in a trial).
 */
function studentisedNull(nb: number, nc: number, resamples: number, seed: number): Float64Array {
  const key = `${nb}:${nc}:${resamples}:${seed}`;
  const cached = nullCache.get(key);
  if (cached) return cached;
  const random = createRandom(seed);
  const baseline = new Float64Array(nb);
  const candidate = new Float64Array(nc);
  const draws = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) {
    for (let k = 0; k < nb; k++) baseline[k] = random.normal();
    for (let k = 0; k < nc; k++) candidate[k] = random.normal();
    const b = Float64Array.from(baseline).sort();
    const c = Float64Array.from(candidate).sort();
    draws[i] = studentise(b, c, quantileSorted(b, 0.5), quantileSorted(c, 0.5)).t;
  }
  draws.sort();
  if (nullCache.size > 256) nullCache.clear();
  nullCache.set(key, draws);
  return draws;
}

function runLevelTest(baseline: number[], candidate: number[], input: CompareKpiInput, seed: number, resamples: number): CompareKpiResult {
  const baselineCentre = median(baseline);
  const candidateCentre = median(candidate);
  const difference = candidateCentre - baselineCentre;
  const relativeChange = relative(candidateCentre, baselineCentre);
  const base = { test: 'bootstrap' as const, baselineCentre, candidateCentre, relativeChange };
  const { alpha, direction, minEffect } = input;
  const { standardError, t } = studentise(baseline, candidate, baselineCentre, candidateCentre);

  if (!(standardError > 0)) {
    // Every run on each side has the same value: any difference is real, none is noise.
    const pValue = difference === 0 ? 1 : 0;
    const ci: [number, number] = [relativeChange, relativeChange];
    return {
      ...base,
      verdict: decideVerdict(relativeChange, ci, pValue, direction, minEffect, alpha),
      ci,
      pValue,
      note: 'no run-to-run variation on either side, so any difference counts as significant',
    };
  }

  const draws = studentisedNull(baseline.length, candidate.length, resamples, seed);
  let asExtreme = 0;
  const observed = Math.abs(t);
  for (const draw of draws) if (Math.abs(draw) >= observed) asExtreme++;
  const pValue = (asExtreme + 1) / (resamples + 1);
  // Inverting the same test: the shift δ is plausible when (difference − δ)/SE lies within the
  // null's central 1 − alpha, so the interval and the p-value always agree on significance.
  const lower = difference - quantileSorted(draws, 1 - alpha / 2) * standardError;
  const upper = difference - quantileSorted(draws, alpha / 2) * standardError;
  const ends = [relative(baselineCentre + lower, baselineCentre), relative(baselineCentre + upper, baselineCentre)];
  const ci: [number, number] = [Math.min(...ends), Math.max(...ends)];
  const result: CompareKpiResult = { ...base, verdict: decideVerdict(relativeChange, ci, pValue, direction, minEffect, alpha), ci, pValue };
  if (baselineCentre === 0) result.note = 'the baseline median is 0, so the relative change is not finite';
  return result;
}
