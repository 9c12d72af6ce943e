// runScenario(): one k6 run of a perfstack scenario, with its results three ways: remote-write to
// Prometheus (every series tagged testid, scenario and git_sha), a JSON summary and the k6 web
// dashboard's HTML report in the run's output folder. Returns the SLA verdicts from the summary.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { K6_TREND_STATS } from '../metrics/index.js';
import { runTool } from '../stack/index.js';
import { BROWSER_APT_PACKAGE, BROWSER_EXECUTABLE, browserAvailable, browserEnv, ensureK6 } from '../stack/index.js';
import { findScenario, scenarioFile } from './scenarios.js';
import { K6_THRESHOLDS_FAILED, allPassed, describeK6Exit, verdictsForRun, type K6Summary, type SlaVerdict } from './verdicts.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?\/?$/;
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const TESTID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface RunScenarioOptions {
  /** A name from SCENARIOS. */
  scenario: string;
  /** The service under test, http://127.0.0.1:PORT (loopback only). */
  baseUrl: string;
  /** Prometheus with --web.enable-remote-write-receiver, e.g. http://127.0.0.1:9090; no remote-write without it. */
  prometheusUrl?: string;
  /** Labels every series of the run; default `<UTC time>-<scenario>-<random>` (sorts by time). */
  testid?: string;
  /** The run's output folder: summary.json, report.html and k6.log go here. */
  outputDir: string;
  /** PERFSTACK_VUS for the scenario (its own default otherwise). */
  vus?: number;
  /** PERFSTACK_DURATION for the scenario, a k6 duration such as 30s or 5m. */
  duration?: string;
  /** More scenario variables (k6 -e), e.g. PERFSTACK_THINK_TIME or PERFSTACK_MAX_RATE. */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Remote-write push interval. Default 5s (tests use 1s). */
  pushInterval?: string;
  /** The k6 binary; default ensureK6(). */
  k6Binary?: string;
  /** Stop k6 (SIGINT, then SIGKILL 15 s later) if it runs longer than this. Default: no limit (scenarios are bounded). */
  timeoutMs?: number;
  /**
   * Also keep every request's duration (k6's JSON output, gzipped, as samples.json.gz) so the
   * baseline store can compare distributions. Off by default: it grows with the request count.
   */
  recordSamples?: boolean;
}

export interface RunScenarioResult {
  /** k6's exit code: 0 passed, 99 thresholds failed, others see describeK6Exit(). */
  exitCode: number;
  testid: string;
  gitSha: string;
  summaryPath: string;
  reportPath: string;
  /** Present when recordSamples was set. */
  samplesPath?: string;
  logPath: string;
  verdicts: SlaVerdict[];
  /** exitCode 0 and every verdict passed. */
  passed: boolean;
}

export class RunScenarioError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunScenarioError';
  }
}

/** A test id that sorts by start time: 20261122T235141Z-smoke-3f9a. */
export function newTestId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenario}-${randomBytes(2).toString('hex')}`;
}

/** PERFSTACK_GIT_SHA, else `git rev-parse --short HEAD`, else "unknown". */
export function gitSha(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PERFSTACK_GIT_SHA?.trim()) return env.PERFSTACK_GIT_SHA.trim();
  const result = runTool('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, timeoutMs: 10_000 });
  const sha = result.output.trim();
  return result.ok && /^[0-9a-f]{4,40}$/.test(sha) ? sha : 'unknown';
}

export interface K6Invocation {
  args: string[];
  /** Set on top of the inherited environment. */
  env: Record<string, string>;
  summaryPath: string;
  reportPath: string;
  /** With recordSamples: every request's metrics, newline-delimited JSON, gzipped. */
  samplesPath?: string;
}

/** The k6 command line and environment for a run (no side effects; see runScenario). */
export function k6Invocation(options: RunScenarioOptions & { testid: string; gitSha: string }): K6Invocation {
  const info = findScenario(options.scenario);
  const outputDir = resolve(options.outputDir);
  const summaryPath = join(outputDir, 'summary.json');
  const reportPath = join(outputDir, 'report.html');
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const scenarioEnv: Record<string, string> = {
    PERFSTACK_BASE_URL: baseUrl,
    PERFSTACK_SCENARIO: info.name,
    PERFSTACK_TESTID: options.testid,
    PERFSTACK_GIT_SHA: options.gitSha,
    PERFSTACK_SUMMARY_PATH: summaryPath,
    ...(options.vus === undefined ? {} : { PERFSTACK_VUS: String(options.vus) }),
    ...(options.duration === undefined ? {} : { PERFSTACK_DURATION: options.duration }),
    ...options.env,
  };
  const env: Record<string, string> = {
    K6_NO_USAGE_REPORT: 'true', // nothing leaves the machine
    // The web dashboard: no HTTP listener at all (port -1), only the HTML report at the end.
    K6_WEB_DASHBOARD: 'true',
    K6_WEB_DASHBOARD_PORT: '-1',
    K6_WEB_DASHBOARD_EXPORT: reportPath,
    K6_WEB_DASHBOARD_PERIOD: '1s', // short runs still get a report (the default 10 s skips them)
    K6_WEB_DASHBOARD_OPEN: 'false',
    ...(info.browser ? browserEnv() : {}),
  };
  const args = ['run', '--quiet', '--no-color', '--tag', `testid=${options.testid}`, '--tag', `git_sha=${options.gitSha}`];
  if (options.prometheusUrl) {
    env.K6_PROMETHEUS_RW_SERVER_URL = `${options.prometheusUrl.replace(/\/+$/, '')}/api/v1/write`;
    env.K6_PROMETHEUS_RW_TREND_STATS = K6_TREND_STATS.join(',');
    env.K6_PROMETHEUS_RW_STALE_MARKERS = 'true';
    env.K6_PROMETHEUS_RW_PUSH_INTERVAL = options.pushInterval ?? '5s';
    args.push('--out', 'experimental-prometheus-rw');
  }
  const samplesPath = options.recordSamples ? join(outputDir, 'samples.json.gz') : undefined;
  if (samplesPath) args.push('--out', `json=${samplesPath}`);
  for (const [key, value] of Object.entries(scenarioEnv).sort(([a], [b]) => a.localeCompare(b))) args.push('-e', `${key}=${value}`);
  args.push(scenarioFile(info.name));
  return { args, env, summaryPath, reportPath, ...(samplesPath ? { samplesPath } : {}) };
}

function validate(options: RunScenarioOptions): void {
  findScenario(options.scenario); // UnknownScenarioError lists the valid names
  if (!LOOPBACK.test(options.baseUrl)) {
    throw new RunScenarioError('baseUrl', `baseUrl must be http://127.0.0.1:PORT (load only ever targets loopback), got "${options.baseUrl}"`);
  }
  if (options.prometheusUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(options.prometheusUrl)) {
    throw new RunScenarioError('prometheusUrl', `prometheusUrl must look like http://127.0.0.1:9090, got "${options.prometheusUrl}"`);
  }
  if (options.testid !== undefined && !TESTID.test(options.testid)) {
    throw new RunScenarioError('testid', `testid must be 1-128 letters, digits, ".", "_", ":" or "-", got "${options.testid}"`);
  }
  if (options.vus !== undefined && (!Number.isInteger(options.vus) || options.vus < 1 || options.vus > 1000)) {
    throw new RunScenarioError('vus', `vus must be a whole number from 1 to 1000, got ${options.vus}`);
  }
  if (options.duration !== undefined && !DURATION.test(options.duration)) {
    throw new RunScenarioError('duration', `duration must be a k6 duration such as 30s, 5m or 1h30m, got "${options.duration}"`);
  }
}

