// End to end: a latency regression injected into the reference service is caught by
// `perfstack compare`, and reaches on-call's Slack channel as the PerformanceRegression alert.
//
// The native stack (as `perfstack start` runs it) comes up on free loopback ports in a temporary
// state folder, with a test config module: scrape and rule evaluation every second and Alertmanager
// grouping of one second; the regression sensitivity is the shipped default (see e2e-support.ts,
// writeE2eConfig). Then:
//   1. k6 smoke (10 s, 4 VUs, per-request samples) three times: the baseline runs, imported on main.
//      The run is the unit of replication, so the baseline needs runs, not only requests: their
//      spread is the run-to-run noise every verdict is judged against;
//   2. +400 ms on /api/search through the fault switch, smoke again as the candidate, fault off,
//      imported on main (each run starts from the seeded entities table, see smoke() below);
//   3. `perfstack compare <candidate>` exits 1 and names p95 latency of /api/search as regressed,
//      judged on the p95 (two-level: runs, then requests within runs). The only other regressions
//      allowed are those the fault causes: the other latency quantiles of /api/search (also as the
//      search service's and the whole run's latency), and throughput (smoke is a closed model: each
//      iteration waits 400 ms longer, so fewer requests per second everywhere). No other
//      endpoint's latency regresses. It writes the Markdown and
//      HTML reports and publishes the verdicts, with the statistic, for node_exporter;
//   4. Prometheus scrapes the verdicts, the PerformanceRegression rule fires, Alertmanager routes it
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
import { MIN_SAMPLES_PER_RUN } from './stats/index.js';
import { capturedMessages, compareLines, describeChanges, entityExtent, restoreSeededEntities, parseExposition, pollFile, runCli, setFault, writeE2eConfig, type CliResult } from './e2e-support.js';

const SEARCH = '/api/search';
const FAULT_MS = 400;
const RUN_DURATION = '10s';
// Smoke's one VU walks every endpoint once per iteration; with the fault an iteration takes over
// half a second, so one VU would send /api/search (and /api/resolve, /api/files, the auth routes)
// only ~13 times in 8 s, short of MIN_SAMPLES_PER_RUN, the requests a run needs before its own
// samples estimate its p95. Four VUs for 10 s, on every run alike, usually give /api/search enough;
// on a busy shared machine a run may fall short, and /api/search is then judged on run values.
const RUN_VUS = 4;
/** Baseline runs: enough to measure the run-to-run noise (2 is the least; 3 gives the t test 2 degrees of freedom). */
const BASELINE_RUNS = 3;

