// End to end with real binaries: PostgreSQL, the reference service, Prometheus with its
// remote-write receiver, perfstack's load engine (and Chromium for the browser scenario). No k6
// anywhere: these prove the engine's summary and series are what the dashboards, rules and
// `perfstack import` read.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../app/index.js';
import { parseConfig } from '../config/index.js';
import { k6 as k6Metrics } from '../metrics/index.js';
import projectConfig from '../perfstack.config.js';
import { freePort, prometheusLaunch, startLaunch, type RunningProcess } from '../stack/index.js';
import type { TestPostgres } from '../test/support/postgres.js';
import { startSeededPostgres } from '../test/support/seeded-postgres.js';
import { kpisFromK6Summary } from '../regression/index.js';
import { formatVerdictTable, runScenario } from './index.js';

let postgres: TestPostgres | undefined;
let app: RunningApp | undefined;
let prometheus: RunningProcess | undefined;
let prometheusUrl = '';
let root = '';
const logs: string[] = [];
const log = (line: string) => logs.push(line);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'perfstack-k6-'));
  const pg = await startSeededPostgres();
  postgres = pg;
  app = await startApp({ databaseUrl: pg.url, config: parseConfig(projectConfig, 'perfstack.config.ts'), port: 0, log: () => undefined });

  const port = await freePort();
  const configFile = join(root, 'prometheus.yml');
  await writeFile(configFile, 'global:\n  scrape_interval: 15s\n');
  prometheus = await startLaunch('prometheus', port, prometheusLaunch({ configFile, dataDir: join(root, 'prometheus'), port }));
  prometheusUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app?.stop();
  await prometheus?.stop();
  await postgres?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Series names (with labels) Prometheus holds for a selector. */
async function series(selector: string): Promise<Array<Record<string, string>>> {
  const url = `${prometheusUrl}/api/v1/series?${new URLSearchParams({ 'match[]': selector })}`;
  const body = (await (await fetch(url)).json()) as { data: Array<Record<string, string>> };
  return body.data;
}

