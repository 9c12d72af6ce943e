// importFromPrometheus end to end: PostgreSQL, the reference service scraped by a real Prometheus
// with its remote-write receiver, and a short k6 smoke run pushed into it (as in k6/run.test.ts).

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, startApp, type RunningApp } from '../../app/index.js';
import { parseConfig } from '../../config/index.js';
import { runScenario, type RunScenarioResult } from '../../k6/index.js';
import projectConfig from '../../perfstack.config.js';
import { freePort, prometheusLaunch, startLaunch, type RunningProcess } from '../../stack/index.js';
import type { TestPostgres } from '../../test/support/postgres.js';
import { startSeededPostgres } from '../../test/support/seeded-postgres.js';
import { BaselineStoreError, openBaselineStore, type BaselineStore } from './index.js';

let postgres: TestPostgres | undefined;
let app: RunningApp | undefined;
let prometheus: RunningProcess | undefined;
let store: BaselineStore | undefined;
let prometheusUrl = '';
let root = '';
let run: RunScenarioResult;
let start: Date;
let end: Date;
const logs: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'perfstack-store-prom-'));
  const pg = await startSeededPostgres();
  postgres = pg;
  app = await startApp({ databaseUrl: pg.url, config: parseConfig(projectConfig, 'perfstack.config.ts'), port: 0, log: () => undefined });

  const port = await freePort();
  const configFile = join(root, 'prometheus.yml');
  // Scrape the service every second so its database and HTTP histograms cover the short run.
  await writeFile(
    configFile,
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['${new URL(app.url).host}']\n`,
  );
  prometheus = await startLaunch('prometheus', port, prometheusLaunch({ configFile, dataDir: join(root, 'prometheus'), port }));
  prometheusUrl = `http://127.0.0.1:${port}`;

  store = openBaselineStore(pg.url);
  await store.migrate();

  // One query through the instrumented pool creates the database histograms. Prometheus reports
  // ready several seconds before its first scrape, so wait until it has scraped the idle service
  // twice: increase() over the run then starts from real samples instead of a new series.
  await fetch(`${app.url}/health/database`);
  const scraped = async () => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent('count_over_time(up{job="app"}[30s])')}`);
    const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    return Number(body.data.result[0]?.value[1] ?? 0);
  };
  for (const deadline = Date.now() + 30_000; (await scraped()) < 2 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  start = new Date();
  run = await runScenario({
    scenario: 'smoke',
    baseUrl: app.url,
    prometheusUrl,
    testid: `store-prom-${Date.now()}`,
    outputDir: join(root, 'smoke'),
    duration: '4s',
    pushInterval: '1s',
    log: (line) => logs.push(line),
    timeoutMs: 60_000,
  });
  end = new Date();
  // One more scrape of the service after the last request.
  await new Promise((resolve) => setTimeout(resolve, 2000));
});

afterAll(async () => {
  await store?.close();
  await app?.stop();
  await prometheus?.stop();
  await postgres?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function counts(): Promise<string> {
  const rows = await postgres!.query('SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM kpi_values) AS v, (SELECT count(*) FROM kpi_samples) AS s');
  return JSON.stringify(rows[0]);
}

describe('importFromPrometheus', () => {
  it('stores plausible KPIs of a k6 run read back by testid', async () => {
    expect(run.exitCode, logs.slice(-30).join('\n')).toBe(0);
    const id = await store!.importFromPrometheus({ prometheusUrl, testid: run.testid, scenario: 'smoke', start, end, branch: 'main', environment: 'test', serviceSelector: 'job="app"' });
    expect(id).toBeGreaterThan(0);
    const stored = await store!.getRun(run.testid);
    expect(stored).toMatchObject({ testid: run.testid, scenario: 'smoke', branch: 'main', gitSha: run.gitSha, importedFrom: 'prometheus' });
    expect(stored!.startedAt.getTime()).toBe(start.getTime());

    const values = await store!.kpiValues(run.testid);
    const get = (kpi: string, endpoint = '') => values.find((v) => v.kpi === kpi && v.endpoint === endpoint)?.value;
    const p50 = get('latency_p50')!;
    const p95 = get('latency_p95')!;
    const p99 = get('latency_p99')!;
    expect(p50).toBeGreaterThan(0);
    expect(p95).toBeGreaterThanOrEqual(p50);
    expect(p99).toBeGreaterThanOrEqual(p95);
    expect(p99).toBeLessThan(5); // seconds, not milliseconds
    for (const endpoint of ['/api/search', '/api/entities/:id', 'service:api', 'service:search']) {
      expect(get('latency_p95', endpoint), endpoint).toBeGreaterThan(0);
      expect(get('throughput', endpoint), endpoint).toBeGreaterThan(0);
    }
    expect(get('error_rate')).toBe(0);
    expect(get('checks_rate')).toBe(1);

    // Against the same run's JSON summary: the request count matches exactly, and a route with a
    // single k6 label set has exactly the summary's quantile.
    const summary = JSON.parse(readFileSync(run.summaryPath, 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
    const requests = summary.metrics.http_reqs!.values.count!;
    expect(get('throughput')! * ((end.getTime() - start.getTime()) / 1000)).toBeCloseTo(requests, 6);
    expect(get('latency_p95', 'service:search')).toBeCloseTo(summary.metrics['http_req_duration{service:search}']!.values['p(95)']! / 1000, 6);
    // The mixed run-level p95 is an approximation of the summary's: same order of magnitude.
    const summaryP95 = summary.metrics.http_req_duration!.values['p(95)']! / 1000;
    expect(p95).toBeGreaterThan(summaryP95 / 3);
    expect(p95).toBeLessThan(summaryP95 * 3);

    // The service side over the run's range.
    const dbP95 = get('db_query_p95');
    expect(dbP95).toBeGreaterThan(0);
    expect(dbP95).toBeLessThan(5);
    expect(get('pool_wait_p95')).toBeGreaterThanOrEqual(0);
    const histogram = await store!.samples(run.testid, 'latency_p95', '/api/search');
    expect(histogram?.kind).toBe('histogram');
    if (histogram?.kind === 'histogram') {
      expect(histogram.buckets.at(-1)?.le).toBe(Infinity);
      expect(histogram.buckets.reduce((sum, b) => sum + b.count, 0)).toBeGreaterThan(0);
    }
    expect((await store!.samples(run.testid, 'db_query_p95', ''))?.kind).toBe('histogram');
  });

  it('rejects a testid without k6 series, a duplicate and an unreachable Prometheus, storing nothing', async () => {
    const before = await counts();
    const none = await store!.importFromPrometheus({ prometheusUrl, testid: 'never-ran', scenario: 'smoke', start, end, branch: 'main' }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(BaselineStoreError);
    expect(none).toMatchObject({ reason: 'no-k6-data', field: 'testid' });
    expect((none as Error).message).toMatch(/no k6 series for testid "never-ran"/);

    const duplicate = await store!.importFromPrometheus({ prometheusUrl, testid: run.testid, scenario: 'smoke', start, end, branch: 'main' }).catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ reason: 'duplicate-testid' });

    const port = await freePort();
    const down = await store!.importFromPrometheus({ prometheusUrl: `http://127.0.0.1:${port}`, testid: 'x1', scenario: 'smoke', start, end, branch: 'main' }).catch((e: unknown) => e);
    expect(down).toMatchObject({ reason: 'prometheus-error', field: 'prometheusUrl' });
    expect(await counts()).toBe(before);
  });
});
