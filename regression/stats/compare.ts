// compareKpi: is a candidate's KPI better, worse or the same as its baseline's?
//
// The run is the unit of replication. Each run gives one estimate of the statistic the KPI names
// (a p95 KPI: the run's p95; a mean: its mean; a rate: its rate), and runs differ from each other
// by more than their requests do (another machine, another data layout, another neighbour). So:
//
//  - the difference tested is the mean of the candidate runs' statistic minus the mean of the
//    baseline runs' statistic;
//  - its variance has two levels. Between runs: estimated from the baseline's runs (≥ 2), or from
//    the KPI's stored history when the baseline has one run. Within a run: when per-request
//    samples exist, each run's own sampling error of the statistic (distribution-free, from the
//    order statistics around the quantile, or s²/n for a mean). Samples sharpen each run's own
//    estimate and nothing more: a run of 10,000 requests is still one run;
//  - the test is Student's t with the degrees of freedom of the between-run estimate, and its
//    interval is the same t interval, so p-value and interval always agree.
//
// A verdict other than "unchanged" needs:
//   1. significance: p < alpha (the interval excludes 0);
//   2. a practical effect: the interval reaches the smallest change that counts,
//      threshold = max(minEffect, noiseMultiple × the KPI's run-to-run CV). The data must not rule
//      out a change of at least that size, so a real 5 % step that measures 4.7 % is still found,
//      while a precisely measured 2 % change stays unchanged at minEffect 5 %. Comparisons use a
//      tolerance of 1e-9, so a change exactly at the threshold does not flip on rounding.
// When there is too little data to judge, the verdict is `insufficient data` with what is missing.
// Direction only decides whether a change is good or bad. No randomness: same input, same output.

import type { Direction, KpiStatistic, Verdict } from '../kpi.js';
import { quantileSorted, sortedCopy } from './descriptive.js';
import { studentCritical, studentTwoSidedP } from './distributions.js';

/** Requests a run needs before its samples are used for its own estimate. */
export const MIN_SAMPLES_PER_RUN = 20;
/** Default multiple of the run-to-run CV below which a change does not count. */
export const DEFAULT_NOISE_MULTIPLE = 2;
/** Fewest history values (earlier runs) to estimate the run-to-run noise when the baseline has one run. */
export const MIN_HISTORY_FOR_NOISE = 3;
/** Tolerance of threshold comparisons: a change at the threshold does not flip on rounding. */
export const THRESHOLD_TOLERANCE = 1e-9;

export type CompareTest = 'two-level' | 'run-level';

export interface CompareKpiInput {
  /** The KPI's value per baseline run (its statistic per run, e.g. each run's p95). */
  baseline: readonly number[];
  /** The KPI's value per candidate run (≥ 1). */
  candidate: readonly number[];
  /**
   * Per-request samples of each baseline run, aligned with `baseline` (one array per run). Used when
   * every run on both sides has ≥ MIN_SAMPLES_PER_RUN samples and the statistic is a quantile or a
   * mean: each run's statistic is then computed from its samples, with its own sampling error.
   */
  baselineSamples?: readonly (readonly number[])[];
  candidateSamples?: readonly (readonly number[])[];
  /** The statistic the KPI names (default 'mean': run values are averaged as they are). */
  statistic?: KpiStatistic;
  /**
   * The KPI's stored values of earlier runs, oldest first, without the candidate. Estimates the
   * run-to-run noise when the baseline has a single run.
   */
  history?: readonly number[];
  direction: Direction;
  /** Smallest relative change that counts, e.g. 0.05 for 5 % (the practical minimum). */
  minEffect: number;
  /** Significance level, e.g. 0.01; the confidence interval is at 1 − alpha. */
  alpha: number;
  /** The threshold is at least this multiple of the run-to-run CV (default 2). */
  noiseMultiple?: number;
}

