import { describe, expect, it } from 'vitest';
import type { MetricType, SummaryValues } from '../metrics/types.js';
import {
  K6_EXIT_CODES,
  THRESHOLDS_FAILED_EXIT_CODE,
  ThresholdError,
  evaluateThresholds,
  matchesTags,
  parseDuration,
  parseMetricKey,
  parseThresholds,
  requiredStats,
  type ThresholdSet,
} from './index.js';

const TYPES: Record<string, MetricType> = {
  http_req_duration: 'trend',
  http_reqs: 'counter',
  http_req_failed: 'rate',
  checks: 'rate',
  vus: 'gauge',
  data_received: 'counter',
  group_duration: 'trend',
};
const types = (name: string): MetricType | undefined => TYPES[name];
const parse = (thresholds: Record<string, unknown>): ThresholdSet => parseThresholds(thresholds, types);

/** Parses one threshold and evaluates it against the given values at the end of the run. */
function judge(key: string, expression: string, values: SummaryValues | undefined) {
  const set = parse({ [key]: [expression] });
  const result = evaluateThresholds(set, () => values, 60_000).results[key]?.[expression];
  if (result === undefined) throw new Error('no result');
  return result;
}

function parseError(thresholds: Record<string, unknown>): ThresholdError {
  try {
    parse(thresholds);
  } catch (error) {
    if (error instanceof ThresholdError) return error;
    throw error;
  }
  throw new Error('expected a ThresholdError');
}

describe('parseMetricKey', () => {
  it('reads a bare metric name', () => {
    expect(parseMetricKey('http_req_duration')).toEqual({ metric: 'http_req_duration', tags: {} });
  });

  it('keeps "/" in tag values', () => {
    expect(parseMetricKey('http_req_duration{name:/api/search}')).toEqual({
      metric: 'http_req_duration',
      tags: { name: '/api/search' },
    });
  });

  it('reads several filters and trims spaces', () => {
    expect(parseMetricKey(' http_req_duration { service : api , expected_response:true } ')).toEqual({
      metric: 'http_req_duration',
      tags: { service: 'api', expected_response: 'true' },
    });
    expect(parseMetricKey('http_reqs{scenario:smoke}').tags).toEqual({ scenario: 'smoke' });
  });

  it('splits on the first colon only', () => {
    expect(parseMetricKey('checks{group:::setup}').tags).toEqual({ group: '::setup' });
    expect(parseMetricKey('http_req_duration{url:http://localhost:8080/x}').tags).toEqual({
      url: 'http://localhost:8080/x',
    });
  });

  it('allows an empty tag value', () => {
    expect(parseMetricKey('http_req_duration{status:}').tags).toEqual({ status: '' });
  });

  it.each([
    ['http_req_duration{name:/x', 'no closing "}"'],
    ['http_req_duration{}', 'empty tag filter'],
    ['http_req_duration{name}', 'tag filter "name" has no ":"'],
    ['http_req_duration{:x}', 'has no tag name'],
    ['http_req_duration{a:1,a:2}', 'tag "a" is filtered twice'],
    ['{name:x}', 'missing metric name'],
  ])('rejects %s', (key, reason) => {
    expect(() => parseMetricKey(key)).toThrow(ThresholdError);
    expect(() => parseMetricKey(key)).toThrow(`thresholds[${JSON.stringify(key)}]: `);
    expect(() => parseMetricKey(key)).toThrow(reason);
  });
});

describe('matchesTags', () => {
  const tags = { name: '/api/search', method: 'GET', expected_response: 'true' };
  it('matches when every filter tag is present with the same value', () => {
    expect(matchesTags({}, tags)).toBe(true);
    expect(matchesTags({ name: '/api/search' }, tags)).toBe(true);
    expect(matchesTags({ name: '/api/search', method: 'GET' }, tags)).toBe(true);
  });
  it('does not match a different value or a missing tag', () => {
    expect(matchesTags({ name: '/api/other' }, tags)).toBe(false);
    expect(matchesTags({ name: '/api/search', status: '200' }, tags)).toBe(false);
    expect(matchesTags({ toString: '' }, tags)).toBe(false); // not fooled by Object.prototype
  });
});

