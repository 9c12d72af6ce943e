// End to end: PostgreSQL goes away in the middle of a run, and comes back.
//
// While a bounded loop of requests runs against the reference service, PostgreSQL is stopped
// (pg_ctl stop -m fast; same data and port). The service must answer 503 quickly instead of hanging
// (except reads its Redis cache holds, which it keeps answering),
// /health/database must report the outage while /health stays 200, the pg-stats exporter must keep
// serving with pg_up 0, and the PostgresDown alert must reach the database team's critical
// Slack channel. When PostgreSQL is back, the service answers 200 again, pg_up is 1, the alert
// resolves, and nothing crashed: Prometheus and Alertmanager keep their PIDs, and the service and
// the exporter (both in this process) still answer.
//
// Time is compressed for this test only (test/support/e2e-time.ts: range selectors [10s], `for:`
// 2s) so the alert fires within seconds; the promtool unit tests in alerts/ prove the rules with
// their real windows and durations, this test proves the wiring.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateRules, type CapturedSlackMessage } from '../alerts/index.js';
import { compressRuleTime } from './support/e2e-time.js';
import { config, everyRoute, expectedChannel, scalarOf, startE2eStack, trafficLoop, waitUntil, type E2eStack, type TrafficLoop } from './support/e2e-stack.js';

interface AlertYaml {
  alert?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const exporterDown = generateRules(config)
  .filter((file) => file.path.endsWith('/database.yml'))
  .flatMap((file) => (parse(file.content) as { groups: { rules: AlertYaml[] }[] }).groups.flatMap((g) => g.rules))
  .find((rule) => rule.alert === 'PostgresDown');

const titled = (title: string) => (m: CapturedSlackMessage) => (m.payload.attachments ?? []).some((a) => a.title === title);

async function timed(url: string): Promise<{ status: number; ms: number; body: string }> {
  const start = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return { status: response.status, ms: performance.now() - start, body };
}

/** The pg_up value in an exporter's /metrics text, or undefined when the line is missing. */
function pgUpIn(metricsText: string): number | undefined {
  const match = /^pg_up(?:\{[^}]*\})? (\S+)$/m.exec(metricsText);
  return match ? Number(match[1]) : undefined;
}