export interface CompareKpiResult {
  verdict: Verdict;
  /** The statistic compared: 'p95', 'mean', 'rate', … */
  statistic: KpiStatistic;
  /** Candidate value over baseline value minus one: +0.12 means 12 % higher. NaN when unknown. */
  relativeChange: number;
  /** Confidence interval of relativeChange at 1 − alpha ([NaN, NaN] with insufficient data). */
  ci: [number, number];
  pValue: number;
  test: CompareTest;
  /** Mean over the baseline runs of each run's statistic (e.g. their p95). */
  baselineValue: number;
  /** Mean over the candidate runs of each run's statistic. */
  candidateValue: number;
  /** Run-to-run noise of one run's value, relative to the baseline value (NaN when unknown). */
  runToRunCv: number;
  /** The smallest change that counted: max(minEffect, noiseMultiple × runToRunCv). */
  threshold: number;
  /** Where the between-run variation came from. */
  noiseFrom: 'baseline runs' | 'history' | 'none';
  /** Degrees of freedom of the t test (NaN with insufficient data). */
  degreesOfFreedom: number;
  /** With `insufficient data`: what is missing. */
  missing?: string;
  note?: string;
}

function checkValues(field: string, values: unknown, min: number): asserts values is number[] {
  if (!Array.isArray(values)) throw new TypeError(`${field} must be an array of numbers`);
  if (values.length < min) throw new RangeError(`${field} needs at least ${min} value${min === 1 ? '' : 's'}, got ${values.length}`);
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`${field}[${bad}] must be a finite number, got ${String(values[bad])}`);
}

/** (value − reference) / |reference|: value / reference − 1 for positive KPIs, and the right sign for negative ones. */
export function relative(value: number, reference: number): number {
  if (reference === 0) return value === 0 ? 0 : value > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return reference > 0 ? value / reference - 1 : (value - reference) / Math.abs(reference);
}

/** The quantile level a statistic names, or undefined for a mean or a rate. */
export function quantileOf(statistic: KpiStatistic): number | undefined {
  return statistic === 'p50' ? 0.5 : statistic === 'p95' ? 0.95 : statistic === 'p99' ? 0.99 : undefined;
}

