// End to end: a latency regression injected into the reference service is caught by
// `perfstack compare`, and reaches on-call's Slack channel as the PerformanceRegression alert.
//
// The native stack (as `perfstack start` runs it) comes up on free loopback ports in a temporary
// state folder, with a test config module: scrape and rule evaluation every second, Alertmanager
// grouping of one second, and a regression sensitivity for single-run comparisons (see
// e2e-support.ts, writeE2eConfig). Then:
//   1. k6 smoke (8 s, 3 VUs, per-request samples) is the baseline, imported on main;
//   2. +400 ms on /api/search through the fault switch, smoke again as the candidate, fault off,
//      imported on main (each run starts from the seeded entities table, see smoke() below);
//   3. `perfstack compare <candidate>` exits 1, names p95 latency of /api/search and nothing else,
//      writes the Markdown and HTML reports and publishes the verdicts for node_exporter;
//   4. Prometheus scrapes the verdict, the PerformanceRegression rule fires, Alertmanager routes it
//      to #perfstack-warnings at the Slack capture server, with the runbook and dashboard links.
// Bad input exits 2: an unknown testid, a truncated summary (which stores nothing).

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAlertmanagerConfig } from '../alerts/index.js';
import { generateAll } from '../cli/index.js';
import { loadConfig, type PerfstackConfig } from '../config/index.js';
import { runScenario } from '../k6/index.js';
import { startNativeStack, stopNativeStack, type NativeStack } from '../stack/index.js';
import { regression } from '../metrics/index.js';
import { samplesFromK6Json } from './index.js';
import { MIN_SAMPLES_FOR_RANK_TEST } from './stats/index.js';
import { capturedMessages, compareLines, describeChanges, entityExtent, restoreSeededEntities, parseExposition, pollFile, runCli, setFault, writeE2eConfig, type CliResult } from './e2e-support.js';

const SEARCH = '/api/search';
const FAULT_MS = 400;
const RUN_DURATION = '8s';
// Smoke's one VU walks every endpoint once per iteration; with the fault an iteration takes over
// half a second, so one VU would send /api/search (and /api/resolve, /api/files, the auth routes)
// only ~13 times in 8 s, short of the rank test's MIN_SAMPLES_FOR_RANK_TEST per side. Three VUs,
// on both runs alike, give every endpoint enough requests.
const RUN_VUS = 3;

