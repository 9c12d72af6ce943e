// The long-term store: Prometheus remote-writes everything to VictoriaMetrics, and the stack's
// dashboards and rules work there unchanged.
//
// The generators and compose's profile are checked statically. End to end, the e2e stack runs
// with VictoriaMetrics (test/support/e2e-stack.ts, longTermStore: true) behind Prometheus; after a
// k6 smoke run and a request on every route, once Prometheus reports it has sent everything, every
// dashboard query runs against VictoriaMetrics' Prometheus API (same resolution and allow-lists as
// test/e2e-dashboards.test.ts) and must have data. Then vmalert evaluates every generated rule file
// against VictoriaMetrics (recording results written back to it, alerts to a local sink standing
// in for Alertmanager), and every rule must evaluate without an error. Last, the native stack is
// started as `perfstack start --long-term-store` starts it, and stopped as `perfstack down` does.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import defaults from '../perfstack.config.js';
import { ConfigError, loadConfig, parseConfig } from '../config/index.js';
import { writeAlertmanagerConfig } from '../alerts/index.js';
import type { RunScenarioResult } from '../k6/index.js';
import {
  COMPOSE_VICTORIA_METRICS_URL,
  LONG_TERM_STORE_DATASOURCE_UID,
  composeTargets,
  freePort,
  generateGrafanaProvisioning,
  isOurProcess,
  prometheusConfig,
  readStackState,
  startNativeStack,
  stopNativeStack,
  startLaunch,
  vmalertLaunch,
  type RunningProcess,
} from '../stack/index.js';
import { ALLOWED_EMPTY, checkEveryDashboardQuery, dashboardPanels, FED_ELSEWHERE } from './support/dashboard-queries.js';
import { loadPageAsUser } from '../app/rum/testing.js';
import { config, everyRoute, instantQuery, labelValues, smokeRunOnStack, startE2eStack, waitUntil, type E2eStack } from './support/e2e-stack.js';

const projectRoot = resolve(import.meta.dirname, '..');

function withLongTermStore(store: Record<string, unknown>) {
  return parseConfig({ ...structuredClone(defaults), longTermStore: { enabled: true, retention: '1y', ...store } });
}