/** A run's statistic from its samples, and the variance of that estimate (its own sampling error). */
export function runEstimate(samples: readonly number[], statistic: KpiStatistic): { value: number; variance: number } {
  const n = samples.length;
  const q = quantileOf(statistic);
  if (q === undefined) {
    let sum = 0;
    for (const x of samples) sum += x;
    const mean = sum / n;
    let squares = 0;
    for (const x of samples) squares += (x - mean) * (x - mean);
    return { value: mean, variance: n > 1 ? squares / (n - 1) / n : 0 };
  }
  const sorted = sortedCopy(samples as number[]);
  const value = quantileSorted(sorted, q);
  // Distribution-free: the ranks n·q ± z·√(n·q·(1 − q)) bracket the quantile with probability
  // ≈ 95 %, so (x_upper − x_lower) / (2·1.96) estimates its standard error without assuming a shape.
  const z = 1.959963984540054;
  const half = z * Math.sqrt(n * q * (1 - q));
  const lower = quantileSorted(sorted, Math.max(0, (n * q - half) / n));
  const upper = quantileSorted(sorted, Math.min(1, (n * q + half) / n));
  const se = (upper - lower) / (2 * z);
  return { value, variance: se * se };
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function sampleVariance(values: readonly number[]): number {
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return squares / (values.length - 1);
}

/**
 * Run-to-run variance from a history of run values: half the mean squared successive difference,
 * which a step in the history barely moves (one difference of many), unlike the plain variance.
 */
function historyVariance(history: readonly number[]): number {
  let squares = 0;
  for (let i = 1; i < history.length; i++) squares += ((history[i] as number) - (history[i - 1] as number)) ** 2;
  return squares / (2 * (history.length - 1));
}

export function decideVerdict(
  relativeChange: number,
  ci: readonly [number, number],
  pValue: number,
  direction: Direction,
  threshold: number,
  alpha: number,
): Verdict {
  if (!Number.isFinite(pValue) || Number.isNaN(relativeChange)) return 'unchanged';
  const significant = pValue < alpha && (relativeChange > 0 ? ci[0] > 0 : relativeChange < 0 ? ci[1] < 0 : false);
  // The interval must reach the threshold on the side of the change: the data cannot rule out a
  // change at least that large.
  const reach = relativeChange > 0 ? ci[1] : -ci[0];
  const practical = reach >= threshold - THRESHOLD_TOLERANCE;
  if (!significant || !practical) return 'unchanged';
  const worse = direction === 'lower-is-better' ? relativeChange > 0 : relativeChange < 0;
  return worse ? 'regressed' : 'improved';
}

export function compareKpi(input: CompareKpiInput): CompareKpiResult {
  const { direction, minEffect, alpha } = input;
  const statistic = input.statistic ?? 'mean';
  const noiseMultiple = input.noiseMultiple ?? DEFAULT_NOISE_MULTIPLE;
  if (direction !== 'lower-is-better' && direction !== 'higher-is-better') {
    throw new RangeError(`direction must be 'lower-is-better' or 'higher-is-better', got ${String(direction)}`);
  }
  if (!(Number.isFinite(minEffect) && minEffect >= 0)) throw new RangeError(`minEffect must be a relative change ≥ 0 such as 0.05, got ${minEffect}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be a significance level between 0 and 1, got ${alpha}`);
  if (!(Number.isFinite(noiseMultiple) && noiseMultiple >= 0)) throw new RangeError(`noiseMultiple must be ≥ 0, got ${noiseMultiple}`);
  checkValues('baseline', input.baseline, 0);
  checkValues('candidate', input.candidate, 0);
  if (input.history !== undefined) checkValues('history', input.history, 0);

  // Each run's estimate: from its samples when every run has enough, else the stored run value.
  let baselineRuns: { value: number; variance: number }[] = input.baseline.map((value) => ({ value, variance: 0 }));
  let candidateRuns: { value: number; variance: number }[] = input.candidate.map((value) => ({ value, variance: 0 }));
  let test: CompareTest = 'run-level';
  const notes: string[] = [];
  const { baselineSamples, candidateSamples } = input;
  if (baselineSamples !== undefined || candidateSamples !== undefined) {
    const runs = [...(baselineSamples ?? []), ...(candidateSamples ?? [])];
    runs.forEach((samples, i) => checkValues(`samples of run ${i}`, samples, 0));
    const aligned =
      baselineSamples !== undefined &&
      candidateSamples !== undefined &&
      baselineSamples.length === input.baseline.length &&
      candidateSamples.length === input.candidate.length &&
      baselineSamples.length > 0 &&
      candidateSamples.length > 0;
    const enough = runs.every((samples) => samples.length >= MIN_SAMPLES_PER_RUN);
    if (statistic === 'rate') {
      notes.push('per-request samples do not describe a rate: compared run values');
    } else if (aligned && enough) {
      baselineRuns = baselineSamples.map((samples) => runEstimate(samples, statistic));
      candidateRuns = candidateSamples.map((samples) => runEstimate(samples, statistic));
      test = 'two-level';
    } else {
      const counts = runs.map((s) => s.length);
      notes.push(
        aligned
          ? `per-request samples ignored (fewest in a run: ${Math.min(...counts)}; each run needs ≥ ${MIN_SAMPLES_PER_RUN}): compared run values`
          : 'per-request samples ignored (not one set per run on both sides): compared run values',
      );
    }
  }

  const nb = baselineRuns.length;
  const nc = candidateRuns.length;
  const baselineValue = nb > 0 ? mean(baselineRuns.map((r) => r.value)) : Number.NaN;
  const candidateValue = nc > 0 ? mean(candidateRuns.map((r) => r.value)) : Number.NaN;
  const relativeChange = nb > 0 && nc > 0 ? relative(candidateValue, baselineValue) : Number.NaN;
  const insufficient = (missing: string, noiseFrom: CompareKpiResult['noiseFrom'] = 'none', runToRunCv = Number.NaN): CompareKpiResult => {
    const result: CompareKpiResult = {
      verdict: 'insufficient data',
      statistic,
      relativeChange,
      ci: [Number.NaN, Number.NaN],
      pValue: Number.NaN,
      test,
      baselineValue,
      candidateValue,
      runToRunCv,
      threshold: minEffect,
      noiseFrom,
      degreesOfFreedom: Number.NaN,
      missing,
    };
    if (notes.length) result.note = notes.join('; ');
    return result;
  };
  if (nb === 0) return insufficient('no baseline run carries this KPI');
  if (nc === 0) return insufficient('the candidate has no value of this KPI');

  // Between-run variation: the baseline's runs, or the KPI's history when there is one run.
  const withinBaseline = mean(baselineRuns.map((r) => r.variance));
  const withinCandidate = mean(candidateRuns.map((r) => r.variance));
  let totalVariance: number;
  let df: number;
  let noiseFrom: CompareKpiResult['noiseFrom'];
  if (nb >= 2) {
    totalVariance = sampleVariance(baselineRuns.map((r) => r.value));
    df = nb - 1;
    noiseFrom = 'baseline runs';
  } else {
    const history = input.history ?? [];
    if (history.length < MIN_HISTORY_FOR_NOISE) {
      return insufficient(
        `the run-to-run variation: 1 baseline run and ${history.length} earlier run${history.length === 1 ? '' : 's'} in the KPI's history; ` +
          `needs ≥ 2 baseline runs or ≥ ${MIN_HISTORY_FOR_NOISE} runs of history`,
      );
    }
    totalVariance = historyVariance(history);
    df = history.length - 2;
    noiseFrom = 'history';
  }
  // Samples only sharpen each run's own estimate: the between-run part is what the runs vary by
  // beyond their own sampling error.
  const between = Math.max(0, totalVariance - withinBaseline);
  const runVariance = between + withinBaseline;
  const runToRunCv = baselineValue !== 0 ? Math.sqrt(runVariance) / Math.abs(baselineValue) : Number.NaN;
  const threshold = Math.max(minEffect, Number.isFinite(runToRunCv) ? noiseMultiple * runToRunCv : 0);
  const standardError = Math.sqrt((between + withinBaseline) / nb + (between + withinCandidate) / nc);
  const difference = candidateValue - baselineValue;
  const base = { statistic, relativeChange, test, baselineValue, candidateValue, runToRunCv, threshold, noiseFrom, degreesOfFreedom: df };

  if (!(standardError > 0)) {
    // Every run has the same value and no sampling error: any difference is real, none is noise.
    const pValue = difference === 0 ? 1 : 0;
    const ci: [number, number] = [relativeChange, relativeChange];
    notes.push('no run-to-run variation, so any difference counts as significant');
    return { ...base, verdict: decideVerdict(relativeChange, ci, pValue, direction, threshold, alpha), ci, pValue, note: notes.join('; ') };
  }
  const t = difference / standardError;
  const pValue = studentTwoSidedP(t, df);
  const critical = studentCritical(alpha, df);
  const ends = [relative(candidateValue - critical * standardError, baselineValue), relative(candidateValue + critical * standardError, baselineValue)];
  const ci: [number, number] = [Math.min(...ends), Math.max(...ends)];
  const result: CompareKpiResult = { ...base, verdict: decideVerdict(relativeChange, ci, pValue, direction, threshold, alpha), ci, pValue };
  if (baselineValue === 0) notes.push('the baseline value is 0, so the relative change is not finite');
  if (notes.length) result.note = notes.join('; ');
  return result;
}
