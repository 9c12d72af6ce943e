import type { PerfstackConfig } from '../config/index.js';
import { KPIS, RUN_LEVEL, isKpiName, type KpiName, type RunMetadata } from './kpi.js';
import { compareKpi, detectRegressionInHistory } from './stats/index.js';
import type { BaselineStore, RunWithKpis } from './store/index.js';
import type { ComparisonReport, KpiComparison } from './report/index.js';
import type { PublishedVerdict } from './publish.js';

// One candidate run against its baseline, KPI by KPI: the statistics decide, the store supplies
// the runs and the history, and the result feeds the reports, the published verdicts and the exit code.

/** Runs of history shown per KPI, searched for changes, and used for the noise of a one-run baseline. */
const HISTORY_RUNS = 50;

export class CompareInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'CompareInputError';
  }
}

export interface CompareOutcome {
  report: ComparisonReport;
  verdicts: PublishedVerdict[];
  /** KPIs whose verdict is `insufficient data`, and what is missing (they are in the report too). */
  skipped: { kpi: string; endpoint: string; reason: string }[];
  regressed: boolean;
}

export interface Sensitivity {
  minEffect: number;
  alpha: number;
  noiseMultiple: number;
}

export function sensitivity(config: PerfstackConfig, kpi: string): Sensitivity {
  const override = isKpiName(kpi) ? config.regression.kpis[kpi] : undefined;
  return {
    minEffect: override?.minEffect ?? config.regression.minEffect,
    alpha: override?.alpha ?? config.regression.alpha,
    noiseMultiple: override?.noiseMultiple ?? config.regression.noiseMultiple,
  };
}

/**
 * The KPI whose stored per-request samples describe this KPI's requests: every latency quantile of
 * an endpoint is a statistic of the same request durations (stored under latency_p95).
 */
const SAMPLES_OF: Partial<Record<KpiName, KpiName>> = { latency_p50: 'latency_p95', latency_p95: 'latency_p95', latency_p99: 'latency_p95' };

function key(kpi: string, endpoint: string): string {
  return `${kpi}\u0000${endpoint}`;
}

async function samplesOf(store: BaselineStore, testid: string, kpi: KpiName, endpoint: string): Promise<number[] | undefined> {
  const source = SAMPLES_OF[kpi];
  if (!source) return undefined;
  const stored = await store.samples(testid, source, endpoint);
  return stored?.kind === 'samples' ? stored.samples : undefined;
}

