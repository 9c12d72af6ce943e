// Pure parsing: KPIs from the committed k6 summary fixture, JSON errors, the quantile mixture.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BaselineStoreError, kpisFromK6Summary, mixtureQuantile, parseSummaryText } from './index.js';

const FIXTURE_TEXT = readFileSync(new URL('./fixtures/k6-summary.json', import.meta.url), 'utf8');
const fixture = () => JSON.parse(FIXTURE_TEXT) as { metrics: Record<string, { values: Record<string, number> }> };

function caught(fn: () => unknown): BaselineStoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BaselineStoreError);
    return error as BaselineStoreError;
  }
  throw new Error('expected a BaselineStoreError');
}

describe('kpisFromK6Summary', () => {
  it('derives run-level and per-service KPIs in seconds from the fixture', () => {
    const { run, values } = kpisFromK6Summary(fixture());
    expect(run).toMatchObject({ scenario: 'smoke', testid: '20260101T120000Z-smoke-fx01', gitSha: '301594d' });
    expect(run.durationMs).toBeCloseTo(5313.42, 1);
    const get = (kpi: string, endpoint = '') => values.find((v) => v.kpi === kpi && v.endpoint === endpoint)?.value;
    expect(get('latency_p50')).toBeCloseTo(0.003172088, 12);
    expect(get('latency_p95')).toBeCloseTo(0.0919330795, 12);
    expect(get('latency_p99')).toBeCloseTo(0.19001360009, 12);
    expect(get('throughput')).toBeCloseTo(45.545049507512104, 9);
    expect(get('error_rate')).toBe(0);
    expect(get('checks_rate')).toBe(1);
    expect(get('latency_p95', 'service:api')).toBeCloseTo(0.11807341585, 12);
    expect(get('latency_p50', 'service:search')).toBeCloseTo(0.010014774, 12);
    expect(get('error_rate', 'service:api')).toBe(0);
    // {expected_response:true} is not an endpoint; smoke has no throughput sub-metrics.
    expect(values.some((v) => v.endpoint.includes('expected_response'))).toBe(false);
    expect(get('throughput', 'service:api')).toBeUndefined();
    // Each (kpi, endpoint) once.
    expect(new Set(values.map((v) => `${v.kpi}|${v.endpoint}`)).size).toBe(values.length);
  });

  it('reads per-route sub-metrics and Web Vitals when a summary has them', () => {
    const data = fixture();
    data.metrics['http_req_duration{name:/api/entities/:id}'] = { type: 'trend', contains: 'time', values: { 'p(50)': 2, 'p(95)': 40, 'p(99)': 80, count: 24 } } as never;
    data.metrics['browser_web_vital_lcp'] = { type: 'trend', contains: 'time', values: { 'p(95)': 1234, count: 3 } } as never;
    data.metrics['browser_web_vital_cls'] = { type: 'trend', contains: 'default', values: { 'p(95)': 0.05, count: 3 } } as never;
    const { values } = kpisFromK6Summary(data);
    expect(values).toContainEqual({ kpi: 'latency_p95', endpoint: '/api/entities/:id', value: 0.04 });
    expect(values).toContainEqual({ kpi: 'web_vital_lcp_p95', endpoint: '', value: 1.234 });
    expect(values).toContainEqual({ kpi: 'web_vital_cls_p95', endpoint: '', value: 0.05 });
  });

  it('names the missing metric or statistic', () => {
    const noDuration = fixture();
    delete noDuration.metrics.http_req_duration;
    const e1 = caught(() => kpisFromK6Summary(noDuration));
    expect(e1).toMatchObject({ reason: 'missing-metric', field: 'metrics.http_req_duration' });
    expect(e1.message).toMatch(/no "http_req_duration" metric/);

    const noP99 = fixture();
    delete noP99.metrics.http_req_duration?.values['p(99)'];
    expect(caught(() => kpisFromK6Summary(noP99))).toMatchObject({ reason: 'missing-metric', field: 'metrics.http_req_duration.values.p(99)' });

    expect(caught(() => kpisFromK6Summary({ hello: 1 }))).toMatchObject({ reason: 'invalid-summary', field: 'metrics' });
    const badType = fixture() as unknown as { metrics: Record<string, { values: unknown }> };
    (badType.metrics.http_reqs as { values: unknown }).values = { rate: 'fast' };
    expect(caught(() => kpisFromK6Summary(badType))).toMatchObject({ reason: 'invalid-summary', field: 'metrics.http_reqs.values.rate' });
  });
});

describe('parseSummaryText', () => {
  it('names the file, line, column and says the file is truncated', () => {
    const text = FIXTURE_TEXT.slice(0, 5000);
    const error = caught(() => parseSummaryText(text, 'out/run-1/summary.json'));
    expect(error.reason).toBe('invalid-json');
    expect(error.field).toBe('out/run-1/summary.json');
    expect(error.message).toMatch(/^out\/run-1\/summary\.json: not valid JSON at line \d+, column \d+ \(offset \d+ of 5000\)/);
    expect(error.message).toMatch(/truncated/);
  });

  it('points at a syntax error in the middle without calling it truncated', () => {
    const text = FIXTURE_TEXT.replace('"testid"', '"testid" "oops"');
    const error = caught(() => parseSummaryText(text, 'summary.json'));
    expect(error.message).toMatch(/line 4, column \d+/);
    expect(error.message).not.toMatch(/truncated/);
    expect(caught(() => parseSummaryText('  \n', 'empty.json')).message).toMatch(/empty/);
  });
});

describe('mixtureQuantile', () => {
  const knots = (min: number, p50: number, p90: number, p95: number, p99: number, max: number): Array<[number, number]> => [
    [0, min], [0.5, p50], [0.9, p90], [0.95, p95], [0.99, p99], [1, max],
  ];
  it('is exact for one component', () => {
    expect(mixtureQuantile([{ knots: knots(1, 2, 3, 4, 5, 6), weight: 10 }], 0.95)).toBe(4);
  });
  it('mixes by weight and lies between the components', () => {
    const fast = { knots: knots(1, 2, 3, 4, 5, 6), weight: 90 };
    const slow = { knots: knots(100, 200, 300, 400, 500, 600), weight: 10 };
    const p95 = mixtureQuantile([fast, slow], 0.95) as number;
    // 90 % of the mass is below 6; the slow tenth holds the rest, so p95 is its median: 200.
    expect(p95).toBeCloseTo(200, 6);
    expect(mixtureQuantile([fast, slow], 0.5)).toBeLessThan(6);
    expect(mixtureQuantile([], 0.5)).toBeUndefined();
  });
});
