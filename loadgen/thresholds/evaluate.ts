// Judges parsed thresholds against the aggregated values, both during the run (for abortOnFail)
// and at its end (for the exit code).

import type { SummaryValues } from '../metrics/types.js';
import type { KeyThresholds, Operator, ThresholdSet } from './parse.js';

/** k6's exit code when a threshold failed, including a run stopped early by abortOnFail. */
export const THRESHOLDS_FAILED_EXIT_CODE = 99;

/** k6's documented exit codes (go.k6.io/k6/errext/exitcodes, v0.50). */
export const K6_EXIT_CODES = {
  /** `k6 cloud`: the cloud test run failed (was 99 before k6 v0.33). */
  CloudTestRunFailed: 97,
  /** `k6 cloud`: could not get the test's progress from the cloud. */
  CloudFailedToGetProgress: 98,
  /** One or more thresholds failed. */
  ThresholdsHaveFailed: THRESHOLDS_FAILED_EXIT_CODE,
  /** setup() ran past setupTimeout. */
  SetupTimeout: 100,
  /** teardown() ran past teardownTimeout. */
  TeardownTimeout: 101,
  /** A timeout with no more specific reason. */
  GenericTimeout: 102,
  /** The run was stopped through k6's REST API. */
  ScriptStoppedFromRESTAPI: 103,
  /** Invalid options or configuration, invalid thresholds included. */
  InvalidConfig: 104,
  /** Aborted by a signal (SIGINT, SIGTERM). */
  ExternalAbort: 105,
  /** The REST API server could not start. */
  CannotStartRESTAPI: 106,
  /** The script threw an uncaught exception (init, setup or teardown). */
  ScriptException: 107,
  /** The script called test.abort() from k6/execution. */
  ScriptAborted: 108,
  /** k6 itself (or an extension) panicked. */
  GoPanic: 109,
} as const;

export interface ThresholdResult {
  ok: boolean;
  /** The measured statistic; undefined when the metric had no samples. */
  value: number | undefined;
}

export interface ThresholdEvaluation {
  /** Per key, per expression as written: as k6's summary `thresholds`. */
  results: Record<string, Record<string, ThresholdResult>>;
  /** Every threshold passed. */
  ok: boolean;
  /** Some abortOnFail threshold failed after its delayAbortEval: stop the run (abortedBy says which). */
  abort: boolean;
  /** The failed abortOnFail thresholds whose delayAbortEval has passed. */
  abortedBy: { key: string; expression: string }[];
}

/** The aggregated values of one key (metric + tag filter), or undefined if it has no series. */
export type ValuesOf = (
  key: string,
  metric: string,
  tags: Readonly<Record<string, string>>,
) => SummaryValues | undefined;

/** Which statistics each key needs, so the aggregation computes only those. */
export function requiredStats(set: ThresholdSet): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of set) out[entry.key] = [...new Set(entry.expressions.map((e) => e.stat))];
  return out;
}

function compare(value: number, operator: Operator, bound: number): boolean {
  switch (operator) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '==':
    case '===':
      return value === bound;
    case '!=':
      return value !== bound;
  }
}

/** True when the values say no sample was recorded. */
function isEmpty(values: SummaryValues): boolean {
  if (values.count === 0) return true;
  return values.passes !== undefined && values.fails !== undefined && values.passes + values.fails === 0;
}

/**
 * The statistic a threshold compares, or undefined when there is nothing to compare. A counter
 * with no samples counts 0 (k6 ≥ v0.38 evaluates thresholds of metrics without samples, #1346);
 * a rate, gauge or trend with no samples has no value, and its thresholds pass, as in k6 where an
 * empty rate's threshold reports ok (#4283) and an unused sub-metric must not abort the run (#2520).
 */
function measure(entry: KeyThresholds, stat: string, values: SummaryValues | undefined): number | undefined {
  const none = entry.type === 'counter' ? 0 : undefined;
  if (values === undefined || isEmpty(values)) return none;
  const value = values[stat];
  // A missing statistic means the aggregation ignored requiredStats: a bug, not a pass.
  if (value === undefined) throw new Error(`thresholds: the values of ${entry.key} lack "${stat}"`);
  return Number.isNaN(value) ? none : value;
}

/** Evaluates every threshold; `elapsedMs` is the run's age, to honour delayAbortEval. */
export function evaluateThresholds(set: ThresholdSet, valuesOf: ValuesOf, elapsedMs: number): ThresholdEvaluation {
  const evaluation: ThresholdEvaluation = { results: {}, ok: true, abort: false, abortedBy: [] };
  for (const entry of set) {
    const values = valuesOf(entry.key, entry.metric, entry.tags);
    const results: Record<string, ThresholdResult> = (evaluation.results[entry.key] = {});
    for (const expression of entry.expressions) {
      const value = measure(entry, expression.stat, values);
      const ok = value === undefined || compare(value, expression.operator, expression.bound);
      results[expression.source] = { ok, value };
      if (ok) continue;
      evaluation.ok = false;
      if (expression.abortOnFail && elapsedMs >= expression.delayAbortEvalMs) {
        evaluation.abort = true;
        evaluation.abortedBy.push({ key: entry.key, expression: expression.source });
      }
    }
  }
  return evaluation;
}
