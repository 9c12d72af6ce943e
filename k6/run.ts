// runScenario(): one load run of a perfstack scenario (or any k6 script), with its results three
// ways: remote-write to Prometheus (every series tagged testid, scenario and git_sha), a JSON
// summary and an HTML report in the run's output folder. Returns the SLA verdicts from the
// summary. perfstack's own engine runs it by default; `engine: 'k6'` runs the user's own k6.

import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad, parseDuration, type LoadRunResult } from '../loadgen/index.js';
import { K6_TREND_STATS } from '../metrics/index.js';
import { BROWSER_APT_PACKAGE, BROWSER_EXECUTABLE, browserArgs, browserAvailable, runTool } from '../stack/index.js';
import { findK6, k6Invocation, runK6 } from './k6-engine.js';
import { SCENARIOS, UnknownScenarioError } from './scenarios.js';
import { K6_THRESHOLDS_FAILED, allPassed, describeK6Exit, verdictsForRun, type K6Summary, type SlaVerdict } from './verdicts.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
// Loopback, or the reference service's name inside docker compose's private network.
const TARGET = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]|perfstack-app)(:\d{1,5})?\/?$/;
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const TESTID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export type Engine = 'perfstack' | 'k6';

export interface RunScenarioOptions {
  /** A name from SCENARIOS, or the path of any k6 script. */
  scenario: string;
  /** The service under test, http://127.0.0.1:PORT (loopback only). */
  baseUrl: string;
  /** Prometheus with --web.enable-remote-write-receiver, e.g. http://127.0.0.1:9090; no remote-write without it. */
  prometheusUrl?: string;
  /** Labels every series of the run; default `<UTC time>-<scenario>-<random>` (sorts by time). */
  testid?: string;
  /** The run's output folder: summary.json, report.html and run.log go here. */
  outputDir: string;
  /** PERFSTACK_VUS for the scenario (its own default otherwise). */
  vus?: number;
  /** PERFSTACK_DURATION for the scenario, a k6 duration such as 30s or 5m. */
  duration?: string;
  /** More scenario variables (-e), e.g. PERFSTACK_THINK_TIME or PERFSTACK_MAX_RATE. */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Remote-write push interval. Default 5s (tests use 1s). */
  pushInterval?: string;
  /** Which engine runs the script. Default perfstack's own. */
  engine?: Engine;
  /** `--engine k6`: the binary; default K6_BINARY or k6 on PATH. */
  k6Binary?: string;
  /** Stop the run (gracefully: the summary is still written) if it lasts longer than this. */
  timeoutMs?: number;
  /** Also keep every request's duration (samples.json.gz) so the baseline store can compare distributions. */
  recordSamples?: boolean;
  /** k6's execution segments: this process runs FROM:TO of the test (scale-out). */
  executionSegment?: string;
  executionSegmentSequence?: string;
  /** Show progress while the run lasts (perfstack's engine): a bar on a terminal, lines otherwise. */
  progress?: 'tty' | 'lines' | false;
}

export interface RunScenarioResult {
  /** 0 passed, 99 thresholds failed, others see describeK6Exit(). */
  exitCode: number;
  engine: Engine;
  testid: string;
  gitSha: string;
  /** The scenario's name (a script's file name without extension). */
  scenario: string;
  summaryPath: string;
  reportPath: string;
  /** Present when recordSamples was set. */
  samplesPath?: string;
  logPath: string;
  verdicts: SlaVerdict[];
  /** exitCode 0 and every verdict passed. */
  passed: boolean;
  /** perfstack's engine: remote-write pushes and failures. */
  remoteWrite?: { pushes: number; failedPushes: number; lastError?: string };
  /** Why the run stopped early or could not start, one line. */
  error?: string;
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
  return `${stamp}-${scenario.replace(/[^A-Za-z0-9._-]/g, '-')}-${randomBytes(2).toString('hex')}`;
}

/** PERFSTACK_GIT_SHA, else `git rev-parse --short HEAD`, else "unknown". */
export function gitSha(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PERFSTACK_GIT_SHA?.trim()) return env.PERFSTACK_GIT_SHA.trim();
  const result = runTool('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, timeoutMs: 10_000 });
  const sha = result.output.trim();
  return result.ok && /^[0-9a-f]{4,40}$/.test(sha) ? sha : 'unknown';
}

