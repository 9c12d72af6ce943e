// detectRegressionInHistory: where in a KPI's run history (oldest first) did it change, how, and
// which of those changes made it worse? The one entry point `perfstack history`, `perfstack compare`
// (the history panel of its reports) and library users share, so they all give the same answer.
// detectChanges finds and confirms the changes (see changes.ts); the KPI's direction names each
// one regressed or improved.

import type { Direction, Verdict } from '../kpi.js';
import { detectChanges, type Change, type ChangeOptions } from './changes.js';

export interface HistoryOptions extends ChangeOptions {
  direction: Direction;
}

export interface HistoryChange extends Change {
  /** regressed or improved, by the KPI's direction. */
  verdict: Exclude<Verdict, 'unchanged' | 'insufficient data'>;
  /** Runs from the change to the end of the series, including the change's own run. */
  runsSince: number;
}

export interface HistoryResult {
  changes: HistoryChange[];
  /** The most recent change that made the KPI worse, if any. */
  latestRegression?: HistoryChange;
}

export function detectRegressionInHistory(series: readonly number[], options: HistoryOptions): HistoryResult {
  const { direction, ...rest } = options;
  if (direction !== 'lower-is-better' && direction !== 'higher-is-better') {
    throw new RangeError(`direction must be 'lower-is-better' or 'higher-is-better', got ${String(direction)}`);
  }
  const changes = detectChanges(series, rest).map((change): HistoryChange => {
    const higher = change.relativeChange > 0;
    const worse = direction === 'lower-is-better' ? higher : !higher;
    return { ...change, verdict: worse ? 'regressed' : 'improved', runsSince: series.length - change.index };
  });
  const regressions = changes.filter((change) => change.verdict === 'regressed');
  const latestRegression = regressions[regressions.length - 1];
  return latestRegression ? { changes, latestRegression } : { changes };
}
