// Parses k6's `options.thresholds`: metric keys with optional tag filters
// (`http_req_duration{name:/api/search}`) and expressions (`p(95)<500`), validated against the
// metric types before the run starts, as k6 ≥ v0.38 does, so a typo fails fast instead of
// silently passing.

import type { MetricType } from '../metrics/types.js';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';
const OPERATORS: readonly string[] = ['<', '<=', '>', '>=', '==', '===', '!='];

/** Aggregation methods each metric type accepts (k6 docs, "Aggregation methods by type"). */
export const METHODS_BY_TYPE: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['count', 'rate'],
  // The docs allow only `value` on gauges, although the summary also shows min and max.
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
};
const NAMED_METHODS = new Set(['count', 'rate', 'value', 'avg', 'min', 'max', 'med']);
const ALL_METHODS = 'count, rate, value, avg, min, max, med, p(N)';

export interface ThresholdExpression {
  /** The expression as written; k6 keys its results by it. */
  source: string;
  /** The SummaryValues key it reads: 'avg', 'count', 'p(95)', 'p(99.9)'. */
  stat: string;
  operator: Operator;
  bound: number;
  abortOnFail: boolean;
  /** abortOnFail is ignored until the run is this old. */
  delayAbortEvalMs: number;
}

/** All thresholds of one key of `options.thresholds`. */
export interface KeyThresholds {
  key: string;
  metric: string;
  type: MetricType;
  tags: Readonly<Record<string, string>>;
  expressions: readonly ThresholdExpression[];
}

export type ThresholdSet = readonly KeyThresholds[];

/** A threshold k6 would refuse; the message names the key and, when there is one, the expression. */
export class ThresholdError extends Error {
  override name = 'ThresholdError';
  constructor(
    readonly key: string,
    readonly expression: string | undefined,
    reason: string,
    index?: number,
  ) {
    const where = index === undefined ? '' : `[${index}]`;
    const what = expression === undefined ? '' : ` ${JSON.stringify(expression)}`;
    super(`thresholds[${JSON.stringify(key)}]${where}${what}: ${reason}`);
  }
}

/**
 * Splits `metric{tag:value,…}`. Each filter splits on its first colon, so values may hold `:` and
 * `/` (`group:::setup` is group `::setup`); names and values are trimmed.
 */
export function parseMetricKey(key: string): { metric: string; tags: Record<string, string> } {
  const fail = (reason: string): never => {
    throw new ThresholdError(key, undefined, reason);
  };
  const text = key.trim();
  const open = text.indexOf('{');
  const metric = (open < 0 ? text : text.slice(0, open)).trim();
  if (metric === '') fail('missing metric name');
  const tags: Record<string, string> = {};
  if (open < 0) return { metric, tags };
  if (!text.endsWith('}')) fail('the tag filter has no closing "}"');
  const body = text.slice(open + 1, -1);
  if (body.trim() === '') fail('empty tag filter "{}"');
  for (const part of body.split(',')) {
    const colon = part.indexOf(':');
    if (colon < 0) fail(`tag filter "${part.trim()}" has no ":" (expected {tag:value})`);
    const name = part.slice(0, colon).trim();
    if (name === '') fail(`tag filter "${part.trim()}" has no tag name`);
    if (Object.hasOwn(tags, name)) fail(`tag "${name}" is filtered twice`);
    tags[name] = part.slice(colon + 1).trim(); // an empty value is allowed (k6 #2390)
  }
  return { metric, tags };
}

