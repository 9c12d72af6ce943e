// POST /rum on the real service (PostgreSQL 15 behind it): beacons that are fine change the
// histograms; malformed, oversized or hostile ones get a 400 naming the problem, are counted by
// reason, add no label value, and leave the service up.

import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rum } from '../../metrics/index.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { migrate, startApp, type RunningApp } from '../index.js';
import { call, testConfig } from '../testing.js';
import { RUM_BODY_LIMIT_BYTES, RUM_PATH } from './index.js';
import { rumCounts } from './testing.js';

let db: TestPostgres;
let app: RunningApp;
const logs: string[] = [];

beforeAll(async () => {
  db = await startPostgres();
  await migrate(db.url);
  app = await startApp({ databaseUrl: db.url, config: testConfig(), log: (line) => logs.push(line) });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await db?.stop();
});

const beacon = (body: unknown, headers: Record<string, string> = {}) =>
  call(app.url, 'POST', RUM_PATH, { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/** Label values of `label` over every series of `metric` on the service's registry. */
async function labelValues(metric: string, label: string): Promise<string[]> {
  const values = (await app.registry.getSingleMetric(metric)!.get()).values;
  return [...new Set(values.map((v) => String(v.labels[label])))].sort();
}

async function rejected(): Promise<Record<string, number>> {
  const values = (await app.registry.getSingleMetric(rum.beaconsRejected)!.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

async function histogramSum(metric: string, page: string): Promise<number> {
  const values = (await app.registry.getSingleMetric(metric)!.get()).values;
  return values.find((v) => (v as { metricName?: string }).metricName === `${metric}_sum` && v.labels.page === page)?.value ?? 0;
}

const valid = {
  page: 'search',
  metrics: [
    { name: 'TTFB', value: 120, rating: 'good', id: 'v5-1', navigationType: 'navigate' },
    { name: 'FCP', value: 900, rating: 'good', id: 'v5-2', navigationType: 'navigate' },
    { name: 'LCP', value: 3100, rating: 'needs-improvement', id: 'v5-3', navigationType: 'navigate' },
    { name: 'CLS', value: 0.05, rating: 'good', id: 'v5-4', navigationType: 'navigate' },
    { name: 'INP', value: 64, rating: 'good', id: 'v5-5', navigationType: 'navigate' },
  ],
};

describe('POST /rum accepts Web Vitals beacons', () => {
  it('records every vital of a valid beacon, timings converted to seconds', async () => {
    const before = await rumCounts(app.url);
    const lcpSumBefore = await histogramSum(rum.lcp, 'search');
    const response = await beacon(valid);
    expect(response.status, response.text).toBe(204);
    const after = await rumCounts(app.url);
    for (const metric of [rum.lcp, rum.fcp, rum.inp, rum.ttfb, rum.cls]) {
      expect(after.get(`${metric}{search}`), metric).toBe((before.get(`${metric}{search}`) ?? 0) + 1);
    }
    expect(await histogramSum(rum.lcp, 'search')).toBeCloseTo(lcpSumBefore + 3.1, 9);
    // 3.1 s is above the 2.5 s target: the bucket at the target does not count it.
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(new RegExp(`^${rum.lcp}_bucket\\{le="2.5",page="search"\\} 0$`, 'm'));
    expect(text).toMatch(new RegExp(`^${rum.lcp}_bucket\\{le="4",page="search"\\} [1-9]`, 'm'));
  });

  it('takes text/plain (a sendBeacon string) too, and counts an unknown page as "other"', async () => {
    const before = await rumCounts(app.url);
    const response = await beacon({ page: 'checkout', metrics: [{ name: 'FCP', value: 500 }] }, { 'content-type': 'text/plain;charset=UTF-8' });
    expect(response.status, response.text).toBe(204);
    expect((await rumCounts(app.url)).get(`${rum.fcp}{other}`)).toBe((before.get(`${rum.fcp}{other}`) ?? 0) + 1);
  });

  it('starts every known page and "other" at zero, and every rejection reason at zero', async () => {
    expect(await labelValues(rum.cls, 'page')).toEqual(['other', 'search']);
    expect(Object.keys(await rejected()).sort()).toEqual(['content_type', 'invalid', 'not_json', 'too_large']);
  });

  it('publishes the JavaScript the page loads: app.js and the RUM bundle, as served', async () => {
    const file = (name: string) => statSync(fileURLToPath(new URL(`../public/static/${name}`, import.meta.url))).size;
    const values = (await app.registry.getSingleMetric(rum.javascriptBytes)!.get()).values;
    expect(values.map((v) => [v.labels.page, v.value])).toEqual([['search', file('app.js') + file('rum.js')]]);
    expect(values[0]!.value).toBeLessThan(testConfig().frontend.javascriptBytes);
  });
});

describe('POST /rum refuses bad beacons with a 400 that names the problem', () => {
  const cases: { what: string; send: () => Promise<Awaited<ReturnType<typeof beacon>>>; reason: string; field: string; message: RegExp }[] = [
    { what: 'malformed JSON', send: () => beacon('{"page":"search","metrics":[{'), reason: 'not_json', field: 'body', message: /not valid JSON/ },
    { what: 'NaN (not JSON at all)', send: () => beacon('{"metrics":[{"name":"LCP","value":NaN}]}'), reason: 'not_json', field: 'body', message: /not valid JSON/ },
    { what: 'an empty body', send: () => beacon(''), reason: 'not_json', field: 'body', message: /empty/ },
    { what: 'a body over the limit', send: () => beacon(JSON.stringify({ ...valid, pad: 'x'.repeat(RUM_BODY_LIMIT_BYTES) })), reason: 'too_large', field: 'body', message: /at most 8192 bytes/ },
    { what: 'a compressed body', send: () => call(app.url, 'POST', RUM_PATH, { body: gzipSync(JSON.stringify(valid)), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }), reason: 'content_type', field: 'content-encoding', message: /identity/ },
    { what: 'a form content type', send: () => beacon('page=search', { 'content-type': 'application/x-www-form-urlencoded' }), reason: 'content_type', field: 'content-type', message: /application\/json or text\/plain/ },
    { what: 'no content type', send: () => call(app.url, 'POST', RUM_PATH, { body: new Blob([JSON.stringify(valid)]) }), reason: 'content_type', field: 'content-type', message: /must be/ },
    { what: 'a value of the wrong type', send: () => beacon({ metrics: [{ name: 'LCP', value: '1200' }] }), reason: 'invalid', field: 'metrics.0.value', message: /finite number/ },
    { what: 'Infinity (1e999)', send: () => beacon('{"metrics":[{"name":"LCP","value":1e999}]}'), reason: 'invalid', field: 'metrics.0.value', message: /finite number/ },
    { what: 'a negative value', send: () => beacon({ metrics: [{ name: 'INP', value: -5 }] }), reason: 'invalid', field: 'metrics.0.value', message: /negative/ },
    { what: 'a timing beyond 10 minutes', send: () => beacon({ metrics: [{ name: 'TTFB', value: 600_001 }] }), reason: 'invalid', field: 'metrics.0.value', message: /at most 600000/ },
    { what: 'a CLS beyond 100', send: () => beacon({ metrics: [{ name: 'CLS', value: 101 }] }), reason: 'invalid', field: 'metrics.0.value', message: /at most 100/ },
    { what: 'an unknown metric', send: () => beacon({ metrics: [{ name: 'FID', value: 10 }] }), reason: 'invalid', field: 'metrics.0.name', message: /LCP, FCP, INP, CLS, TTFB/ },
    { what: 'the second metric bad', send: () => beacon({ metrics: [{ name: 'LCP', value: 10 }, { name: 'CLS', value: null }] }), reason: 'invalid', field: 'metrics.1.value', message: /finite/ },
    { what: 'no metrics', send: () => beacon({ page: 'search', metrics: [] }), reason: 'invalid', field: 'metrics', message: /at least one/ },
    { what: 'too many metrics', send: () => beacon({ metrics: Array.from({ length: 21 }, () => ({ name: 'CLS', value: 0 })) }), reason: 'invalid', field: 'metrics', message: /at most 20/ },
    { what: 'a JSON array', send: () => beacon([valid]), reason: 'invalid', field: 'body', message: /expected object/ },
    { what: 'a JSON string', send: () => beacon('"LCP"'), reason: 'invalid', field: 'body', message: /expected object/ },
    { what: 'an unknown key', send: () => beacon({ ...valid, url: 'https://example.com/?q=secret' }), reason: 'invalid', field: 'url', message: /unrecognized key/i },
    { what: 'a __proto__ key', send: () => beacon('{"metrics":[{"name":"LCP","value":1}],"__proto__":{"polluted":true}}'), reason: 'invalid', field: '__proto__', message: /unrecognized key/i },
    { what: 'a page name of 10 kB', send: () => beacon({ page: '<script>'.repeat(1100), metrics: [{ name: 'LCP', value: 1 }] }), reason: 'too_large', field: 'body', message: /at most/ },
    { what: 'a 65-character page name', send: () => beacon({ page: 'p'.repeat(65), metrics: [{ name: 'LCP', value: 1 }] }), reason: 'invalid', field: 'page', message: /at most 64 characters/ },
    { what: 'a page that is not a string', send: () => beacon({ page: { toString: 'x' }, metrics: [{ name: 'LCP', value: 1 }] }), reason: 'invalid', field: 'page', message: /string/ },
    { what: 'a deeply nested body', send: () => beacon(`{"metrics":${'['.repeat(3000)}${']'.repeat(3000)}}`), reason: 'invalid', field: 'metrics.0', message: /expected object/ },
  ];

  for (const c of cases) {
    it(`${c.what}: 400, field ${c.field}, counted as ${c.reason}`, async () => {
      const before = await rejected();
      const response = await c.send();
      expect(response.status, response.text).toBe(400);
      expect(response.body).toMatchObject({ field: c.field });
      expect(response.body.error).toMatch(c.message);
      expect(response.body.error.length).toBeLessThan(300);
      const after = await rejected();
      expect(after[c.reason]).toBe((before[c.reason] ?? 0) + 1);
    });
  }

  it('records nothing from a refused beacon, even its valid metrics', async () => {
    const before = await rumCounts(app.url);
    expect((await beacon({ page: 'search', metrics: [{ name: 'LCP', value: 1000 }, { name: 'INP', value: -1 }] })).status).toBe(400);
    expect(await rumCounts(app.url)).toEqual(before);
  });
});

describe('POST /rum keeps its labels bounded and the service up', () => {
  it('10,000 beacons from distinct URLs (as page, and in the query string) add no label value', async () => {
    const before = await rumCounts(app.url);
    const total = 10_000;
    let next = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const response = await fetch(`${app.url}${RUM_PATH}?u=${i}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ page: `/entities/${i}?ref=${i}`, metrics: [{ name: 'CLS', value: (i % 100) / 1000 }] }),
        });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(Object.fromEntries(statuses)).toEqual({ 204: total });
    for (const metric of [rum.lcp, rum.fcp, rum.inp, rum.ttfb, rum.cls]) expect(await labelValues(metric, 'page'), metric).toEqual(['other', 'search']);
    expect(await labelValues(rum.beaconsRejected, 'reason')).toEqual(['content_type', 'invalid', 'not_json', 'too_large']);
    expect((await rumCounts(app.url)).get(`${rum.cls}{other}`)).toBe((before.get(`${rum.cls}{other}`) ?? 0) + total);
    // The HTTP metrics label the route, not the URL.
    const routes = (await app.registry.getSingleMetric('http_server_request_duration_seconds')!.get()).values.map((v) => String(v.labels.http_route));
    expect(routes.filter((r) => r.includes('rum'))).toSatisfy((r: string[]) => r.every((route) => route === RUM_PATH));
  }, 120_000);

  it('a burst of hostile beacons leaves the service answering and logging no error', async () => {
    const hostile = ['\u0000\u0001\u0002', '{"metrics":[{"name":"LCP","value":1}]}'.repeat(200), '\ud800', 'true', 'null', '1e309', '{"metrics":{"length":1,"0":{"name":"LCP","value":1}}}', "'; DROP TABLE entities; --"];
    for (const body of hostile) expect((await beacon(body)).status, body.slice(0, 40)).toBe(400);
    expect((await call(app.url, 'GET', '/health')).status).toBe(200);
    expect((await beacon(valid)).status).toBe(204);
    expect(logs.filter((line) => /error/i.test(line))).toEqual([]);
  });
});