describe('parseThresholds', () => {
  it('parses short and long forms', () => {
    const [entry] = parse({
      'http_req_duration{name:/api/search}': [
        'p(95)<500',
        { threshold: 'max >= 0', abortOnFail: true, delayAbortEval: '1m30s' },
      ],
    });
    expect(entry).toEqual({
      key: 'http_req_duration{name:/api/search}',
      metric: 'http_req_duration',
      type: 'trend',
      tags: { name: '/api/search' },
      expressions: [
        { source: 'p(95)<500', stat: 'p(95)', operator: '<', bound: 500, abortOnFail: false, delayAbortEvalMs: 0 },
        { source: 'max >= 0', stat: 'max', operator: '>=', bound: 0, abortOnFail: true, delayAbortEvalMs: 90_000 },
      ],
    });
  });

  it.each([
    ['p(95)<500', 'p(95)', '<', 500],
    ['p(99.9)<=1000', 'p(99.9)', '<=', 1000],
    ['p( 90 ) > 1', 'p(90)', '>', 1],
    ['p(95) < 500', 'p(95)', '<', 500],
    ['p(0)>=0', 'p(0)', '>=', 0],
    ['p(100)==2', 'p(100)', '==', 2],
    ['avg<200', 'avg', '<', 200],
    ['min>0', 'min', '>', 0],
    ['max>=0', 'max', '>=', 0],
    ['med<300', 'med', '<', 300],
    ['med===300', 'med', '===', 300],
    ['avg!=-1.5', 'avg', '!=', -1.5],
    ['avg<1e3', 'avg', '<', 1000],
    ['avg<2.5E-1', 'avg', '<', 0.25],
    ['avg<.5', 'avg', '<', 0.5],
  ])('trend: %s', (source, stat, operator, bound) => {
    const expression = parse({ http_req_duration: [source] })[0]?.expressions[0];
    expect(expression).toMatchObject({ source, stat, operator, bound });
  });

  it.each([
    ['http_reqs', 'count>=10', 'count'],
    ['http_reqs', 'rate>5', 'rate'],
    ['http_req_failed', 'rate<0.01', 'rate'],
    ['checks', 'rate>=0', 'rate'],
    ['vus', 'value<1048576', 'value'],
  ])('%s: %s', (key, source, stat) => {
    expect(parse({ [key]: [source] })[0]?.expressions[0]?.stat).toBe(stat);
  });

  it('accepts an empty array', () => {
    expect(parse({ http_reqs: [] })[0]?.expressions).toEqual([]);
  });

  it.each([
    [{ 'http_req_duration': ['p(95)<<500'] }, 'thresholds["http_req_duration"][0] "p(95)<<500": expected an operator (<, <=, >, >=, ==, ===, !=) after "p(95)"'],
    [{ 'http_req_duration': ['avg < 1', 'avg 500'] }, 'thresholds["http_req_duration"][1] "avg 500": expected an operator (<, <=, >, >=, ==, ===, !=) after "avg"'],
    [{ 'http_req_duration': ['avg =< 500'] }, 'thresholds["http_req_duration"][0] "avg =< 500": expected an operator'],
    [{ 'http_req_duration': ['avg !== 500'] }, 'thresholds["http_req_duration"][0] "avg !== 500": expected an operator'],
    [{ 'http_req_duration': ['avg<'] }, 'thresholds["http_req_duration"][0] "avg<": expected a number after "<"'],
    [{ 'http_req_duration': ['avg<5ms'] }, 'thresholds["http_req_duration"][0] "avg<5ms": expected a number after "<", got "5ms"'],
    [{ 'http_req_duration': ['avg<1 2'] }, 'got "1 2"'],
    [{ 'http_req_duration': ['< 500'] }, 'thresholds["http_req_duration"][0] "< 500": expected an aggregation method (count, rate, value, avg, min, max, med, p(N)) at the start'],
    [{ 'http_req_failed': ['rave<0.01'] }, 'thresholds["http_req_failed"][0] "rave<0.01": unknown aggregation method "rave"'],
    [{ 'http_req_duration': ['P(95)<1'] }, 'unknown aggregation method "P"'],
    [{ 'http_req_duration': ['p95<1'] }, '"p95<1": expected a percentile like p(95)'],
    [{ 'http_req_duration': ['p<1'] }, '"p<1": expected a percentile like p(95)'],
    [{ 'http_req_duration': ['p(101)<1'] }, '"p(101)<1": percentile "101" is not a number between 0 and 100'],
    [{ 'http_req_duration': ['p(-1)<1'] }, 'percentile "-1" is not'],
    [{ 'http_req_duration': ['p(NaN)<1'] }, 'percentile "NaN" is not'],
    [{ 'http_req_duration': ['p()<1'] }, 'percentile "" is not'],
    [{ 'http_reqs': ['p(95)<5'] }, 'thresholds["http_reqs"][0] "p(95)<5": uses p(95), but http_reqs is a counter (valid: count, rate)'],
    [{ 'http_req_failed': ['count<5'] }, '"count<5": uses count, but http_req_failed is a rate (valid: rate)'],
    [{ 'vus': ['max<5'] }, '"max<5": uses max, but vus is a gauge (valid: value)'],
    [{ 'http_req_duration': ['rate<5'] }, '"rate<5": uses rate, but http_req_duration is a trend (valid: avg, min, max, med, p(N))'],
    [{ 'htp_reqs': ['count>1'] }, 'thresholds["htp_reqs"]: no metric named htp_reqs'],
    [{ 'htp_reqs{name:x}': ['count>1'] }, 'thresholds["htp_reqs{name:x}"]: no metric named htp_reqs'],
    [{ 'http_reqs': 'count>1' }, 'thresholds["http_reqs"]: expected an array of thresholds like ["p(95)<500"], got the string "count>1"'],
    [{ 'http_reqs': { threshold: 'count>1' } }, 'thresholds["http_reqs"]: expected an array of thresholds'],
    [{ 'http_reqs': [5] }, 'thresholds["http_reqs"][0]: expected a threshold string or { threshold, abortOnFail, delayAbortEval }, got a number'],
    [{ 'http_reqs': [{ threshold: 5 }] }, 'thresholds["http_reqs"][0]: "threshold" must be a string, got a number'],
    [{ 'http_reqs': [{ threshold: 'count>1', abortOnFail: 'yes' }] }, 'thresholds["http_reqs"][0] "count>1": "abortOnFail" must be a boolean, got the string "yes"'],
    [{ 'http_reqs': [{ threshold: 'count>1', delayAbortEval: '10' }] }, 'thresholds["http_reqs"][0] "count>1": "delayAbortEval" must be a duration like "10s", "1m30s" or "500ms", got the string "10"'],
    [{ 'http_reqs': [{ threshold: 'count>1', delayAbortEval: 10 }] }, '"delayAbortEval" must be a duration'],
  ])('rejects %j', (thresholds, message) => {
    expect(() => parse(thresholds)).toThrow(message);
  });

  it('puts the key and the expression on the error', () => {
    const syntax = parseError({ 'http_req_duration{name:/a}': ['avg', 'p(95)<<500'] });
    expect(syntax).toMatchObject({ key: 'http_req_duration{name:/a}', expression: 'avg' });
    const type = parseError({ http_reqs: ['count>1', { threshold: 'p(95)<5' }] });
    expect(type).toMatchObject({ key: 'http_reqs', expression: 'p(95)<5' });
    expect(type.message).toBe(
      'thresholds["http_reqs"][1] "p(95)<5": uses p(95), but http_reqs is a counter (valid: count, rate)',
    );
    const unknown = parseError({ htp_reqs: ['count>1'] });
    expect(unknown).toMatchObject({ key: 'htp_reqs', expression: undefined, name: 'ThresholdError' });
    expect(unknown.message).not.toContain('\n');
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2m0.5s', 120_500],
    ['1500us', 1.5],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '10', 's', '10 s', '-1s', '1d', '1m30', 'abc'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('evaluateThresholds', () => {
  const trend = { avg: 250, min: 10, med: 200, max: 900, 'p(95)': 600, 'p(99.9)': 880 };

  it.each([
    ['p(95)<500', false],
    ['p(95)<700', true],
    ['p(95)<600', false],
    ['p(95)<=600', true],
    ['p(95)>600', false],
    ['p(95)>500', true],
    ['p(95)>=600', true],
    ['p(95)>=601', false],
    ['p(95)==600', true],
    ['p(95)==599', false],
    ['p(95)===600', true],
    ['p(95)===601', false],
    ['p(95)!=600', false],
    ['p(95)!=1', true],
    ['p(99.9)<900', true],
    ['p(99.9)<800', false],
    ['avg<200', false],
    ['avg<300', true],
    ['min>10', false],
    ['min>0', true],
    ['max<900', false],
    ['max<=900', true],
    ['med<200', false],
    ['med<=200', true],
  ])('trend p(95)=600…: %s → %s', (expression, ok) => {
    const value = trend[expression.replace(/[<>=!].*/, '').replace(/\s/g, '') as keyof typeof trend];
    expect(judge('http_req_duration', expression, trend)).toEqual({ ok, value });
  });

  it('judges counters, rates and gauges', () => {
    expect(judge('http_reqs', 'count>=10', { count: 9, rate: 3 })).toEqual({ ok: false, value: 9 });
    expect(judge('http_reqs', 'count>=10', { count: 10, rate: 3 })).toEqual({ ok: true, value: 10 });
    expect(judge('http_reqs', 'rate>5', { count: 10, rate: 3 })).toEqual({ ok: false, value: 3 });
    expect(judge('http_req_failed', 'rate<0.01', { rate: 0.02, passes: 2, fails: 98 })).toEqual({ ok: false, value: 0.02 });
    expect(judge('http_req_failed', 'rate<0.01', { rate: 0, passes: 0, fails: 100 })).toEqual({ ok: true, value: 0 });
    expect(judge('vus', 'value<10', { value: 10, min: 1, max: 10 })).toEqual({ ok: false, value: 10 });
    expect(judge('vus', 'value<=10', { value: 10, min: 1, max: 10 })).toEqual({ ok: true, value: 10 });
  });

  it('asks valuesOf for the key, the metric and the tag filter', () => {
    const set = parse({ 'http_req_duration{name:/api/search,method:GET}': ['p(95)<500'] });
    const calls: unknown[] = [];
    evaluateThresholds(set, (...args) => (calls.push(args), { 'p(95)': 1 }), 0);
    expect(calls).toEqual([
      ['http_req_duration{name:/api/search,method:GET}', 'http_req_duration', { name: '/api/search', method: 'GET' }],
    ]);
  });

  it('reports results per key and expression, and fails the run if any fails', () => {
    const set = parse({
      http_req_duration: ['p(95)<500', 'avg < 300'],
      'http_req_duration{name:/api/search}': ['max<1000'],
      http_req_failed: ['rate<0.01'],
    });
    const values: Record<string, SummaryValues> = {
      http_req_duration: trend,
      'http_req_duration{name:/api/search}': { max: 400 },
      http_req_failed: { rate: 0, passes: 0, fails: 50 },
    };
    const evaluation = evaluateThresholds(set, (key) => values[key], 60_000);
    expect(evaluation.results).toEqual({
      http_req_duration: { 'p(95)<500': { ok: false, value: 600 }, 'avg < 300': { ok: true, value: 250 } },
      'http_req_duration{name:/api/search}': { 'max<1000': { ok: true, value: 400 } },
      http_req_failed: { 'rate<0.01': { ok: true, value: 0 } },
    });
    expect(evaluation.ok).toBe(false);
    expect(evaluation.abort).toBe(false); // no threshold asked to abort

    values.http_req_duration = { ...trend, 'p(95)': 499 };
    expect(evaluateThresholds(set, (key) => values[key], 60_000).ok).toBe(true);
  });

  describe('abortOnFail', () => {
    const set = parse({
      http_req_duration: [{ threshold: 'p(99)<10', abortOnFail: true, delayAbortEval: '10s' }],
      http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true }, 'rate<0.01'],
      checks: [{ threshold: 'rate>0.9', abortOnFail: false }],
    });
    const failing: Record<string, SummaryValues> = {
      http_req_duration: { 'p(99)': 50 },
      http_req_failed: { rate: 0.2, passes: 2, fails: 8 },
      checks: { rate: 0.1, passes: 1, fails: 9 },
    };

    it('waits for delayAbortEval before asking to abort', () => {
      const early = evaluateThresholds(set, (key) => failing[key], 9_999);
      expect(early.ok).toBe(false);
      expect(early.abort).toBe(false);
      expect(early.abortedBy).toEqual([]);
      const late = evaluateThresholds(set, (key) => failing[key], 10_000);
      expect(late.abort).toBe(true);
      expect(late.abortedBy).toEqual([{ key: 'http_req_duration', expression: 'p(99)<10' }]);
    });

    it('aborts at once without delayAbortEval, and only for abortOnFail thresholds that fail', () => {
      const values: Record<string, SummaryValues> = { ...failing, http_req_failed: { rate: 0.6, passes: 6, fails: 4 } };
      expect(evaluateThresholds(set, (key) => values[key], 0).abortedBy).toEqual([
        { key: 'http_req_failed', expression: 'rate<0.5' },
      ]);
      const passing: Record<string, SummaryValues> = { ...values, http_req_duration: { 'p(99)': 5 }, http_req_failed: { rate: 0.3, passes: 3, fails: 7 } };
      const evaluation = evaluateThresholds(set, (key) => passing[key], 60_000);
      expect(evaluation.abort).toBe(false);
      expect(evaluation.ok).toBe(false); // checks and 'rate<0.01' still fail, without aborting
    });
  });

  describe('a metric with no samples', () => {
    it('passes rate, gauge and trend thresholds and reports no value', () => {
      const set = parse({
        http_req_duration: [{ threshold: 'p(95)>500', abortOnFail: true }, 'avg<1'],
        'checks{type:read}': [{ threshold: 'rate>0.9', abortOnFail: true }],
        vus: ['value>1'],
      });
      const evaluation = evaluateThresholds(set, () => undefined, 60_000);
      expect(evaluation.results).toEqual({
        http_req_duration: { 'p(95)>500': { ok: true, value: undefined }, 'avg<1': { ok: true, value: undefined } },
        'checks{type:read}': { 'rate>0.9': { ok: true, value: undefined } },
        vus: { 'value>1': { ok: true, value: undefined } },
      });
      expect(evaluation).toMatchObject({ ok: true, abort: false });
    });

    it('treats empty values (NaN, count 0, no passes or fails) as no samples', () => {
      expect(judge('http_req_duration', 'p(95)>500', { count: 0, 'p(95)': 0 })).toEqual({ ok: true, value: undefined });
      expect(judge('http_req_duration', 'p(95)>500', { 'p(95)': Number.NaN })).toEqual({ ok: true, value: undefined });
      expect(judge('checks', 'rate>0.9', { rate: 0, passes: 0, fails: 0 })).toEqual({ ok: true, value: undefined });
      expect(judge('checks', 'rate>0.9', { rate: Number.NaN })).toEqual({ ok: true, value: undefined });
    });

    it('counts 0 on a counter, so a count>N threshold still fails', () => {
      expect(judge('http_reqs', 'count>500', undefined)).toEqual({ ok: false, value: 0 });
      expect(judge('http_reqs', 'count<10', undefined)).toEqual({ ok: true, value: 0 });
      expect(judge('http_reqs', 'rate>1', { count: 0, rate: Number.NaN })).toEqual({ ok: false, value: 0 });
    });
  });

  it('throws when the aggregation left out a required statistic', () => {
    expect(() => judge('http_req_duration', 'p(95)<500', { avg: 1, 'p(90)': 1 })).toThrow(
      'thresholds: the values of http_req_duration lack "p(95)"',
    );
  });
});

describe('requiredStats', () => {
  it('lists each key’s statistics once, in the summary’s spelling', () => {
    const set = parse({
      'http_req_duration{name:/api/search}': ['p(95)<500', 'max<2000', 'p(95.0) < 400', 'p(99.90)<3000'],
      http_reqs: ['count>1', { threshold: 'rate>2' }],
      vus: [],
    });
    expect(requiredStats(set)).toEqual({
      'http_req_duration{name:/api/search}': ['p(95)', 'max', 'p(99.9)'],
      http_reqs: ['count', 'rate'],
      vus: [],
    });
  });
});

describe('exit codes', () => {
  it('uses k6’s codes', () => {
    expect(THRESHOLDS_FAILED_EXIT_CODE).toBe(99);
    expect(K6_EXIT_CODES).toMatchObject({
      ThresholdsHaveFailed: 99,
      SetupTimeout: 100,
      TeardownTimeout: 101,
      InvalidConfig: 104,
      ScriptException: 107,
      ScriptAborted: 108,
    });
    const codes = Object.values(K6_EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