describe('a latency regression is detected by perfstack compare and alerted on Slack', () => {
  let root: string | undefined;
  let stateDir: string;
  let configFile: string;
  let config: PerfstackConfig;
  let stack: NativeStack;
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15);
  const baseTestids = Array.from({ length: BASELINE_RUNS }, (_, i) => `e2e-base${i + 1}-${stamp}`);
  const baseTestid = baseTestids[0]!;
  const candidateTestid = `e2e-cand-${stamp}`;
  let seeded: { maxId: number; rows: number };
  let baseSummary: string;
  let baseSamples: Map<string, number[]>;
  let candidateSamples: Map<string, number[]>;
  let compared: CliResult;
  const timings: Record<string, number> = {};
  let fewestSearchRequests = Number.POSITIVE_INFINITY;

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
    // The shipped sensitivity: no test-only minimum effect.
    expect(config.regression).toMatchObject({ minEffect: 0.05, alpha: 0.01, noiseMultiple: 2 });
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
    // An endpoint is judged on each run's own requests (two-level) when every run has at least
    // MIN_SAMPLES_PER_RUN of them; on a busy machine a run may make fewer iterations, and the
    // endpoint is then compared on the runs' stored values (run-level), which the verdict says.
    const samples = new Map((await samplesFromK6Json(result.samplesPath!)).map((s) => [s.endpoint, s.samples]));
    expect(samples.get(SEARCH)?.length ?? 0, `${SEARCH} requests in ${testid}`).toBeGreaterThan(0);
    fewestSearchRequests = Math.min(fewestSearchRequests, samples.get(SEARCH)?.length ?? 0);
    return { ...result, samples };
  }

  async function importRun(summaryPath: string) {
    const imported = await cli(['import', summaryPath, '--branch', 'main', '--config', configFile]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/with per-request samples of \d+ endpoint\(s\)/);
  }

  it('stores three smoke runs as the baseline, and a run with +400 ms on /api/search as the candidate', async () => {
    for (const [i, testid] of baseTestids.entries()) {
      const base = await timed(`baseline run ${i + 1}`, () => smoke(testid));
      expect(base.exitCode, `baseline k6 exit; see ${base.logPath}`).toBe(0);
      if (i === 0) {
        baseSummary = base.summaryPath;
        baseSamples = base.samples;
      }
      await timed(`baseline import ${i + 1}`, () => importRun(base.summaryPath));
    }

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
    for (const testid of baseTestids) expect(list.stdout).toContain(testid);
    expect(list.stdout).toContain(candidateTestid);
  }, 240_000);

  it('perfstack compare exits 1 and names p95 latency of /api/search as regressed, judged on the p95', async () => {
    compared = await timed('compare', () => cli(['compare', candidateTestid, '--config', configFile]));
    console.log(`perfstack compare ${candidateTestid} (exit ${compared.code}, ${compared.ms} ms):\n${compared.stdout}${compared.stderr}`);

    const promFile = join(stack.files.textfileDir, 'perfstack_regression_smoke.prom');
    expect(existsSync(promFile), promFile).toBe(true);
    const samples = parseExposition(readFileSync(promFile, 'utf8')).filter((s) => s.labels.testid === candidateTestid);
    console.log(`per-request medians, baseline (first run) → candidate:\n${describeChanges(baseSamples, candidateSamples)}`);

    expect(compared.code, compared.stderr).toBe(1);
    const lines = compareLines(compared.stdout);
    const regressedLines = lines.filter((l) => l.verdict === 'regressed');
    expect(regressedLines).toContainEqual({ verdict: 'regressed', kpi: 'latency_p95', endpoint: SEARCH, change: expect.stringMatching(/^\d+\.\d %$/) });
    const searchTest = fewestSearchRequests >= MIN_SAMPLES_PER_RUN ? 'two-level' : 'run-level';
    expect(compared.stdout).toMatch(new RegExp(`^regressed latency_p95 /api/search: [\\d.]+ % of the p95 \\(.*${searchTest}\\)$`, 'm'));
    // What the fault explains: the latency of /api/search, and throughput (a closed model). Nothing else.
    // /api/search is also summarised as the search service's own endpoint (k6's {service:search}
    // tag), and its requests are part of the whole run's latency (endpoint '').
    const searchEndpoints = [SEARCH, 'service:search', ''];
    const explained = (l: { kpi: string; endpoint: string }) => (l.kpi.startsWith('latency_') && searchEndpoints.includes(l.endpoint)) || l.kpi === 'throughput';
    expect(regressedLines.filter((l) => !explained(l))).toEqual([]);
    expect(lines.filter((l) => l.kpi.startsWith('latency_') && !searchEndpoints.includes(l.endpoint) && l.verdict === 'regressed')).toEqual([]);
    const summary = /^(\d+) regressed, \d+ improved, \d+ unchanged against last 5 runs on main/m.exec(compared.stdout);
    expect(Number(summary?.[1])).toBe(regressedLines.length);

    // The published verdicts: one series per compared KPI, labelled with the statistic it was judged on.
    const detected = samples.filter((s) => s.name === regression.detected);
    expect(detected.length).toBeGreaterThan(1);
    expect(detected.every((s) => s.value === 0 || s.value === 1)).toBe(true);
    const regressed = detected.filter((s) => s.value === 1);
    expect(regressed.map((s) => s.labels)).toContainEqual({ scenario: 'smoke', testid: candidateTestid, baseline: 'last 5 runs on main', branch: 'main', kpi: 'latency_p95', endpoint: SEARCH, statistic: 'p95' });
    expect(regressed.length).toBe(regressedLines.length);
    expect(regressed.every((s) => explained({ kpi: s.labels.kpi ?? '', endpoint: s.labels.endpoint ?? '' }))).toBe(true);
    const searchChange = samples.find((s) => s.name === regression.relativeChange && s.labels.endpoint === SEARCH && s.labels.kpi === 'latency_p95');
    expect(searchChange?.value).toBeGreaterThan(config.regression.minEffect);
    const searchP95 = samples.find((s) => s.name === regression.candidateValue && s.labels.endpoint === SEARCH && s.labels.kpi === 'latency_p95');
    expect(searchP95?.value).toBeGreaterThan(FAULT_MS / 1000);

    // The reports.
    const reports = join(stateDir, 'reports', candidateTestid);
    const markdown = readFileSync(join(reports, 'regression-report.md'), 'utf8');
    expect(markdown).toMatch(/^## Performance regression report: FAIL/);
    expect(markdown).toMatch(/\*\*Worst regression:\*\* p\d\d latency of `(\/api\/search|service:search)`/);
    expect(markdown).toContain(fewestSearchRequests >= MIN_SAMPLES_PER_RUN ? 'two-level t of the p95 (runs, then requests)' : 't across runs of the p95');
    const html = readFileSync(join(reports, 'regression-report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(compared.stdout).toContain(`reports: ${join(reports, 'regression-report.md')}, ${join(reports, 'regression-report.html')}`);
  }, 90_000);

  it('the PerformanceRegression alert reaches #perfstack-warnings with its runbook and dashboard links', async () => {
    expect(compared?.code).toBe(1);
    const log = stack.files.slackCaptureLog;
    expect(log).toBeDefined();
    // Every regressed verdict is one alert; they are grouped into one notification.
    const title = /^\[FIRING:\d+\] PerformanceRegression \(warning\)$/;
    const message = await timed('alert at Slack', () =>
      pollFile(
        log!,
        (text) => capturedMessages(text).find((m) => m.channel === '#perfstack-warnings' && title.test(m.title) && m.text.includes(`regressed on latency_p95 ${SEARCH}`)),
        60_000,
      ),
    );
    console.log(`PerformanceRegression reached the Slack capture ${timings['alert at Slack']} ms after compare returned`);
    expect(message.text).toMatch(/\*A load-test run (on main )?regressed against its baseline\*/);
    expect(message.text).toMatch(new RegExp(`Run ${candidateTestid} of scenario smoke (on main )?regressed on latency_p95 ${SEARCH}`));
    expect(message.text).toMatch(/<https:\/\/[^|>]+\/runbooks\.md#performanceregression\|Runbook>/);
    expect(message.text).toMatch(/<http:\/\/[^|>]+\/d\/perfstack-regressions\|Dashboard>/);
    // Prometheus holds the firing alerts, one per regressed verdict, among them p95 latency of /api/search.
    const query = encodeURIComponent('ALERTS{alertname="PerformanceRegression",alertstate="firing"}');
    const alerts = (await (await fetch(`${stack.urls.prometheus}/api/v1/query?query=${query}`, { signal: AbortSignal.timeout(10_000) })).json()) as {
      data: { result: { metric: Record<string, string> }[] };
    };
    expect(alerts.data.result.map((r) => [r.metric.kpi, r.metric.endpoint, r.metric.testid, r.metric.severity])).toContainEqual(['latency_p95', SEARCH, candidateTestid, 'warning']);
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