describe('a PostgreSQL outage during a run', () => {
  let stack: E2eStack | undefined;
  let traffic: TrafficLoop | undefined;
  let pids: { prometheus: number; alertmanager: number };
  let downAt = 0;

  beforeAll(async () => {
    expect(exporterDown, 'the generated database rules have PostgresDown').toBeDefined();
    stack = await startE2eStack({ name: 'e2e-outage', alerting: true, transformRules: (text) => compressRuleTime(text) });
    pids = { prometheus: stack.prometheus.pid, alertmanager: stack.alertmanager!.pid };
    const statuses = await everyRoute(stack.app.url, 1);
    expect(Object.values(statuses).every((status) => status < 400)).toBe(true);
    const prometheusUrl = stack.prometheusUrl;
    await waitUntil('Prometheus sees pg_up 1', async () => (await scalarOf(prometheusUrl, 'max(pg_up{job="pg-stats"})')) === 1, 20_000);
    traffic = trafficLoop(stack.app.url, ['/api/entities/1', '/api/search?q=acme', '/api/entities?limit=5'], 2, 150_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  });

  afterAll(async () => {
    await traffic?.stop();
    await stack?.stop();
  });

  it('the service answers 503 fast, /health/database says down, /health stays up, pg-stats reports pg_up 0', async () => {
    const { app, postgres, pgStats, prometheusUrl } = stack!;
    expect(traffic!.statuses.get(200) ?? 0).toBeGreaterThan(0);
    await postgres.stopServer();
    downAt = Date.now();

    // Reads nobody made before the outage (the list is never cached) need PostgreSQL: 503, fast.
    for (const path of ['/api/entities/997', '/api/entities/998', '/api/search?q=never-read-before', '/api/entities?limit=5']) {
      const answer = await timed(`${app.url}${path}`);
      expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 503, body: JSON.stringify({ error: 'database unavailable' }) });
      expect(answer.ms, `${path} took ${Math.round(answer.ms)} ms`).toBeLessThan(2000);
    }
    // What the traffic loop read is in the Redis read cache (within its TTL): still answered.
    for (const path of ['/api/entities/1', '/api/search?q=acme']) {
      const answer = await timed(`${app.url}${path}`);
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
      expect(answer.ms, `${path} took ${Math.round(answer.ms)} ms`).toBeLessThan(2000);
    }
    const database = await timed(`${app.url}/health/database`);
    expect(database.status).toBe(503);
    expect(database.ms).toBeLessThan(2000);
    const health = await timed(`${app.url}/health`);
    expect(health.status).toBe(200);

    const exporter = await timed(`${pgStats.url}/metrics`);
    expect(exporter.status).toBe(200);
    expect(pgUpIn(exporter.body)).toBe(0);
    await waitUntil('Prometheus sees pg_up 0', async () => (await scalarOf(prometheusUrl, 'max(pg_up{job="pg-stats"})')) === 0, 20_000);
    expect(await scalarOf(prometheusUrl, 'up{job="pg-stats"}')).toBe(1); // the exporter itself is still scraped
  });

  it('PostgresDown (not DatabaseExporterDown: the exporter still answers) reaches the database team’s critical channel with runbook and dashboard links', async () => {
    const message = await stack!.capture!.waitFor(titled('[FIRING:1] PostgresDown (critical)'), 60_000);
    console.log(`e2e-outage: PostgresDown reached Slack ${message.receivedAt.getTime() - downAt} ms after PostgreSQL stopped`);
    const { labels, annotations } = exporterDown!;
    expect(labels?.team).toBe('database');
    expect(message.payload.channel).toBe(expectedChannel('critical', 'database'));
    expect(message.payload.channel).toBe('#db-oncall');
    const attachment = message.payload.attachments![0]!;
    expect(attachment.text).toContain(`*${annotations!.summary}*`);
    expect(attachment.text).toMatch(/pg-stats on 127\.0\.0\.1:\d+ answers its scrapes but cannot connect to PostgreSQL/);
    expect(attachment.text).toContain(`<${config.links.runbookUrl}#postgresdown|Runbook>`);
    expect(attachment.text).toContain(`<${annotations!.dashboard_url}|Dashboard>`);
    expect(annotations!.dashboard_url).toBe(`${config.links.grafanaUrl}/d/perfstack-database`);
    expect(attachment.color).toBe('danger');
  });

  it('when PostgreSQL returns: 200 again, pg_up 1, the alert resolves, and no process crashed', async () => {
    const { app, postgres, pgStats, prometheusUrl, prometheus, alertmanager, alertmanagerUrl, capture } = stack!;
    await postgres.startServer();
    const upAt = Date.now();
    await waitUntil('the service answers 200 again', async () => (await timed(`${app.url}/api/entities?limit=5`)).status === 200, 30_000, 200);
    console.log(`e2e-outage: service answered 200 ${Date.now() - upAt} ms after PostgreSQL started`);
    expect((await timed(`${app.url}/health/database`)).status).toBe(200);
    await waitUntil('pg-stats reports pg_up 1', async () => pgUpIn((await timed(`${pgStats.url}/metrics`)).body) === 1, 30_000);
    await waitUntil('Prometheus sees pg_up 1', async () => (await scalarOf(prometheusUrl, 'max(pg_up{job="pg-stats"})')) === 1, 20_000);
    const resolved = await capture!.waitFor(titled('[RESOLVED:1] PostgresDown (critical)'), 60_000);
    expect(resolved.payload.channel).toBe('#db-oncall');
    expect(resolved.payload.attachments![0]!.color).toBe('good');

    await traffic!.stop();
    const statuses = Object.fromEntries(traffic!.statuses);
    // Only successes and fast 503s: no connection failures (0), no timeouts, no 500s.
    expect(Object.keys(statuses).map(Number).sort()).toEqual([200, 503]);
    expect(statuses[503]).toBeGreaterThan(5);

    // Nothing crashed: the same child processes still run and answer; the in-process service and exporter answer.
    expect({ pid: prometheus.pid, exitCode: prometheus.child.exitCode, signal: prometheus.child.signalCode }).toEqual({
      pid: pids.prometheus,
      exitCode: null,
      signal: null,
    });
    expect({ pid: alertmanager!.pid, exitCode: alertmanager!.child.exitCode, signal: alertmanager!.child.signalCode }).toEqual({
      pid: pids.alertmanager,
      exitCode: null,
      signal: null,
    });
    expect((await timed(`${prometheusUrl}/-/healthy`)).status).toBe(200);
    expect((await timed(`${alertmanagerUrl}/-/healthy`)).status).toBe(200);
    expect((await timed(`${app.url}/health`)).status).toBe(200);
    expect((await timed(`${pgStats.url}/metrics`)).status).toBe(200);
  });
});
