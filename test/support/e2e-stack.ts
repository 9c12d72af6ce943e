// The end-to-end tests' stack, composed in-process on loopback:
//
//   PostgreSQL 15 (seeded small) ─► reference service (in-process, fault switch) ─┐
//   redis-server (the read cache) ─► redis_exporter (child) ──────────────────────┤
//                                  pg-stats exporter (in-process) ─────────────────┤ scraped every 1 s
//                                  node_exporter (optional child) ─────────────────┤
//   blackbox exporter (optional child; probes each service's /health) ────────────┤
//   Prometheus (child; the generated rules, evaluated every 1 s; remote-write on) ◄┘
//      └─► Alertmanager (optional child; the generated routing, group_wait/interval 1 s)
//             └─► Slack capture server (in-process: waitFor(predicate, ms))
//
// stop() stops everything it started, in reverse order, and removes the temporary folder.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import defaults from '../../perfstack.config.js';
import { parseConfig, renderYaml, type PerfstackConfig } from '../../config/index.js';
import { BLACKBOX_JOB, blackboxConfig, generateRules, HEALTH_PATH, startSlackCapture, writeAlertmanagerConfig, type SlackCapture } from '../../alerts/index.js';
import { DEMO_USER, startApp, type RunningApp } from '../../app/index.js';
import { startPgStatsExporter, type PgStatsExporter } from '../../exporters/index.js';
import { alertmanagerLaunch, blackboxLaunch, freePort, nodeExporterLaunch, prometheusConfig, prometheusLaunch, redisExporterLaunch, startLaunch, startRedisServer, redisUrl, victoriaMetricsLaunch, type RunningProcess } from '../../stack/index.js';
import type { TestPostgres } from './postgres.js';
import { startSeededPostgres } from './seeded-postgres.js';
import { waitUntil } from './wait.js';
import { runScenario, type RunScenarioResult } from '../../k6/index.js';
import { INFRASTRUCTURE_JOBS } from '../../metrics/index.js';

// Polling lives in ./wait.ts (the service tests use it without this module's imports); the e2e tests import it from here.
export { waitUntil };

export const config: PerfstackConfig = parseConfig(defaults);

/** The project config with Alertmanager grouping shortened to 1 s for every severity. */
export function fastRoutingConfig(): PerfstackConfig {
  const fast = structuredClone(defaults);
  for (const severity of Object.values(fast.alerting.severities)) {
    severity.groupWait = '1s';
    severity.groupInterval = '1s';
  }
  return parseConfig(fast);
}

export interface E2eStackOptions {
  /** Prefix of the temporary folder. */
  name: string;
  /** Rewrites each generated rule file's text before Prometheus loads it (e.g. compressRuleTime). */
  transformRules?: (yamlText: string) => string;
  /** Start the Slack capture server and Alertmanager with the generated routing. */
  alerting?: boolean;
  /** Start node_exporter (the host dashboard reads it). */
  nodeExporter?: boolean;
  /**
   * Start the blackbox exporter (the generated blackbox.yml) and the probe job that asks it to probe
   * every service's health endpoint, so probe_success and the availability SLI's probe events exist.
   */
  blackbox?: boolean;
  /** Start VictoriaMetrics (samples visible at once, no query cache); Prometheus remote-writes everything to it. */
  longTermStore?: boolean;
}

export interface E2eStack {
  root: string;
  postgres: TestPostgres;
  app: RunningApp;
  pgStats: PgStatsExporter;
  redis: RunningProcess;
  /** redis_exporter against the stack's Redis (the Redis server row and the redis rules read it). */
  redisExporter: RunningProcess;
  prometheus: RunningProcess;
  prometheusUrl: string;
  nodeExporter?: RunningProcess;
  blackbox?: RunningProcess;
  alertmanager?: RunningProcess;
  alertmanagerUrl?: string;
  capture?: SlackCapture;
  victoriaMetrics?: RunningProcess;
  /** VictoriaMetrics' base URL: remote-write at /api/v1/write, the Prometheus query API under /api/v1. */
  victoriaMetricsUrl?: string;
  stop(): Promise<void>;
}