/** Compares run `testid` with its baseline: the last N runs of its scenario on the baseline branch, or a pinned run. */
export async function compareRun(
  store: BaselineStore,
  config: PerfstackConfig,
  testid: string,
  options: { pinned?: string; generatedAt?: Date } = {},
): Promise<CompareOutcome> {
  const candidate = await store.getRun(testid);
  if (!candidate) throw new CompareInputError('testid', `no stored run with testid "${testid}"; import it first (perfstack import)`);
  const { baselineRuns: lastN, baselineBranch } = config.regression;
  const baselineRuns: RunWithKpis[] = options.pinned
    ? await store.baselineRuns(candidate.scenario, { pinned: options.pinned, candidate: testid })
    : await store.baselineRuns(candidate.scenario, { branch: baselineBranch, lastN, candidate: testid });
  if (baselineRuns.length === 0) {
    throw new CompareInputError(
      'baseline',
      options.pinned
        ? `pinned baseline "${options.pinned}" has no runs of scenario ${candidate.scenario}`
        : `no earlier runs of scenario ${candidate.scenario} on branch ${baselineBranch} to compare with`,
    );
  }
  const comparisons: KpiComparison[] = [];
  const verdicts: PublishedVerdict[] = [];
  const skipped: CompareOutcome['skipped'] = [];
  const description = options.pinned ? `pinned baseline ${options.pinned}` : `last ${lastN} runs on ${baselineBranch}`;
  for (const value of await store.kpiValues(testid)) {
    if (!isKpiName(value.kpi)) continue;
    const definition = KPIS[value.kpi];
    // The baseline runs that carry this KPI, each with its own value (and samples, when stored).
    const carrying = baselineRuns
      .map((run) => ({ run, kpi: run.kpis.find((k) => key(k.kpi, k.endpoint) === key(value.kpi, value.endpoint)) }))
      .filter((entry): entry is { run: RunWithKpis; kpi: NonNullable<typeof entry.kpi> } => entry.kpi !== undefined);
    const baseline = carrying.map((entry) => entry.kpi.value);
    const baselineSamples = await Promise.all(carrying.map((entry) => samplesOf(store, entry.run.testid, value.kpi, value.endpoint)));
    const candidateSamples = await samplesOf(store, testid, value.kpi, value.endpoint);
    const withSamples = candidateSamples !== undefined && baselineSamples.length > 0 && baselineSamples.every((s) => s !== undefined);
    const stored = await store.kpiHistory(candidate.scenario, value.kpi, value.endpoint, { branch: baselineBranch, limit: HISTORY_RUNS });
    const history = stored.filter((point) => point.testid !== testid);
    const earlier = history.map((point) => point.value);
    history.push({ testid, startedAt: candidate.startedAt, value: value.value });
    const { minEffect, alpha, noiseMultiple } = sensitivity(config, value.kpi);
    const result = compareKpi({
      baseline,
      candidate: [value.value],
      ...(withSamples ? { baselineSamples: baselineSamples as number[][], candidateSamples: [candidateSamples] } : {}),
      statistic: definition.statistic,
      history: earlier,
      direction: definition.direction,
      minEffect,
      alpha,
      noiseMultiple,
    });
    if (result.verdict === 'insufficient data') skipped.push({ kpi: value.kpi, endpoint: value.endpoint, reason: result.missing ?? 'too little data' });
    // The same detector as `perfstack history`, on the history the report plots.
    const found = detectRegressionInHistory(
      history.map((point) => point.value),
      { direction: definition.direction, minEffect, alpha, noiseMultiple },
    ).changes;
    comparisons.push({
      kpi: value.kpi,
      endpoint: value.endpoint,
      label: definition.label,
      unit: definition.unit,
      direction: definition.direction,
      verdict: result.verdict,
      relativeChange: result.relativeChange,
      ci: result.ci,
      pValue: result.pValue,
      test: result.test,
      statistic: result.statistic,
      baselineValues: baseline,
      baselineValue: result.baselineValue,
      candidateValue: result.candidateValue,
      threshold: result.threshold,
      ...(Number.isFinite(result.runToRunCv) ? { runToRunCv: result.runToRunCv } : {}),
      ...(result.missing ? { missing: result.missing } : {}),
      ...(withSamples ? { baselineSamples: (baselineSamples as number[][]).flat(), candidateSamples } : {}),
      history,
      changePoints: found.map((change) => ({ index: change.index, pValue: change.pValue, relativeChange: change.relativeChange, kind: change.kind })),
      minEffect,
      alpha,
    });
    verdicts.push({
      scenario: candidate.scenario,
      testid,
      baseline: description,
      branch: candidate.branch,
      kpi: value.kpi,
      endpoint: value.endpoint === RUN_LEVEL ? '' : value.endpoint,
      statistic: result.statistic,
      verdict: result.verdict,
      // The values of the statistic the test compared (each run's p95, mean or rate; the baseline's
      // averaged over its runs), so the published pair always agrees with the published change.
      candidateValue: result.candidateValue,
      baselineValue: result.baselineValue,
      relativeChange: result.relativeChange,
    });
  }
  const candidateMeta: RunMetadata = { ...candidate, k6Version: candidate.k6Version ?? 'unknown' };
  return {
    report: {
      candidate: candidateMeta,
      baseline: { description, runs: baselineRuns.map((run) => run.testid) },
      comparisons,
      generatedAt: options.generatedAt ?? new Date(),
    },
    verdicts,
    skipped,
    regressed: comparisons.some((c) => c.verdict === 'regressed'),
  };
}