export interface ResolvedScript {
  name: string;
  file: string;
  /** One of perfstack's own scenarios (they read PERFSTACK_* settings and write their own summary). */
  builtin: boolean;
  browser: boolean;
}

/** A scenario name, or a path to a k6 script (.ts, .js, .mjs). */
export function resolveScript(scenario: string): ResolvedScript {
  const known = SCENARIOS.find((s) => s.name === scenario);
  if (known) return { name: known.name, file: `${SCENARIOS_DIR}${known.name}.ts`, builtin: true, browser: known.browser ?? false };
  if (/[/\\]|\.(m?[jt]s)$/.test(scenario)) {
    const file = resolve(scenario);
    if (!existsSync(file) || !statSync(file).isFile()) throw new RunScenarioError('scenario', `no k6 script at ${file}`);
    return { name: basename(file).replace(/\.(m?[jt]s)$/, ''), file, builtin: false, browser: false };
  }
  throw new UnknownScenarioError(scenario);
}

function validate(options: RunScenarioOptions): void {
  if (!TARGET.test(options.baseUrl)) {
    throw new RunScenarioError('baseUrl', `baseUrl must be http://127.0.0.1:PORT (load only ever targets loopback), got "${options.baseUrl}"`);
  }
  if (options.prometheusUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(options.prometheusUrl)) {
    throw new RunScenarioError('prometheusUrl', `prometheusUrl must look like http://127.0.0.1:9090, got "${options.prometheusUrl}"`);
  }
  if (options.testid !== undefined && !TESTID.test(options.testid)) {
    throw new RunScenarioError('testid', `testid must be 1-128 letters, digits, ".", "_", ":" or "-", got "${options.testid}"`);
  }
  if (options.vus !== undefined && (!Number.isInteger(options.vus) || options.vus < 1 || options.vus > 100_000)) {
    throw new RunScenarioError('vus', `vus must be a whole number from 1 to 100000, got ${options.vus}`);
  }
  if (options.duration !== undefined && !DURATION.test(options.duration)) {
    throw new RunScenarioError('duration', `duration must be a k6 duration such as 30s, 5m or 1h30m, got "${options.duration}"`);
  }
  if (options.pushInterval !== undefined && parseDuration(options.pushInterval) === undefined) {
    throw new RunScenarioError('pushInterval', `pushInterval must be a duration such as 5s, got "${options.pushInterval}"`);
  }
}

/** Whether something accepts TCP connections at the URL's host and port (within 3 s). */
export function reachable(url: string, timeoutMs = 3000): Promise<boolean> {
  const target = new URL(url);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function readSummary(path: string): Promise<K6Summary | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as K6Summary;
  } catch {
    return undefined;
  }
}

