// detectRegressionInHistory: where in a KPI's run history (oldest first) did it get worse?
// E-divisive finds the change points; each is then confirmed by compareKpi between the runs just
// before it (at most baselineRuns) and the runs from it to the next change point.

import type { Direction, Verdict } from '../kpi.js';
import { compareKpi, type CompareKpiResult } from './compare.js';
import { changePoints, type ChangePoint, type ChangePointOptions } from './edivisive.js';

export interface HistoryOptions extends Omit<ChangePointOptions, 'minMagnitude' | 'alpha'> {
  direction: Direction;
  /** Smallest relative change that counts, for both the change points and the comparison (default 0.05). */
  minEffect?: number;
  /** Significance level of both tests (default 0.01). */
  alpha?: number;
  /** Runs before a change point used as its baseline (default 5, as regression.baselineRuns). */
  baselineRuns?: number;
}

export interface HistoryChange extends ChangePoint {
  /** compareKpi's verdict for the runs after the change against those before it. */
  verdict: Verdict;
  comparison: CompareKpiResult;
  /** Runs from the change point to the end of the series, including the change point. */
  runsSince: number;
}

export interface HistoryResult {
  changes: HistoryChange[];
  /** The most recent change whose verdict is regressed, if any. */
  latestRegression?: HistoryChange;
}

export function detectRegressionInHistory(series: readonly number[], options: HistoryOptions): HistoryResult {
  const minEffect = options.minEffect ?? 0.05;
  const alpha = options.alpha ?? 0.01;
  const baselineRuns = options.baselineRuns ?? 5;
  if (!Number.isInteger(baselineRuns) || baselineRuns < 2) throw new RangeError(`baselineRuns must be an integer ≥ 2, got ${baselineRuns}`);
  const { direction, baselineRuns: _b, minEffect: _m, alpha: _a, ...rest } = options;
  const points = changePoints(series, { ...rest, alpha, minMagnitude: minEffect });
  const changes = points.map((point, i): HistoryChange => {
    const previous = i === 0 ? 0 : (points[i - 1] as ChangePoint).index;
    const next = i === points.length - 1 ? series.length : (points[i + 1] as ChangePoint).index;
    const comparison = compareKpi({
      baseline: series.slice(Math.max(previous, point.index - baselineRuns), point.index),
      candidate: series.slice(point.index, next),
      direction,
      minEffect,
      alpha,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    return { ...point, verdict: comparison.verdict, comparison, runsSince: series.length - point.index };
  });
  const regressions = changes.filter((change) => change.verdict === 'regressed');
  const latestRegression = regressions[regressions.length - 1];
  return latestRegression ? { changes, latestRegression } : { changes };
}