function configProblems(store: Record<string, unknown>): string {
  try {
    withLongTermStore(store);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

describe('the long-term store in the config, the generated files and compose', () => {
  it('is off by default: the committed prometheus.yml has no remote_write and Grafana one datasource', () => {
    expect(config.longTermStore).toEqual({ enabled: false, retention: '1y' });
    const committed = parse(readFileSync(join(projectRoot, 'provisioning/prometheus/prometheus.yml'), 'utf8')) as Record<string, unknown>;
    expect(committed.remote_write).toBeUndefined();
    const datasources = parse(generateGrafanaProvisioning(config)[0]!.content) as { datasources: { uid: string }[] };
    expect(datasources.datasources.map((d) => d.uid)).not.toContain(LONG_TERM_STORE_DATASOURCE_UID);
  });

  it('on, compose’s Prometheus remote-writes to the victoriametrics service and Grafana gets a second datasource there', () => {
    const on = withLongTermStore({});
    const yml = prometheusConfig(on, composeTargets(on)) as { remote_write?: { url: string; name: string }[] };
    expect(yml.remote_write).toEqual([{ name: 'long-term-store', url: `${COMPOSE_VICTORIA_METRICS_URL}/api/v1/write` }]);
    const datasources = parse(generateGrafanaProvisioning(on)[0]!.content) as { datasources: { uid: string; type: string; url: string; isDefault: boolean }[] };
    const store = datasources.datasources.find((d) => d.uid === LONG_TERM_STORE_DATASOURCE_UID);
    expect(store).toMatchObject({ type: 'prometheus', url: COMPOSE_VICTORIA_METRICS_URL, isDefault: false });
    expect(datasources.datasources.filter((d) => d.isDefault)).toHaveLength(1); // Prometheus stays the default
    // Another Grafana (the native stack's) gets the store only at a URL it is given.
    const elsewhere = (url?: string) => (parse(generateGrafanaProvisioning(on, 'http://127.0.0.1:9090', url)[0]!.content) as { datasources: { uid: string; url: string }[] }).datasources;
    expect(elsewhere().map((d) => d.uid)).not.toContain(LONG_TERM_STORE_DATASOURCE_UID);
    expect(elsewhere('http://127.0.0.1:8428').find((d) => d.uid === LONG_TERM_STORE_DATASOURCE_UID)?.url).toBe('http://127.0.0.1:8428');

    // An external store: Prometheus writes there, Grafana queries its query URL.
    const external = withLongTermStore({ remoteWriteUrl: 'http://vminsert:8480/insert/0/prometheus/api/v1/write', queryUrl: 'http://vmselect:8481/select/0/prometheus' });
    const externalYml = prometheusConfig(external, composeTargets(external)) as { remote_write?: { url: string }[] };
    expect(externalYml.remote_write?.[0]?.url).toBe('http://vminsert:8480/insert/0/prometheus/api/v1/write');
    const externalSources = parse(generateGrafanaProvisioning(external)[0]!.content) as { datasources: { uid: string; url: string }[] };
    expect(externalSources.datasources.find((d) => d.uid === LONG_TERM_STORE_DATASOURCE_UID)?.url).toBe('http://vmselect:8481/select/0/prometheus');
  });

  it('names the field of a bad longTermStore setting', () => {
    expect(configProblems({ retention: '12' })).toMatch(/longTermStore\.retention: must be a VictoriaMetrics retention/);
    expect(configProblems({ retention: '20d' })).toMatch(/longTermStore\.retention: 20d is shorter than Prometheus's own retention \(35d\)/);
    expect(configProblems({ remoteWriteUrl: 'http://vminsert:8480/insert/0/prometheus/api/v1/write' })).toMatch(/longTermStore\.queryUrl: required with remoteWriteUrl/);
    expect(configProblems({ queryUrl: 'vmselect:8481' })).toMatch(/longTermStore\.queryUrl: must be an absolute http\(s\) URL/);
    expect(configProblems({ retention: '2y' })).toBe('');
  });

  const compose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  it.skipIf(compose.status !== 0)('compose runs VictoriaMetrics only in the long-term-store profile: pinned, loopback-only, the configured retention', () => {
    const env = { ...process.env, GRAFANA_ADMIN_PASSWORD: 't', POSTGRES_PASSWORD: 't', PERFSTACK_APP_PASSWORD: 't', PERFSTACK_EXPORTER_PASSWORD: 't', PERFSTACK_STORE_PASSWORD: 't' };
    const run = (args: string[]) => spawnSync('docker-compose', ['-f', join(projectRoot, 'docker-compose.yml'), ...args], { cwd: projectRoot, env, encoding: 'utf8' });
    const raw = parse(readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { profiles?: string[]; depends_on?: unknown }> };
    expect(raw.services.victoriametrics?.profiles, 'only on demand').toEqual(['long-term-store']);
    // Nothing outside the profile depends on it, so `docker compose up` without the profile still works.
    for (const [name, other] of Object.entries(raw.services)) expect(JSON.stringify(other.depends_on ?? {}), name).not.toContain('victoriametrics');
    const withProfile = run(['--profile', 'long-term-store', 'config']);
    expect(withProfile.stderr).toBe('');
    expect(withProfile.status).toBe(0);
    const service = (parse(withProfile.stdout) as { services: Record<string, { image: string; command: string[]; ports: unknown[]; healthcheck?: unknown; volumes: unknown[] }> }).services.victoriametrics;
    expect(service?.image).toMatch(/^victoriametrics\/victoria-metrics:v\d+\.\d+\.\d+$/);
    expect(service?.command).toContain(`-retentionPeriod=${config.longTermStore.retention}`);
    expect(JSON.stringify(service?.ports)).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(service?.ports)).toContain('8428');
    expect(service?.healthcheck).toBeDefined();
    expect(JSON.stringify(service?.volumes)).toContain('victoriametrics-data');
    expect(`http://victoriametrics:8428`).toBe(COMPOSE_VICTORIA_METRICS_URL);
  });
});

interface VmalertRule {
  name: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError: string;
  lastEvaluation: string;
  lastSamples: number;
}

/** Accepts what vmalert sends to Alertmanager (POST /api/v2/alerts) and counts it. */
async function alertSink(): Promise<{ server: Server; url: string; received: () => number }> {
  let received = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/api/v2/alerts') received += (JSON.parse(Buffer.concat(chunks).toString() || '[]') as unknown[]).length;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}`, received: () => received };
}

const binaries = ['/usr/bin/victoria-metrics', '/usr/bin/vmalert', '/usr/bin/prometheus'];
const missing = binaries.filter((file) => !existsSync(file));

// The dashboard check loads the service's page in Chromium too (the real-user panels).
const missingForDashboards = [...missing, ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium'])];

describe.skipIf(missingForDashboards.length > 0)(`dashboards and rules on VictoriaMetrics after a k6 smoke run${missingForDashboards.length ? ` (skipped: ${missingForDashboards.join(', ')} not installed)` : ''}`, () => {
  let stack: E2eStack | undefined;
  let k6Run: RunScenarioResult;
  let startedAt = 0;
  let flushedAt = 0;
  const testid = `e2e-lts-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    startedAt = Date.now() / 1000;
    stack = await startE2eStack({ name: 'e2e-lts', nodeExporter: true, longTermStore: true });
    const app = stack.app;
    await everyRoute(app.url, 1);
    // A real page load in Chromium: its RUM beacon feeds the front-end dashboard's real-user panels.
    await loadPageAsUser(app.url);
    k6Run = await smokeRunOnStack(stack, testid);
    await everyRoute(app.url, 2);
    // The SLO recording rules (30 d windows included) need two scrapes of every series and an evaluation after them.
    const prometheusUrl = stack.prometheusUrl;
    await waitUntil(
      'every SLO has a finite slo:sli_error:ratio_rate30d in Prometheus',
      async () => {
        const result = await instantQuery(prometheusUrl, 'slo:sli_error:ratio_rate30d');
        const finite = new Set(result.filter((s) => Number.isFinite(Number(s.value[1]))).map((s) => s.metric.slo));
        return config.slos.every((slo) => finite.has(slo.name));
      },
      30_000,
    );
    await everyRoute(app.url, 3);
    await new Promise((done) => setTimeout(done, 3000)); // a few more scrapes and evaluations after the last request
    // Remote write has flushed once Prometheus says it has sent samples newer than now.
    const now = Date.now() / 1000;
    await waitUntil(
      'Prometheus has remote-written everything up to now to VictoriaMetrics',
      async () => {
        const sent = await instantQuery(prometheusUrl, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds{remote_name="long-term-store"}');
        return Number(sent[0]?.value[1] ?? 0) >= now;
      },
      60_000,
    );
    flushedAt = Date.now() / 1000;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('the k6 smoke run passes, and Prometheus failed or dropped no sample on the way', async () => {
    expect(k6Run.exitCode, `k6 log: ${k6Run.logPath}`).toBe(0);
    const failed = await instantQuery(stack!.prometheusUrl, 'sum(prometheus_remote_storage_samples_failed_total) + sum(prometheus_remote_storage_samples_dropped_total or vector(0))');
    expect(Number(failed[0]?.value[1])).toBe(0);
  });

  it('VictoriaMetrics holds the run’s k6 series, the scraped series and what Prometheus recorded', async () => {
    const vm = stack!.victoriaMetricsUrl!;
    expect(await labelValues(vm, 'testid', 'k6_http_reqs_total', startedAt, flushedAt)).toEqual([testid]);
    const jobs = await labelValues(vm, 'job', 'up', startedAt, flushedAt);
    for (const job of [...new Set(config.services.map((s) => s.job)), 'pg-stats', 'node', 'prometheus']) expect(jobs, job).toContain(job);
    // Every series carries Prometheus's external label.
    expect(await labelValues(vm, 'stack', 'up', startedAt, flushedAt)).toEqual(['perfstack']);
    const recorded = await instantQuery(vm, 'last_over_time(slo:sli_error:ratio_rate30d[5m])');
    expect(new Set(recorded.map((s) => s.metric.slo))).toEqual(new Set(config.slos.map((slo) => slo.name)));
  });

  it('every panel query and variable query of every dashboard returns data from VictoriaMetrics', async () => {
    const range = { start: startedAt, end: flushedAt, testid };
    const result = await checkEveryDashboardQuery(stack!.victoriaMetricsUrl!, range);
    // The same queries on Prometheus: a panel empty there is e2e-dashboards.test.ts's finding; one
    // empty only on VictoriaMetrics is this test's.
    const inPrometheus = await checkEveryDashboardQuery(stack!.prometheusUrl, range);
    for (const skipped of result.skippedDashboards) console.log(`e2e-long-term-store: not checked: ${skipped}`);
    console.log(
      `e2e-long-term-store: ${result.checked} queries checked on VictoriaMetrics, ${result.empty.length} empty (${inPrometheus.empty.length} on Prometheus), ${result.allowedEmpty.length} empty on the allow-list`,
    );
    expect(result.variableProblems, 'template variables').toEqual([]);
    expect(result.unresolved, 'queries with a variable this test could not fill in').toEqual([]);
    expect(result.errors, 'queries VictoriaMetrics rejected').toEqual([]);
    expect(result.empty.filter((where) => !inPrometheus.empty.includes(where)), 'panels with data on Prometheus but none on VictoriaMetrics').toEqual([]);
    expect(result.empty, 'panels with no data (dashboard / panel: query)').toEqual([]);
    expect(result.checked).toBe(inPrometheus.checked);
    expect(result.checked).toBeGreaterThan(80);
  });

  it('vmalert evaluates every generated rule against VictoriaMetrics without an error', async () => {
    const vm = stack!.victoriaMetricsUrl!;
    const rulesFolder = join(stack!.root, 'rules');
    const ruleFiles = readdirSync(rulesFolder).filter((f) => f.endsWith('.yml')).sort().map((f) => join(rulesFolder, f));
    const expectedRules = ruleFiles.flatMap((file) =>
      (parse(readFileSync(file, 'utf8')) as { groups: { rules: { alert?: string; record?: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record!)),
    );
    // A control the check must catch: every `up` series relabelled to one label set, which no
    // evaluator may record (duplicate series). Proves a rule vmalert cannot evaluate shows up here.
    const control = join(stack!.root, 'control-rules.yml');
    writeFileSync(
      control,
      stringify({ groups: [{ name: 'control', rules: [{ record: 'control:duplicate_labelsets', expr: 'label_replace(label_replace(up, "instance", "one", "", ""), "job", "one", "", "")' }] }] }),
    );
    const sink = await alertSink();
    const port = await freePort();
    let vmalert: RunningProcess | undefined;
    try {
      vmalert = await startLaunch(
        'vmalert',
        port,
        // Its recorded series carry evaluator="vmalert", apart from the same series Prometheus recorded.
        vmalertLaunch({ ruleFiles: [...ruleFiles, control], datasourceUrl: vm, notifierUrl: sink.url, remoteWriteUrl: vm, port, evaluationInterval: '2s', externalLabels: { evaluator: 'vmalert' } }),
      );
      const rulesUrl = `http://127.0.0.1:${port}/api/v1/rules`;
      const startedVmalert = Date.now();
      const fetchRules = async () => {
        const body = (await (await fetch(rulesUrl)).json()) as { data: { groups: { name: string; rules: VmalertRule[] }[] } };
        return body.data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
      };
      await waitUntil(
        'vmalert has evaluated every rule',
        async () => {
          const all = await fetchRules();
          return all.length > 0 && all.every((r) => Date.parse(r.lastEvaluation) >= startedVmalert);
        },
        60_000,
      );
      // Two more intervals: a rule reading another's recorded series sees it by then.
      await new Promise((done) => setTimeout(done, 4_500));
      const rules = await fetchRules();
      expect(rules.map((r) => r.name).sort(), 'vmalert loaded every generated rule').toEqual([...expectedRules, 'control:duplicate_labelsets'].sort());
      const controlRule = rules.find((r) => r.name === 'control:duplicate_labelsets');
      expect(controlRule?.health, 'the control rule is reported broken').not.toBe('ok');
      expect(controlRule?.lastError).toMatch(/.+/);
      const broken = rules
        .filter((r) => r !== controlRule)
        .filter((r) => r.health !== 'ok' || r.lastError !== '').map((r) => `${r.group} / ${r.name}: health ${r.health}, ${r.lastError}`);
      expect(broken, 'rules vmalert cannot evaluate on VictoriaMetrics (MetricsQL differences)').toEqual([]);

      // Recording rules with a result in Prometheus have one in vmalert too (the data is the same).
      const recording = rules.filter((r) => r.type === 'recording' && r !== controlRule);
      const emptyInVmalert: string[] = [];
      for (const rule of recording) {
        const inPrometheus = await instantQuery(stack!.prometheusUrl, `count(last_over_time(${rule.name}[1m]))`);
        if (Number(inPrometheus[0]?.value[1] ?? 0) > 0 && rule.lastSamples === 0) emptyInVmalert.push(rule.name);
      }
      console.log(`e2e-long-term-store: vmalert evaluated ${rules.length} rules (${recording.length} recording), sent ${sink.received()} alert notifications`);
      expect(emptyInVmalert, 'recording rules with data in Prometheus but none in vmalert').toEqual([]);
      const written = await labelValues(vm, 'evaluator', '{__name__=~".+:.+"}', startedAt, Date.now() / 1000 + 60);
      expect(written, 'vmalert wrote its recording results back to VictoriaMetrics').toEqual(['vmalert']);
    } finally {
      await vmalert?.stop();
      await new Promise((done) => sink.server.close(done));
    }
  }, 120_000);

  it('names only real dashboards and panels on the allow-lists', () => {
    const { panels, files } = dashboardPanels();
    for (const entry of ALLOWED_EMPTY) expect(panels, entry.why).toContain(`${entry.dashboard} / ${entry.panel}`);
    for (const entry of FED_ELSEWHERE) expect(files, entry.why).toContain(entry.dashboard);
  });
});