/** Runs one scenario and returns its exit code, where its results are and its SLA verdicts. */
export async function runScenario(options: RunScenarioOptions): Promise<RunScenarioResult> {
  validate(options);
  const script = resolveScript(options.scenario);
  const engine = options.engine ?? 'perfstack';
  const log = options.log ?? (() => undefined);
  if (script.browser && !browserAvailable()) {
    throw new RunScenarioError(
      'scenario',
      `the ${script.name} scenario needs Chromium at ${BROWSER_EXECUTABLE}: install the Debian package "${BROWSER_APT_PACKAGE}" (apt-get install -y ${BROWSER_APT_PACKAGE})`,
    );
  }
  // Before anything starts: the k6 binary for --engine k6, and a target that answers.
  const k6Binary = engine === 'k6' ? (options.k6Binary ?? findK6()) : undefined;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (!(await reachable(baseUrl))) {
    throw new RunScenarioError('baseUrl', `nothing answers at ${baseUrl} (connection refused or timed out): start the service first (npm start runs it), or pass --base-url`);
  }

  const testid = options.testid ?? newTestId(script.name);
  const sha = gitSha();
  const outputDir = resolve(options.outputDir);
  const summaryPath = join(outputDir, 'summary.json');
  const reportPath = join(outputDir, 'report.html');
  const logPath = join(outputDir, 'run.log');
  const samplesPath = options.recordSamples ? join(outputDir, 'samples.json.gz') : undefined;
  await mkdir(outputDir, { recursive: true });
  // Stale results from an earlier run in the same folder must not be mistaken for this one's.
  for (const path of [summaryPath, reportPath, samplesPath]) if (path) await rm(path, { force: true });

  const scenarioEnv: Record<string, string> = {
    PERFSTACK_BASE_URL: baseUrl,
    PERFSTACK_SCENARIO: script.name,
    PERFSTACK_TESTID: testid,
    PERFSTACK_GIT_SHA: sha,
    PERFSTACK_SUMMARY_PATH: summaryPath,
    PERFSTACK_ENGINE: engine,
    ...(options.vus === undefined ? {} : { PERFSTACK_VUS: String(options.vus) }),
    ...(options.duration === undefined ? {} : { PERFSTACK_DURATION: options.duration }),
    ...options.env,
  };
  const deadline = new AbortController();
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    log(`run: still running after ${options.timeoutMs} ms; stopping it`);
    deadline.abort();
  }, options.timeoutMs);

  log(`${engine === 'k6' ? 'k6' : 'perfstack engine'}: ${script.name} against ${baseUrl}, testid ${testid}${options.prometheusUrl ? `, remote-write to ${options.prometheusUrl}` : ''}`);
  let exitCode: number;
  let engineResult: LoadRunResult | undefined;
  try {
    if (k6Binary) {
      const invocation = k6Invocation({
        script: script.file, scenarioEnv, testid, gitSha: sha, reportPath, prometheusUrl: options.prometheusUrl, pushInterval: options.pushInterval,
        samplesPath, browser: script.browser, executionSegment: options.executionSegment, executionSegmentSequence: options.executionSegmentSequence,
      });
      exitCode = await runK6(k6Binary, invocation, { cwd: outputDir, logPath, log, signal: deadline.signal });
    } else {
      const lines: string[] = [];
      const tee = (line: string) => {
        lines.push(line);
        log(line);
      };
      // Arbitrary k6 scripts get k6's meaning of --vus/--duration; perfstack's scenarios read PERFSTACK_* instead.
      const overrides = script.builtin ? {} : { ...(options.vus === undefined ? {} : { vus: options.vus }), ...(options.duration === undefined ? {} : { duration: options.duration }) };
      engineResult = await runLoad({
        script: script.file,
        env: scenarioEnv,
        tags: { testid, git_sha: sha, ...(options.executionSegment ? { segment: options.executionSegment } : {}) },
        overrides,
        executionSegment: options.executionSegment,
        executionSegmentSequence: options.executionSegmentSequence,
        summaryPath,
        reportPath,
        report: { scenario: script.name, testid, gitSha: sha },
        ...(options.prometheusUrl ? { remoteWrite: { url: options.prometheusUrl, intervalMs: parseDuration(options.pushInterval ?? '5s'), trendStats: K6_TREND_STATS } } : {}),
        ...(samplesPath ? { samplesPath } : {}),
        log: tee,
        progress: options.progress ?? false,
        signal: deadline.signal,
        browser: { executablePath: BROWSER_EXECUTABLE, args: browserArgs().map((flag) => `--${flag}`) },
      });
      if (engineResult.error) tee(`run: ${engineResult.error}`);
      exitCode = engineResult.exitCode;
      await writeFile(logPath, lines.length ? `${lines.join('\n')}\n` : '').catch(() => undefined);
    }
  } finally {
    clearTimeout(timer);
  }

  const summary = existsSync(summaryPath) ? await readSummary(summaryPath) : undefined;
  const verdicts = verdictsForRun(summary, exitCode);
  log(`${script.name} finished: exit ${exitCode} (${describeK6Exit(exitCode)})${exitCode === K6_THRESHOLDS_FAILED ? ' — see the failing SLA rows' : ''}`);
  return {
    exitCode,
    engine,
    testid,
    gitSha: sha,
    scenario: script.name,
    summaryPath,
    reportPath,
    ...(samplesPath && existsSync(samplesPath) ? { samplesPath } : {}),
    logPath,
    verdicts,
    passed: exitCode === 0 && allPassed(verdicts),
    ...(engineResult?.remoteWrite ? { remoteWrite: engineResult.remoteWrite } : {}),
    ...(engineResult?.error ? { error: engineResult.error } : {}),
  };
}
