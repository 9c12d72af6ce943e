import type { PerfstackConfig } from '../config/index.js';
import { KPIS, RUN_LEVEL, isKpiName, type KpiName, type RunMetadata } from './kpi.js';
import { compareKpi, changePoints, MIN_SAMPLES_FOR_RANK_TEST } from './stats/index.js';
import type { BaselineStore, RunWithKpis } from './store/index.js';
import type { ComparisonReport, KpiComparison } from './report/index.js';
import type { PublishedVerdict } from './publish.js';

// One candidate run against its baseline, KPI by KPI: the statistics decide, the store supplies
// the runs and the history, and the result feeds the reports, the published verdicts and the exit code.

/** Runs of history shown per KPI and searched for change points. */
const HISTORY_RUNS = 50;
/** Fewest history points before change points are looked for. */
const MIN_HISTORY_FOR_CHANGE_POINTS = 8;

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
  /** KPIs that could not be judged, and why (too few baseline runs with that KPI). */
  skipped: { kpi: string; endpoint: string; reason: string }[];
  regressed: boolean;
}

function sensitivity(config: PerfstackConfig, kpi: KpiName): { minEffect: number; alpha: number } {
  const override = config.regression.kpis[kpi];
  return { minEffect: override?.minEffect ?? config.regression.minEffect, alpha: override?.alpha ?? config.regression.alpha };
}

function key(kpi: string, endpoint: string): string {
  return `${kpi}\u0000${endpoint}`;
}

async function samplesOf(store: BaselineStore, testid: string, kpi: KpiName, endpoint: string): Promise<number[] | undefined> {
  const stored = await store.samples(testid, kpi, endpoint);
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
  const baselineByKpi = new Map<string, number[]>();
  for (const run of baselineRuns) {
    for (const value of run.kpis) {
      const values = baselineByKpi.get(key(value.kpi, value.endpoint)) ?? [];
      values.push(value.value);
      baselineByKpi.set(key(value.kpi, value.endpoint), values);
    }
  }

  const comparisons: KpiComparison[] = [];
  const verdicts: PublishedVerdict[] = [];
  const skipped: CompareOutcome['skipped'] = [];
  const description = options.pinned ? `pinned baseline ${options.pinned}` : `last ${lastN} runs on ${baselineBranch}`;
  for (const value of await store.kpiValues(testid)) {
    if (!isKpiName(value.kpi)) continue;
    const definition = KPIS[value.kpi];
    const baseline = baselineByKpi.get(key(value.kpi, value.endpoint)) ?? [];
    const baselineSamples = (
      await Promise.all(baselineRuns.map((run) => samplesOf(store, run.testid, value.kpi, value.endpoint)))
    ).filter((s): s is number[] => s !== undefined);
    const candidateSamples = await samplesOf(store, testid, value.kpi, value.endpoint);
    const pooled = baselineSamples.length === baselineRuns.length ? baselineSamples.flat() : undefined;
    // The rank test needs enough requests on both sides; otherwise fall back to run values.
    const enoughSamples = pooled !== undefined && candidateSamples !== undefined && pooled.length >= MIN_SAMPLES_FOR_RANK_TEST && candidateSamples.length >= MIN_SAMPLES_FOR_RANK_TEST;
    const pooledBaselineSamples = enoughSamples ? pooled : undefined;
    if (baseline.length < 2 && !enoughSamples) {
      const samplesNote = candidateSamples ? `, and fewer than ${MIN_SAMPLES_FOR_RANK_TEST} requests on a side` : '';
      skipped.push({ kpi: value.kpi, endpoint: value.endpoint, reason: `${baseline.length} baseline run(s) carry it; 2 are needed${samplesNote}` });
      continue;
    }
    const { minEffect, alpha } = sensitivity(config, value.kpi);
    const result = compareKpi({
      baseline,
      candidate: [value.value],
      baselineSamples: pooledBaselineSamples,
      candidateSamples: enoughSamples ? candidateSamples : undefined,
      direction: definition.direction,
      minEffect,
      alpha,
    });
    const stored = await store.kpiHistory(candidate.scenario, value.kpi, value.endpoint, { branch: baselineBranch, limit: HISTORY_RUNS });
    const history = stored.filter((point) => point.testid !== testid);
    history.push({ testid, startedAt: candidate.startedAt, value: value.value });
    const series = history.map((point) => point.value);
    const found = series.length >= MIN_HISTORY_FOR_CHANGE_POINTS ? changePoints(series, { alpha, minMagnitude: minEffect }) : [];
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
      baselineValues: baseline,
      candidateValue: value.value,
      ...(pooledBaselineSamples && candidateSamples ? { baselineSamples: pooledBaselineSamples, candidateSamples } : {}),
      history,
      changePoints: found.map((point) => ({ index: point.index, pValue: point.pValue, relativeChange: point.relativeChange })),
      minEffect,
      alpha,
    });
    verdicts.push({
      scenario: candidate.scenario,
      testid,
      baseline: description,
      kpi: value.kpi,
      endpoint: value.endpoint === RUN_LEVEL ? '' : value.endpoint,
      verdict: result.verdict,
      // The centres the test compared (medians of requests, or of run values), so the published
      // pair always agrees with the published relative change.
      candidateValue: result.candidateCentre,
      baselineValue: result.baselineCentre,
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