/** True when every tag of the filter is present in `tags` with the same value. */
export function matchesTags(filter: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>): boolean {
  return Object.entries(filter).every(([name, value]) => Object.hasOwn(tags, name) && tags[name] === value);
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** Parses `<method> <operator> <number>`; throws the reason as a plain string. */
function parseExpression(source: string): Pick<ThresholdExpression, 'stat' | 'operator' | 'bound'> {
  let rest = source.trim();
  const name = /^[A-Za-z_]+/.exec(rest)?.[0];
  if (name === undefined) throw `expected an aggregation method (${ALL_METHODS}) at the start`;
  rest = rest.slice(name.length);
  let stat = name;
  let written = name;
  if (name === 'p') {
    const call = /^\s*\(([^)]*)\)/.exec(rest);
    if (call === null) throw 'expected a percentile like p(95)';
    const arg = call[1]!.trim();
    const n = Number(arg);
    if (!NUMBER.test(arg) || n < 0 || n > 100) throw `percentile "${arg}" is not a number between 0 and 100`;
    stat = `p(${n})`; // the summary's spelling: p(95), p(99.9)
    written = `p${call[0].trim()}`;
    rest = rest.slice(call[0].length);
  } else if (!NAMED_METHODS.has(name)) {
    throw `unknown aggregation method "${name}" (valid: ${ALL_METHODS})`;
  }
  rest = rest.trimStart();
  // Take the whole run of operator characters so that `<<` is reported as a bad operator.
  const operator = /^[<>=!]+/.exec(rest)?.[0];
  if (operator === undefined || !OPERATORS.includes(operator)) {
    throw `expected an operator (${OPERATORS.join(', ')}) after "${written}"`;
  }
  const number = rest.slice(operator.length).trim();
  if (!NUMBER.test(number)) {
    throw number === '' ? `expected a number after "${operator}"` : `expected a number after "${operator}", got "${number}"`;
  }
  return { stat, operator: operator as Operator, bound: Number(number) };
}

const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration as k6 takes them: '500ms', '10s', '1m30s', '1.5h'; returns milliseconds. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let ms = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const m = DURATION_PART.exec(text);
    if (m === null) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return ms;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`;
}

/** One array entry: a string, or k6's long form { threshold, abortOnFail, delayAbortEval }. */
function parseEntry(key: string, index: number, entry: unknown, metric: string, type: MetricType): ThresholdExpression {
  let source: string;
  let abortOnFail = false;
  let delayAbortEvalMs = 0;
  if (typeof entry === 'string') {
    source = entry;
  } else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    const long = entry as Record<string, unknown>;
    if (typeof long.threshold !== 'string') {
      throw new ThresholdError(key, undefined, `"threshold" must be a string, got ${describe(long.threshold)}`, index);
    }
    source = long.threshold;
    if (long.abortOnFail !== undefined) {
      if (typeof long.abortOnFail !== 'boolean') {
        throw new ThresholdError(key, source, `"abortOnFail" must be a boolean, got ${describe(long.abortOnFail)}`, index);
      }
      abortOnFail = long.abortOnFail;
    }
    if (long.delayAbortEval !== undefined) {
      const ms = typeof long.delayAbortEval === 'string' ? parseDuration(long.delayAbortEval) : undefined;
      if (ms === undefined) {
        throw new ThresholdError(
          key,
          source,
          `"delayAbortEval" must be a duration like "10s", "1m30s" or "500ms", got ${describe(long.delayAbortEval)}`,
          index,
        );
      }
      delayAbortEvalMs = ms;
    }
  } else {
    throw new ThresholdError(
      key,
      undefined,
      `expected a threshold string or { threshold, abortOnFail, delayAbortEval }, got ${describe(entry)}`,
      index,
    );
  }
  let parsed: ReturnType<typeof parseExpression>;
  try {
    parsed = parseExpression(source);
  } catch (reason) {
    if (typeof reason !== 'string') throw reason;
    throw new ThresholdError(key, source, reason, index);
  }
  const valid = METHODS_BY_TYPE[type];
  const method = parsed.stat.startsWith('p(') ? 'p(N)' : parsed.stat;
  if (!valid.includes(method)) {
    throw new ThresholdError(
      key,
      source,
      `uses ${parsed.stat}, but ${metric} is a ${type} (valid: ${valid.join(', ')})`,
      index,
    );
  }
  return { source, ...parsed, abortOnFail, delayAbortEvalMs };
}

/**
 * Parses and validates `options.thresholds`. `metricTypes` gives the type of every metric the run
 * knows (built-in and custom); a key naming any other metric is an error, as in k6.
 */
export function parseThresholds(
  thresholds: Record<string, unknown>,
  metricTypes: (metric: string) => MetricType | undefined,
): ThresholdSet {
  return Object.entries(thresholds).map(([key, value]): KeyThresholds => {
    const { metric, tags } = parseMetricKey(key);
    const type = metricTypes(metric);
    if (type === undefined) throw new ThresholdError(key, undefined, `no metric named ${metric}`);
    // k6 takes only arrays here, even for a single threshold.
    if (!Array.isArray(value)) {
      throw new ThresholdError(key, undefined, `expected an array of thresholds like ["p(95)<500"], got ${describe(value)}`);
    }
    const expressions = value.map((entry, index) => parseEntry(key, index, entry, metric, type));
    return { key, metric, type, tags, expressions };
  });
}