export async function startE2eStack(options: E2eStackOptions): Promise<E2eStack> {
  const root = mkdtempSync(join(tmpdir(), `perfstack-${options.name}-`));
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
    stops.length = 0;
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const postgres = await startSeededPostgres();
    stops.push(() => postgres.stop());
    // Redis for the read cache, so the cache panels have hits, misses and latencies.
    const redisPort = await freePort();
    mkdirSync(join(root, 'redis'));
    const redis = await startRedisServer({ port: redisPort, dir: join(root, 'redis') });
    stops.push(() => redis.stop());
    const app = await startApp({ databaseUrl: postgres.url, config, port: 0, redisUrl: redisUrl(redisPort), log: () => undefined });
    stops.push(() => app.stop());
    const pgStats = await startPgStatsExporter({ databaseUrl: postgres.url, port: 0, config, log: () => undefined });
    stops.push(() => pgStats.stop());
    const redisExporterPort = await freePort();
    const redisExporter = await startLaunch('redis-exporter', redisExporterPort, redisExporterLaunch({ port: redisExporterPort, redisUrl: redisUrl(redisPort) }));
    stops.push(() => redisExporter.stop());

    let nodeExporter: RunningProcess | undefined;
    let nodeTarget = '127.0.0.1:1';
    if (options.nodeExporter) {
      const port = await freePort();
      nodeExporter = await startLaunch('node-exporter', port, nodeExporterLaunch({ port }));
      stops.push(() => nodeExporter!.stop());
      nodeTarget = `127.0.0.1:${port}`;
    }

    let blackbox: RunningProcess | undefined;
    let blackboxTarget: string | undefined;
    if (options.blackbox) {
      const port = await freePort();
      const blackboxFile = join(root, 'blackbox.yml');
      writeFileSync(blackboxFile, renderYaml(blackboxConfig()));
      blackbox = await startLaunch('blackbox-exporter', port, blackboxLaunch({ configFile: blackboxFile, port }));
      stops.push(() => blackbox!.stop());
      blackboxTarget = `127.0.0.1:${port}`;
    }

    let capture: SlackCapture | undefined;
    let alertmanager: RunningProcess | undefined;
    let alertmanagerTarget = '127.0.0.1:1';
    if (options.alerting) {
      capture = await startSlackCapture({ log: () => undefined });
      stops.push(() => capture!.stop());
      const slackUrlFile = join(root, 'slack_api_url');
      writeFileSync(slackUrlFile, capture.url);
      const port = await freePort();
      const configFile = await writeAlertmanagerConfig(join(root, 'am'), fastRoutingConfig(), { slackApiUrlFile: slackUrlFile });
      alertmanager = await startLaunch('alertmanager', port, alertmanagerLaunch({ configFile, dataDir: join(root, 'am-data'), port }));
      stops.push(() => alertmanager!.stop());
      alertmanagerTarget = `127.0.0.1:${port}`;
    }

    let victoriaMetrics: RunningProcess | undefined;
    let victoriaMetricsUrl: string | undefined;
    if (options.longTermStore) {
      const port = await freePort();
      const launch = victoriaMetricsLaunch({ dataDir: join(root, 'vm-data'), port, retention: config.longTermStore.retention, fastQueries: true });
      victoriaMetrics = await startLaunch('victoria-metrics', port, launch);
      stops.push(() => victoriaMetrics!.stop());
      victoriaMetricsUrl = `http://127.0.0.1:${port}`;
    }

    const rulesFolder = join(root, 'rules');
    mkdirSync(rulesFolder);
    for (const file of generateRules(config).filter((f) => f.path.includes('/rules/'))) {
      const text = options.transformRules ? options.transformRules(file.content) : file.content;
      writeFileSync(join(rulesFolder, file.path.split('/').pop()!), text);
    }
    const prometheusPort = await freePort();
    const configFile = join(root, 'prometheus.yml');
    writeFileSync(
      configFile,
      renderYaml(
        prometheusConfig(
          { ...config, scrape: { interval: '1s', evaluationInterval: '1s' } },
          {
            serviceTargets: Object.fromEntries(config.services.map((s) => [s.job, `127.0.0.1:${app.port}`])),
            pgStats: `127.0.0.1:${pgStats.port}`,
            nodeExporter: nodeTarget,
            prometheus: `127.0.0.1:${prometheusPort}`,
            alertmanager: alertmanagerTarget,
            redisExporter: `127.0.0.1:${redisExporterPort}`,
            ...(blackboxTarget
              ? { blackbox: blackboxTarget, probeUrls: Object.fromEntries(config.services.map((s) => [s.name, `http://127.0.0.1:${app.port}${HEALTH_PATH}`])) }
              : {}),
            ...(victoriaMetricsUrl ? { longTermStore: `${victoriaMetricsUrl}/api/v1/write` } : {}),
          },
          `${rulesFolder}/*.yml`,
        ),
      ),
    );
    const prometheus = await startLaunch(
      'prometheus',
      prometheusPort,
      prometheusLaunch({ configFile, dataDir: join(root, 'prom-data'), port: prometheusPort, fastAlerts: true }),
    );
    stops.push(() => prometheus.stop());
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;

    // Prometheus answers /-/ready before its first scrape (target discovery is throttled to 5 s):
    // traffic sent before that would be folded into the first sample, and rate() would never see it.
    const jobs = [...new Set(config.services.map((s) => s.job)), 'pg-stats', INFRASTRUCTURE_JOBS.redis, ...(nodeExporter ? ['node'] : [])];
    await waitUntil(
      `Prometheus has scraped ${jobs.join(', ')}`,
      async () => {
        const up = await instantQuery(prometheusUrl, 'up');
        return jobs.every((job) => up.some((s) => s.metric.job === job && s.value[1] === '1'));
      },
      30_000,
      200,
    );
    if (blackbox) {
      await waitUntil(
        'Prometheus has a successful probe of every service',
        async () => {
          const probes = await instantQuery(prometheusUrl, `probe_success{job="${BLACKBOX_JOB}"}`);
          return config.services.every((service) => probes.some((s) => s.metric.service === service.name && s.value[1] === '1'));
        },
        30_000,
        200,
      );
    }

    return {
      root,
      postgres,
      app,
      pgStats,
      redis,
      redisExporter,
      prometheus,
      prometheusUrl,
      nodeExporter,
      blackbox,
      alertmanager,
      alertmanagerUrl: alertmanager ? `http://${alertmanagerTarget}` : undefined,
      capture,
      victoriaMetrics,
      victoriaMetricsUrl,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- Prometheus HTTP API ------------------------------------------------------------------------

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

async function api<T>(baseUrl: string, path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<T> {
  const response =
    method === 'GET'
      ? await fetch(`${baseUrl}${path}?${new URLSearchParams(params)}`)
      : await fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  const body = (await response.json()) as { status: string; data: T; error?: string; errorType?: string };
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.errorType ?? ''} ${body.error ?? JSON.stringify(body)}`);
  return body.data;
}

/** Instant query at `time` (seconds; default now). */
export async function instantQuery(baseUrl: string, expr: string, time?: number): Promise<Sample[]> {
  const data = await api<{ resultType: string; result: Sample[] }>(baseUrl, '/api/v1/query', { query: expr, ...(time ? { time: String(time) } : {}) });
  return data.result;
}

export async function rangeQuery(baseUrl: string, expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
  const data = await api<{ resultType: string; result: RangeSeries[] }>(baseUrl, '/api/v1/query_range', {
    query: expr,
    start: String(start),
    end: String(end),
    step: String(step),
  });
  return data.result;
}

/** The values of `label` on the series matching `selector` between start and end, as Grafana's label_values() does. */
export async function labelValues(baseUrl: string, label: string, selector: string, start: number, end: number): Promise<string[]> {
  // Prometheus 2.42 answers this endpoint on GET only.
  return api<string[]>(baseUrl, `/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': selector, start: String(start), end: String(end) }, 'GET');
}

/** The single number of an instant query, or undefined when it returns nothing. */
export async function scalarOf(baseUrl: string, expr: string): Promise<number | undefined> {
  const result = await instantQuery(baseUrl, expr);
  return result[0] ? Number(result[0].value[1]) : undefined;
}

/** The Slack channel an alert with these labels reaches: the team's override, else the severity's channel. */
export function expectedChannel(severity: 'critical' | 'warning' | 'ticket', team: string): string {
  const override = config.alerting.teams.find((t) => t.name === team)?.channels[severity];
  return override ?? config.alerting.severities[severity].channel;
}

// ---- traffic ------------------------------------------------------------------------------------

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** One request on every route the config lists (and the service serves); returns the statuses by route. */
export async function everyRoute(baseUrl: string, round: number): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  const hit = async (route: string, path: string, init?: RequestInit) => {
    const response = await fetch(`${baseUrl}${path}`, init);
    statuses[route] = response.status;
    return response;
  };
  const created = (await (await hit('/api/entities', '/api/entities', json({ name: `e2e probe ${round}`, category: 'customer', attributes: {} }))).json()) as { id: number };
  await (await hit('/api/entities/:id', `/api/entities/${created.id}`)).arrayBuffer();
  await (await hit('/api/entities', '/api/entities?limit=5')).arrayBuffer();
  await (await hit('/api/search', '/api/search?q=acme')).arrayBuffer();
  await (await hit('/api/resolve', '/api/resolve', json({ candidates: ['acme corp'] }))).arrayBuffer();
  await (await hit('/api/entities/bulk', '/api/entities/bulk', json({ mode: 'copy', entities: [{ name: `e2e bulk ${round}`, category: 'customer', attributes: {} }] }))).arrayBuffer();
  const login = (await (await hit('/api/auth/login', '/api/auth/login', json(DEMO_USER))).json()) as { token?: string };
  await (await hit('/api/auth/logout', '/api/auth/logout', { method: 'POST', headers: login.token ? { authorization: `Bearer ${login.token}` } : {} })).arrayBuffer();
  const file = (await (await hit('/api/files', '/api/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `e2e file ${round}` })).json()) as { id?: number };
  await (await hit('/api/files/:id', `/api/files/${file.id ?? 0}`)).arrayBuffer();
  return statuses;
}

export interface TrafficLoop {
  /** Requests answered so far, by status code. */
  statuses: Map<number, number>;
  /** Stops the loop and resolves once every worker has finished its request in flight. */
  stop(): Promise<void>;
}

/**
 * `workers` concurrent loops of GET `paths` (round robin) against the service until stop() or
 * `maxMs`, whichever comes first. Bounded in time; each request has a 10 s timeout.
 */
export function trafficLoop(baseUrl: string, paths: string[], workers: number, maxMs: number): TrafficLoop {
  const statuses = new Map<number, number>();
  const deadline = Date.now() + maxMs;
  let stopped = false;
  let n = 0;
  const worker = async () => {
    while (!stopped && Date.now() < deadline) {
      const path = paths[n++ % paths.length]!;
      try {
        const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Modest load: this machine runs the rest of `npm test` at the same time.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker));
  return {
    statuses,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** A short smoke run (1 VU, 5 s, pushing every second) against the e2e stack's service, tagged testid. */
export function smokeRunOnStack(stack: Pick<E2eStack, 'app' | 'prometheusUrl' | 'root'>, testid: string): Promise<RunScenarioResult> {
  return runScenario({
    scenario: 'smoke',
    baseUrl: stack.app.url,
    prometheusUrl: stack.prometheusUrl,
    testid,
    outputDir: join(stack.root, 'k6'),
    vus: 1,
    duration: '5s',
    pushInterval: '1s',
    timeoutMs: 60_000,
  });
}
