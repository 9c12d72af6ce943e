// The input the regression reports render. The statistics and the baseline store fill it;
// the renderers only read it and never compute statistics of their own beyond medians and
// quartiles for display.

import type { Direction, KpiName, KpiStatistic, KpiUnit, RunMetadata, Verdict } from '../kpi.js';

export interface HistoryPoint {
  testid: string;
  startedAt: Date;
  /** The KPI value of that run, in the KPI's unit. */
  value: number;
}

export interface ChangePoint {
  /** Index into `KpiComparison.history`: the first run after the change. */
  index: number;
  pValue: number;
  /** Relative change of the segment after the point vs the one before, e.g. 0.25 for +25 %. */
  relativeChange: number;
  /** A step, a gradual drift (index: where it began) or a transient that came back. */
  kind?: 'step' | 'drift' | 'transient';
}

/** One KPI of one endpoint, candidate run vs baseline runs. */
export interface KpiComparison {
  kpi: KpiName;
  /** Route template for endpoint-level KPIs, '' (RUN_LEVEL) for run-level ones. */
  endpoint: string;
  /** Human label, normally `KPIS[kpi].label`. */
  label: string;
  unit: KpiUnit;
  direction: Direction;
  verdict: Verdict;
  /** (candidate − baseline) / baseline as a fraction: 0.12 means +12 %. */
  relativeChange: number;
  /** Confidence interval of `relativeChange` (same fraction scale) at level 1 − alpha. */
  ci: [number, number];
  pValue: number;
  /**
   * two-level: each run's statistic from its per-request samples, runs as the unit; run-level: the
   * runs' KPI values (mann-whitney and bootstrap are the tests of reports from before 0.2).
   */
  test: 'two-level' | 'run-level' | 'mann-whitney' | 'bootstrap';
  /** The statistic the verdict compared (p95, mean, rate, …); the KPI's own. */
  statistic?: KpiStatistic;
  /** The KPI value of each baseline run. */
  baselineValues: number[];
  /** The baseline's value of the statistic (the mean over its runs); median(baselineValues) when absent. */
  baselineValue?: number;
  /** The candidate's value of the statistic. */
  candidateValue: number;
  /** The smallest change that counted: max(minEffect, noiseMultiple × run-to-run CV). */
  threshold?: number;
  /** The run-to-run CV the threshold used. */
  runToRunCv?: number;
  /** With verdict `insufficient data`: what is missing. */
  missing?: string;
  /** Per-request samples (in the KPI's unit), when the runs recorded them. */
  baselineSamples?: number[];
  candidateSamples?: number[];
  /** In time order, candidate last. */
  history: HistoryPoint[];
  changePoints: ChangePoint[];
  /** Smallest relative change (fraction) that counts as a change. */
  minEffect: number;
  /** Significance level of the test. */
  alpha: number;
}

export interface ComparisonReport {
  candidate: RunMetadata;
  baseline: { description: string; runs: string[] };
  comparisons: KpiComparison[];
  /** Passed in, never read from the clock, so the same input renders the same bytes. */
  generatedAt: Date;
}