describe.skipIf(missing.length > 0)('the native stack with the long-term store (perfstack start --long-term-store)', () => {
  let stateDir = '';
  const lines: string[] = [];

  afterAll(async () => {
    if (stateDir) {
      await stopNativeStack(stateDir, () => undefined).catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('starts VictoriaMetrics before Prometheus, which remote-writes to it; down stops it by its PID', async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'perfstack-native-lts-'));
    chmodSync(stateDir, 0o755); // the postgres user must reach state/postgres
    const configFile = join(projectRoot, 'perfstack.config.ts');
    const loaded = await loadConfig(configFile);
    expect(loaded.longTermStore.enabled, 'the flag, not the config, turns it on here').toBe(false);
    const native = { ...loaded, scrape: { ...loaded.scrape, interval: '1s' } };
    const stack = await startNativeStack(native, {
      stateDir,
      ruleFiles: [],
      writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, native, { slackApiUrlFile }),
      configFile,
      ports: 'free',
      longTermStore: true,
      log: (line) => lines.push(line),
    });
    const names = stack.components.map((c) => c.name);
    expect(names.indexOf('victoria-metrics')).toBe(names.indexOf('prometheus') - 1);
    const vm = stack.components.find((c) => c.name === 'victoria-metrics')!;
    expect(stack.urls.longTermStore).toBe(vm.url);
    expect(vm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(`/proc/${vm.pid}/cmdline`, 'utf8').split('\0')).toContain(`-retentionPeriod=${loaded.longTermStore.retention}`);
    const yml = parse(readFileSync(join(stateDir, 'prometheus/prometheus.yml'), 'utf8')) as { remote_write?: { url: string }[] };
    expect(yml.remote_write?.map((w) => w.url)).toEqual([`${vm.url}/api/v1/write`]);
    await waitUntil(
      'VictoriaMetrics has every scrape job of the native stack',
      async () => {
        const jobs = new Set((await instantQuery(vm.url, 'up')).map((s) => s.metric.job));
        return ['prometheus', 'pg-stats', 'node', ...config.services.map((s) => s.job)].every((job) => jobs.has(job));
      },
      60_000,
    );

    await stopNativeStack(stateDir, (line) => lines.push(line));
    expect(lines.some((line) => line.startsWith('victoria-metrics stopped'))).toBe(true);
    expect(isOurProcess(vm)).toBe(false);
    expect(readStackState(stateDir).components).toEqual([]);
  }, 180_000);
});