describe('a latency regression is detected by perfstack compare and alerted on Slack', () => {
  let root: string | undefined;
  let stateDir: string;
  let configFile: string;
  let config: PerfstackConfig;
  let stack: NativeStack;
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15);
  const baseTestid = `e2e-base-${stamp}`;
  const candidateTestid = `e2e-cand-${stamp}`;
  let seeded: { maxId: number; rows: number };
  let baseSummary: string;
  let baseSamples: Map<string, number[]>;
  let candidateSamples: Map<string, number[]>;
  let compared: CliResult;
  const timings: Record<string, number> = {};

  const cli = (args: string[], timeoutMs?: number) => runCli([...args, '--state-dir', stateDir], timeoutMs);

  async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[label] = Date.now() - started;
    }
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'perfstack-regression-e2e-'));
    chmodSync(root, 0o755); // the postgres user must reach state/postgres
    stateDir = join(root, 'state');
    mkdirSync(stateDir, { mode: 0o755 });
    configFile = writeE2eConfig(root);
    config = await loadConfig(configFile);
    expect(config.scrape).toEqual({ interval: '1s', evaluationInterval: '1s' });
    expect(config.regression).toMatchObject({ minEffect: 2, alpha: 0.01 });
    stack = await timed('stack start', () =>
      startNativeStack(config, {
        stateDir,
        ruleFiles: generateAll(config).filter((file) => file.path.startsWith('provisioning/prometheus/rules/')),
        writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, config, { slackApiUrlFile }),
        configFile,
        ports: 'free',
        log: () => undefined,
      }),
    );
    expect(stack.seeded).toBe(true);
    seeded = await entityExtent(stack.files.databaseUrl);
    expect(seeded.rows).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    if (stack) await setFault(stack.urls.app, stack.files.adminToken, {}).catch(() => undefined);
    if (root) {
      await stopNativeStack(stateDir, () => undefined).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    }
    console.log(`regression e2e timings (ms): ${JSON.stringify(timings)}`);
  }, 60_000);

  async function smoke(testid: string) {
    // Both runs start from the seeded table. Smoke's writes grow it by ~100 entities an iteration,
    // and the trigram lookups of /api/resolve and /api/search slow down with its size: without
    // this the candidate always met a bigger table than its baseline, and /api/resolve measured
    // +57 … +181 % from table growth alone (with no fault on it).
    const removed = await restoreSeededEntities(stack.files.databaseUrl, seeded.maxId);
    console.log(`${testid}: ${removed} entities from earlier runs removed; ${seeded.rows} seeded rows`);
    const result = await runScenario({
      scenario: 'smoke',
      baseUrl: stack.urls.app,
      prometheusUrl: stack.urls.prometheus,
      testid,
      outputDir: join(root!, 'runs', testid),
      duration: RUN_DURATION,
      vus: RUN_VUS,
      recordSamples: true,
      pushInterval: '1s',
      timeoutMs: 60_000,
    });
    expect(result.testid).toBe(testid);
    expect(existsSync(result.summaryPath), result.summaryPath).toBe(true);
    expect(result.samplesPath && existsSync(result.samplesPath), 'samples.json.gz').toBe(true);
    // The comparison below is the per-request one: every endpoint needs enough requests in each run.
    const samples = new Map((await samplesFromK6Json(result.samplesPath!)).map((s) => [s.endpoint, s.samples]));
    expect(samples.get(SEARCH)?.length, `${SEARCH} requests in ${testid}`).toBeGreaterThan(0);
    for (const [endpoint, values] of samples) expect(values.length, `${endpoint} requests in ${testid}`).toBeGreaterThanOrEqual(MIN_SAMPLES_FOR_RANK_TEST);
    return { ...result, samples };
  }

  async function importRun(summaryPath: string) {
    const imported = await cli(['import', summaryPath, '--branch', 'main', '--config', configFile]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/with per-request samples of \d+ endpoint\(s\)/);
  }

  it('stores a smoke run as the baseline, and a run with +400 ms on /api/search as the candidate', async () => {
    const base = await timed('baseline run', () => smoke(baseTestid));
    expect(base.exitCode, `baseline k6 exit; see ${base.logPath}`).toBe(0);
    baseSummary = base.summaryPath;
    baseSamples = base.samples;
    await timed('baseline import', () => importRun(base.summaryPath));

    const fault = await setFault(stack.urls.app, stack.files.adminToken, { latencyMs: FAULT_MS, route: SEARCH });
    expect(fault).toEqual({ latencyMs: FAULT_MS, errorRate: 0, route: SEARCH });
    const candidate = await timed('candidate run', () => smoke(candidateTestid)).finally(async () => {
      expect(await setFault(stack.urls.app, stack.files.adminToken, {})).toEqual({ latencyMs: 0, errorRate: 0 });
    });
    // The search SLA (p50 < 400 ms) fails under the fault: k6 says so with exit 99, and still writes its summary.
    expect([0, 99], `candidate k6 exit; see ${candidate.logPath}`).toContain(candidate.exitCode);
    candidateSamples = candidate.samples;
    await timed('candidate import', () => importRun(candidate.summaryPath));

    const list = await cli(['baseline', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(baseTestid);
    expect(list.stdout).toContain(candidateTestid);
  }, 120_000);

  it('perfstack compare exits 1 and names p95 latency of /api/search, and nothing else, as regressed', async () => {
    compared = await timed('compare', () => cli(['compare', candidateTestid, '--config', configFile]));
    // KPIs a single baseline run cannot judge (run-level values) are listed as skipped; the rest is the verdict.
    const judged = compared.stdout.split('\n').filter((line) => !line.startsWith('skipped'));
    console.log(`perfstack compare ${candidateTestid} (exit ${compared.code}, ${compared.ms} ms):\n${judged.join('\n')}${compared.stderr}`);

    const promFile = join(stack.files.textfileDir, 'perfstack_regression_smoke.prom');
    expect(existsSync(promFile), promFile).toBe(true);
    const samples = parseExposition(readFileSync(promFile, 'utf8')).filter((s) => s.labels.testid === candidateTestid);
    console.log(`per-request medians, baseline → candidate (minEffect ${config.regression.minEffect * 100} %):\n${describeChanges(baseSamples, candidateSamples)}`);

    expect(compared.code, compared.stderr).toBe(1);
    expect(compareLines(compared.stdout)).toEqual([{ verdict: 'regressed', kpi: 'latency_p95', endpoint: SEARCH, change: expect.stringMatching(/^\d+\.\d %$/) }]);
    expect(compared.stdout).toMatch(/^1 regressed, 0 improved, \d+ unchanged against last 5 runs on main$/m);

    // The published verdicts: exactly one regressed series, the one the fault caused.
    const detected = samples.filter((s) => s.name === regression.detected);
    expect(detected.length).toBeGreaterThan(1); // every compared endpoint has a verdict
    const regressed = detected.filter((s) => s.value === 1);
    expect(regressed.map((s) => s.labels)).toEqual([
      { scenario: 'smoke', testid: candidateTestid, baseline: 'last 5 runs on main', kpi: 'latency_p95', endpoint: SEARCH },
    ]);
    expect(detected.every((s) => s.value === 0 || s.value === 1)).toBe(true);
    const searchChange = samples.find((s) => s.name === regression.relativeChange && s.labels.endpoint === SEARCH);
    expect(searchChange?.value).toBeGreaterThan(config.regression.minEffect);

    // The reports.
    const reports = join(stateDir, 'reports', candidateTestid);
    const markdown = readFileSync(join(reports, 'regression-report.md'), 'utf8');
    expect(markdown).toMatch(/^## Performance regression report: FAIL/);
    expect(markdown).toContain('**Worst regression:** p95 latency of `/api/search`');
    const html = readFileSync(join(reports, 'regression-report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(compared.stdout).toContain(`reports: ${join(reports, 'regression-report.md')}, ${join(reports, 'regression-report.html')}`);
  }, 90_000);

  it('the PerformanceRegression alert reaches #perfstack-warnings with its runbook and dashboard links', async () => {
    expect(compared?.code).toBe(1);
    const log = stack.files.slackCaptureLog;
    expect(log).toBeDefined();
    const title = '[FIRING:1] PerformanceRegression (warning)';
    const message = await timed('alert at Slack', () =>
      pollFile(log!, (text) => capturedMessages(text).find((m) => m.channel === '#perfstack-warnings' && m.title === title), 60_000),
    );
    console.log(`PerformanceRegression reached the Slack capture ${timings['alert at Slack']} ms after compare returned`);
    expect(message.text).toContain('*A load-test run regressed against its baseline*');
    expect(message.text).toContain(`Run ${candidateTestid} of scenario smoke regressed on latency_p95 ${SEARCH}`);
    expect(message.text).toMatch(/<https:\/\/[^|>]+\/runbooks\.md#performanceregression\|Runbook>/);
    expect(message.text).toMatch(/<http:\/\/[^|>]+\/d\/perfstack-regressions\|Dashboard>/);
    // Prometheus holds exactly the one firing alert, for the endpoint and KPI that regressed.
    const query = encodeURIComponent('ALERTS{alertname="PerformanceRegression",alertstate="firing"}');
    const alerts = (await (await fetch(`${stack.urls.prometheus}/api/v1/query?query=${query}`, { signal: AbortSignal.timeout(10_000) })).json()) as {
      data: { result: { metric: Record<string, string> }[] };
    };
    expect(alerts.data.result.map((r) => [r.metric.kpi, r.metric.endpoint, r.metric.testid, r.metric.severity])).toEqual([['latency_p95', SEARCH, candidateTestid, 'warning']]);
  }, 90_000);

  it('exits 2 naming an unknown testid', async () => {
    const unknown = `e2e-nosuch-${stamp}`;
    const result = await cli(['compare', unknown, '--config', configFile]);
    expect(result.code, result.stdout).toBe(2);
    expect(result.stderr).toContain(`testid: no stored run with testid "${unknown}"`);
  }, 60_000);

  it('exits 2 on a truncated summary, and stores nothing', async () => {
    const before = await cli(['baseline', 'list']);
    expect(before.code, before.stderr).toBe(0);
    const folder = join(root!, 'truncated');
    mkdirSync(folder);
    const text = readFileSync(baseSummary, 'utf8');
    const truncated = join(folder, 'summary.json');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));
    const result = await cli(['import', truncated, '--branch', 'main', '--config', configFile]);
    expect(result.code, result.stdout).toBe(2);
    expect(result.stderr).toContain(truncated);
    expect(result.stderr).toMatch(/not valid JSON.*truncated\?/);
    const after = await cli(['baseline', 'list']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe(before.stdout);
  }, 60_000);
});