async function readSummary(path: string): Promise<K6Summary | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as K6Summary;
  } catch {
    return undefined;
  }
}

/** Runs one scenario with k6 and returns its exit code, where its results are and its SLA verdicts. */
export async function runScenario(options: RunScenarioOptions): Promise<RunScenarioResult> {
  validate(options);
  const info = findScenario(options.scenario);
  const log = options.log ?? (() => undefined);
  if (info.browser && !browserAvailable()) {
    throw new RunScenarioError(
      'scenario',
      `the ${info.name} scenario needs Chromium at ${BROWSER_EXECUTABLE}: install the Debian package "${BROWSER_APT_PACKAGE}" (apt-get install -y ${BROWSER_APT_PACKAGE})`,
    );
  }
  const k6 = options.k6Binary ?? (await ensureK6({ log }));
  const testid = options.testid ?? newTestId(info.name);
  const sha = gitSha();
  const invocation = k6Invocation({ ...options, testid, gitSha: sha });
  const outputDir = resolve(options.outputDir);
  await mkdir(outputDir, { recursive: true });
  // Stale results from an earlier run in the same folder must not be mistaken for this one's.
  await rm(invocation.summaryPath, { force: true });
  await rm(invocation.reportPath, { force: true });
  const logPath = join(outputDir, 'k6.log');

  log(`k6: ${info.name} against ${options.baseUrl}, testid ${testid}${options.prometheusUrl ? `, remote-write to ${options.prometheusUrl}` : ''}`);
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(k6, invocation.args, { cwd: outputDir, env: { ...process.env, ...invocation.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    let pending = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      chunks.push(text);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let killTimer: NodeJS.Timeout | undefined;
    const deadline =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            log(`k6: still running after ${options.timeoutMs} ms; interrupting it`);
            child.kill('SIGINT'); // k6 stops gracefully and still writes its summary
            killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      reject(new Error(`k6: could not run ${k6}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      if (pending.trim() !== '') log(pending);
      writeFile(logPath, chunks.join(''))
        .catch(() => undefined)
        .finally(() => resolvePromise(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 2) : 1)));
    });
  });

  const summary = existsSync(invocation.summaryPath) ? await readSummary(invocation.summaryPath) : undefined;
  const verdicts = verdictsForRun(summary, exitCode);
  log(`k6: ${info.name} finished: exit ${exitCode} (${describeK6Exit(exitCode)})${exitCode === K6_THRESHOLDS_FAILED ? ' — see the failing SLA rows' : ''}`);
  return {
    exitCode,
    testid,
    gitSha: sha,
    summaryPath: invocation.summaryPath,
    reportPath: invocation.reportPath,
    ...(invocation.samplesPath ? { samplesPath: invocation.samplesPath } : {}),
    logPath,
    verdicts,
    passed: exitCode === 0 && allPassed(verdicts),
  };
}