/** Largest value of a series over the last minutes (stale markers end the series when k6 stops). */
async function maxOverTime(selector: string): Promise<number | undefined> {
  const url = `${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: `max(max_over_time(${selector}[10m]))` })}`;
  const body = (await (await fetch(url)).json()) as { data: { result: Array<{ value: [number, string] }> } };
  const value = body.data.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

describe('runScenario', () => {
  it('smoke: passes, writes the JSON summary and the HTML report, and remote-writes tagged series', async () => {
    const testid = `test-smoke-${Date.now()}`;
    const outputDir = join(root, 'smoke');
    const result = await runScenario({ scenario: 'smoke', baseUrl: app!.url, prometheusUrl, testid, outputDir, duration: '4s', pushInterval: '1s', log, timeoutMs: 60_000 });
    const table = formatVerdictTable(result.verdicts);
    expect(result.exitCode, `${table}\n${logs.slice(-40).join('\n')}`).toBe(0);
    expect(result.passed).toBe(true);
    expect(result.testid).toBe(testid);

    expect(existsSync(result.summaryPath)).toBe(true);
    const summary = JSON.parse(readFileSync(result.summaryPath, 'utf8'));
    expect(summary.perfstack).toMatchObject({ scenario: 'smoke', testid });
    expect(summary.metrics['http_req_duration{service:api}'].values.count).toBeGreaterThan(0);
    expect(summary.metrics['http_req_duration{service:search}'].values.count).toBeGreaterThan(0);
    expect(existsSync(result.reportPath)).toBe(true);
    expect(readFileSync(result.reportPath, 'utf8')).toMatch(/<html/i);

    // Verdicts: both services judged on the generated thresholds, no throughput for smoke.
    expect(result.verdicts.filter((v) => v.service === 'api').map((v) => v.threshold)).toEqual(['p(95)<500', 'rate<0.001']);
    expect(result.verdicts.filter((v) => v.service === 'search').map((v) => v.threshold)).toEqual(['p(50)<400', 'p(95)<3000']);
    expect(result.verdicts.some((v) => v.metric === 'http_reqs')).toBe(false);
    expect(table).toMatch(/all \d+ thresholds passed/);

    // Remote-write: the contract's names, every series tagged with the test id.
    const requests = await series(`${k6Metrics.httpReqs}{testid="${testid}"}`);
    expect(requests.length).toBeGreaterThan(0);
    // setup() runs outside any k6 scenario, so its few requests carry no scenario label.
    expect(requests.filter((l) => l.scenario === 'smoke').length).toBeGreaterThan(0);
    for (const labels of requests) {
      expect(labels).toMatchObject({ testid, git_sha: expect.any(String) });
      expect([undefined, 'smoke']).toContain(labels.scenario);
      // The url label is the route template, so its cardinality is bounded.
      expect(labels.url).toBe(labels.name);
      expect(labels.url).not.toMatch(/\d+$|\?/);
    }
    expect(new Set(requests.map((l) => l.service))).toEqual(new Set(['api', 'search', undefined]));
    expect(requests.map((l) => l.name)).toContain('/api/entities/:id');
    expect(await series(`${k6Metrics.httpReqDurationPrefix}_p95{testid="${testid}",service="api"}`)).not.toEqual([]);
    expect(await series(`${k6Metrics.vus}{testid="${testid}"}`)).not.toEqual([]);
    for (const name of [k6Metrics.httpReqFailedRate, k6Metrics.checksRate, k6Metrics.iterations, k6Metrics.dataSent, k6Metrics.dataReceived]) {
      expect(await series(`${name}{testid="${testid}"}`), name).not.toEqual([]);
    }
    // Durations arrive in seconds.
    const p95 = await maxOverTime(`${k6Metrics.httpReqDurationPrefix}_p95{testid="${testid}"}`);
    expect(p95).toBeGreaterThan(0);
    expect(p95).toBeLessThan(5);
    // Prometheus's total equals the summary's: every request was pushed, the final push included.
    const pushed = (await (await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: `sum(max_over_time(${k6Metrics.httpReqs}{testid="${testid}"}[10m]))` })}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(Number(pushed.data.result[0]?.value[1])).toBe(summary.metrics.http_reqs.values.count);
    // Stale markers end every series when the run stops, as k6's output does.
    const instant = (await (await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: `${k6Metrics.httpReqs}{testid="${testid}"}` })}`)).json()) as { data: { result: unknown[] } };
    expect(instant.data.result).toEqual([]);
    // `perfstack import` reads the engine's summary: run-level and per-endpoint KPIs.
    const kpis = kpisFromK6Summary(summary);
    expect(kpis.run).toMatchObject({ scenario: 'smoke', testid });
    expect(kpis.values.map((v) => v.kpi)).toEqual(expect.arrayContaining(['latency_p95', 'error_rate', 'throughput']));
    expect(kpis.values.some((v) => v.endpoint === '/api/search')).toBe(true);
  });

  it('a latency fault on the API breaks its p95 SLA: non-zero exit and a failing verdict', async () => {
    app!.fault.set({ latencyMs: 600, route: '/api/entities' });
    try {
      const result = await runScenario({
        scenario: 'smoke',
        baseUrl: app!.url,
        prometheusUrl,
        testid: `test-fault-${Date.now()}`,
        outputDir: join(root, 'fault'),
        duration: '3s',
        pushInterval: '1s',
        log,
        timeoutMs: 60_000,
      });
      expect(result.exitCode).toBe(99);
      expect(result.passed).toBe(false);
      const failing = result.verdicts.filter((v) => !v.pass);
      expect(failing).toContainEqual(expect.objectContaining({ service: 'api', metric: 'http_req_duration', threshold: 'p(95)<500' }));
      expect(failing.find((v) => v.service === 'api')?.measured).toBeGreaterThan(500);
      expect(result.verdicts.filter((v) => v.service === 'search').every((v) => v.pass)).toBe(true);
      expect(formatVerdictTable(result.verdicts)).toMatch(/^service api: FAIL/m);
    } finally {
      app!.fault.reset();
    }
  });

  it('browser: Chromium loads the page, Web Vitals and the bundle size stay within budget and reach Prometheus', async () => {
    const testid = `test-browser-${Date.now()}`;
    const result = await runScenario({
      scenario: 'browser',
      baseUrl: app!.url,
      prometheusUrl,
      testid,
      outputDir: join(root, 'browser'),
      env: { PERFSTACK_ITERATIONS: '2' },
      pushInterval: '1s',
      log,
      timeoutMs: 90_000,
    });
    const table = formatVerdictTable(result.verdicts);
    expect(result.exitCode, `${table}\n${logs.slice(-40).join('\n')}`).toBe(0);
    const byMetric = (metric: string) => result.verdicts.find((v) => v.metric === metric);
    expect(byMetric('browser_web_vital_fcp')).toMatchObject({ threshold: 'p(95)<2000', pass: true });
    expect(byMetric('browser_web_vital_lcp')).toMatchObject({ threshold: 'p(95)<3000', pass: true });
    expect(byMetric('js_bundle_bytes')).toMatchObject({ pass: true });
    expect(byMetric('js_bundle_bytes')?.measured).toBeGreaterThan(100);

    const summary = JSON.parse(readFileSync(result.summaryPath, 'utf8'));
    for (const vital of ['fcp', 'lcp', 'ttfb', 'cls', 'inp']) expect(summary.metrics[`browser_web_vital_${vital}`], vital).toBeDefined();
    for (const name of ['k6_browser_web_vital_fcp_p95', 'k6_browser_web_vital_lcp_p95', 'k6_browser_web_vital_ttfb_p95', 'k6_js_bundle_bytes']) {
      expect(await series(`${name}{testid="${testid}"}`), name).not.toEqual([]);
    }
  });
});
