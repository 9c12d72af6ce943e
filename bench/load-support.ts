// Shared by the load benchmarks (bench/engine-cpu-cost.ts, bench/engine-vus.ts,
// bench/search-capacity.ts); not a benchmark itself.
//
// - referenceService(): PostgreSQL (the test harness), migrations, optional seeding, and the
//   reference service as its own process (`perfstack app`), as bench/app-load.ts does;
// - runInRunner(): one run of perfstack's engine (runLoad) or of autocannon in a child process
//   (bench/load-runner.ts) under /usr/bin/time. The runner reports its own CPU time for the load
//   phase (process.cpuUsage(), microseconds, Node start-up and module loading left out) and its
//   memory; /usr/bin/time gives the whole process's CPU (10 ms resolution) and peak RSS; this
//   process samples the runner's and any watched process's CPU, RSS and open descriptors from /proc
//   every second while it runs. Each run is bounded by a timeout (SIGINT to the runner, which
//   stops the engine as an interrupt stops k6 — the summary is still written — SIGKILL 20 s later);
// - runWrk(): one run of Debian's wrk (an optional peer) under /usr/bin/time;
// - benchEnvironment(): the machine and versions, written next to every figure.
//
// The benchmark scripts are generated into the run's folder as k6 TypeScript that imports the
// shipped helpers in k6/scenarios/lib by absolute path. They are not files under bench/ because
// the root tsconfig type-checks every .ts there as Node code.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, seed } from '../app/index.js';
import { freePort, startProcess, type RunningProcess } from '../stack/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import type { RunnerConfig, RunnerResult } from './load-runner.js';
import { median, quantileSorted } from './stats.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where generated scripts import the shipped scenario helpers from (absolute, with the `.ts` suffix). */
export const K6_LIB = join(REPO_ROOT, 'k6', 'scenarios', 'lib');
export const SCENARIOS_DIR = join(REPO_ROOT, 'k6', 'scenarios');
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const RUNNER = join(REPO_ROOT, 'bench', 'load-runner.ts');

/** 1-, 5- and 15-minute load averages, rounded to two decimals. */
export function loadAverage(): [number, number, number] {
  const [one = NaN, five = NaN, fifteen = NaN] = loadavg().map((value) => Math.round(value * 100) / 100);
  return [one, five, fifteen];
}

/** RLIMIT_NOFILE of a process (from /proc/<pid>/limits), or undefined when it cannot be read. */
export function openFilesLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const match = line ? /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(line) : null;
    if (!match) return undefined;
    const value = (text: string | undefined) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
    return { soft: value(match[1]), hard: value(match[2]) };
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process right now, or undefined when it is gone. */
export function openFiles(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on Linux for every architecture this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; undefined when
 * gone. With `reapedChildren`, also the CPU of the children it has waited for (cutime + cstime):
 * PostgreSQL's backends take their CPU time with them when they exit, into the postmaster's.
 */
export function processCpuMs(pid: number, reapedChildren = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime, stime, cutime and cstime are 14–17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + (reapedChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Time a process's threads have spent runnable but waiting for a CPU, ms (the second field of
 * /proc/<pid>/schedstat, summed over its threads); undefined when gone. On an oversubscribed
 * machine this is where an event loop's delay comes from when the process itself is not busy.
 */
export function runQueueWaitMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/);
      ns += Number(fields[1] ?? 0);
    }
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process right now (VmRSS), bytes; undefined when gone. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The child pids of a process (Linux /proc/<pid>/task/<pid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A process and all its descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childPids(out[i] as number));
  return out;
}

/**
 * CPU ms used so far by a process, its live descendants and the children it has reaped
 * (PostgreSQL: the postmaster, its backends, and backends that have exited).
 */
export function treeCpuMs(pid: number): number | undefined {
  const [root, ...rest] = processTree(pid);
  const values = [processCpuMs(root as number, true), ...rest.map((p) => processCpuMs(p))].filter((v): v is number => v !== undefined);
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
}

/** The postmaster's pid, from the first line of postmaster.pid in the data folder. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const require = createRequire(import.meta.url);

/** The installed autocannon's version (a pinned devDependency), or undefined. */
export function autocannonVersion(): string | undefined {
  try {
    return (require('autocannon/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Debian's wrk, if installed (`apt-get install -y wrk`): its path and version line; undefined when absent. */
export function findWrk(): { path: string; version: string } | undefined {
  for (const path of [process.env.PERFSTACK_WRK_BINARY, '/usr/bin/wrk', '/usr/local/bin/wrk']) {
    if (!path || !existsSync(path)) continue;
    const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 });
    const version = `${probe.stdout ?? ''}${probe.stderr ?? ''}`.split('\n')[0]?.trim() ?? '';
    return { path, version };
  }
  return undefined;
}

export interface BenchEnvironment {
  cpuModel: string | undefined;
  cores: number;
  memoryBytes: number;
  kernel: string;
  nodeVersion: string;
  engine: string;
  postgresVersion: string | undefined;
  /** RLIMIT_NOFILE of this process; the runner and the service inherit it. */
  openFilesLimit: { soft: number; hard: number } | undefined;
  /** os.loadavg() when the benchmark started (other work on the machine, before any load of ours). */
  loadAverageAtStart: [number, number, number];
  date: string;
}

export function benchEnvironment(postgresVersion: string | undefined): BenchEnvironment {
  // PERFSTACK_GIT_SHA names the commit when the benchmark runs from an exported copy of one (no .git).
  let gitSha = process.env.PERFSTACK_GIT_SHA?.trim() || 'unknown';
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 });
  if (git.status === 0 && /^[0-9a-f]{4,40}$/.test(git.stdout.trim())) gitSha = git.stdout.trim();
  return {
    cpuModel: cpus()[0]?.model.trim(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    kernel: release(),
    nodeVersion: process.version,
    engine: `perfstack loadgen (git ${gitSha}${engineFingerprint() ? `, uncommitted changes to loadgen/ or k6/, diff sha1 ${engineFingerprint()}` : ''})`,
    postgresVersion,
    openFilesLimit: openFilesLimit(),
    loadAverageAtStart: loadAverage(),
    date: new Date().toISOString(),
  };
}

/** A short hash of the uncommitted changes to the engine and the scenarios (empty when there are none), so runs of different code can be told apart. */
export function engineFingerprint(): string {
  const diff = spawnSync('git', ['diff', 'HEAD', '--', 'loadgen', 'k6'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000, maxBuffer: 64 * 2 ** 20 });
  const untracked = spawnSync('git', ['ls-files', '--others', '--exclude-standard', '--', 'loadgen', 'k6'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 });
  const text = `${diff.stdout ?? ''}${untracked.stdout ?? ''}`;
  return text.trim() === '' ? '' : createHash('sha1').update(text).digest('hex').slice(0, 12);
}

export interface ReferenceService {
  postgres: TestPostgres;
  app: RunningProcess;
  baseUrl: string;
  postgresVersion: string | undefined;
  dataset: { size: string; rows: number } | null;
  /** The postmaster's pid (its backends are its children). */
  postmasterPid: number | undefined;
  stop(): Promise<void>;
}

/** PostgreSQL + migrations (+ the seed) + `perfstack app` as its own process on a free loopback port. */
export async function referenceService(options: { seed: 'medium' | 'small' | null; poolMax?: number; log?: (line: string) => void }): Promise<ReferenceService> {
  const log = options.log ?? ((line: string) => console.log(line));
  const postgres = await startPostgres();
  let app: RunningProcess | undefined;
  try {
    await migrate(postgres.url);
    let dataset: ReferenceService['dataset'] = null;
    if (options.seed) {
      const started = performance.now();
      const seeded = await seed(postgres.url, options.seed);
      dataset = { size: seeded.size, rows: seeded.rows };
      log(`seeded ${seeded.rows} entities in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const version = (await postgres.query<{ server_version: string }>('SHOW server_version'))[0]?.server_version;
    const port = await freePort();
    app = await startProcess({
      name: 'perfstack app',
      command: process.execPath,
      args: [join(REPO_ROOT, 'bin', 'perfstack.js'), 'app', '--port', String(port), '--pool-max', String(options.poolMax ?? 16)],
      env: { ...process.env, DATABASE_URL: postgres.url },
      readyUrl: `http://127.0.0.1:${port}/health`,
    });
    const running = app;
    return {
      postgres,
      app: running,
      baseUrl: `http://127.0.0.1:${port}`,
      postgresVersion: version,
      dataset,
      postmasterPid: postmasterPid(postgres.dataDir),
      async stop() {
        try {
          await running.stop();
        } finally {
          await postgres.stop();
        }
      },
    };
  } catch (error) {
    await app?.stop();
    await postgres.stop();
    throw error;
  }
}

/** An end-of-test summary as k6/scenarios/lib/summary.ts (or the engine's default) writes it (the parts read here). */
export interface EngineSummaryFile {
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state: { testRunDurationMs: number };
}

/** A value of a summary metric (e.g. metric "http_req_duration{phase:hold}", stat "p(95)"), or undefined. */
export function stat(summary: EngineSummaryFile | undefined, metric: string, name: string): number | undefined {
  const value = summary?.metrics[metric]?.values[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export interface ProcessSample {
  atMs: number;
  cpuMs: number | undefined;
  rssBytes: number | undefined;
  openFiles: number | undefined;
  /** Run-queue wait of all its threads so far (schedstat), ms. */
  runQueueWaitMs: number | undefined;
}

export interface RunnerRun {
  exitCode: number;
  /** What the runner reported (undefined when it died before writing it). */
  result: RunnerResult | undefined;
  wallMs: number;
  /** Whole runner process from /usr/bin/time: Node start-up, tsx and module loading included. */
  processCpu: { userMs: number; systemMs: number; totalMs: number } | undefined;
  processMaxRssBytes: number | undefined;
  /** CPU ms each watched process (tree) used while the runner ran (from /proc, 10 ms resolution). */
  watchedCpuMs: Record<string, number>;
  /** Highest open-descriptor count seen for the runner and each watched process. */
  peakOpenFiles: Record<string, number>;
  /** The runner's own /proc samples, once a second. */
  samples: ProcessSample[];
  logPath: string;
  loadAverageBefore: [number, number, number];
  loadAverageAfter: [number, number, number];
}

export interface RunnerOptions {
  config: Omit<RunnerConfig, 'resultPath'>;
  outputDir: string;
  /** Interrupt the runner after this long. */
  timeoutMs: number;
  /** Other processes (whole trees) whose CPU and open descriptors are sampled too, by name. */
  watch?: Record<string, number>;
  log?: (line: string) => void;
}

function parseTime(text: string): { cpu: RunnerRun['processCpu']; maxRss: number | undefined } {
  // The last line holds the figures (a line before it says so when the process exited non-zero).
  const last = text.trim().split('\n').pop() ?? '';
  const match = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(last.trim());
  if (!match) return { cpu: undefined, maxRss: undefined };
  const userMs = Number(match[1]) * 1000;
  const systemMs = Number(match[2]) * 1000;
  return { cpu: { userMs, systemMs, totalMs: userMs + systemMs }, maxRss: Number(match[3]) * 1024 };
}

/** Spawns a command under /usr/bin/time, samples it and the watched processes, and bounds it in time. */
async function timed(
  command: string,
  args: string[],
  options: { outputDir: string; name: string; timeoutMs: number; watch?: Record<string, number>; log: (line: string) => void; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<Omit<RunnerRun, 'result'> & { output: string }> {
  await mkdir(options.outputDir, { recursive: true });
  const timePath = join(options.outputDir, `${options.name}.time.txt`);
  const logPath = join(options.outputDir, `${options.name}.log`);
  await rm(timePath, { force: true });
  const loadAverageBefore = loadAverage();
  const watchedBefore = Object.fromEntries(Object.entries(options.watch ?? {}).map(([name, pid]) => [name, treeCpuMs(pid)]));
  const started = performance.now();
  const peakOpenFiles: Record<string, number> = {};
  const samples: ProcessSample[] = [];
  const chunks: string[] = [];
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    // %U/%S: CPU seconds of the finished process and the children it waited for; %M: its peak RSS in KiB.
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timePath, command, ...args], {
      cwd: options.cwd ?? options.outputDir,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer) => chunks.push(chunk.toString());
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const toolPid = () => (child.pid === undefined ? undefined : childPids(child.pid)[0]);
    const sample = () => {
      const pid = toolPid();
      if (pid !== undefined) {
        const files = openFiles(pid);
        samples.push({ atMs: Math.round(performance.now() - started), cpuMs: processCpuMs(pid), rssBytes: processRssBytes(pid), openFiles: files, runQueueWaitMs: runQueueWaitMs(pid) });
        if (files !== undefined) peakOpenFiles.runner = Math.max(peakOpenFiles.runner ?? 0, files);
      }
      for (const [name, watched] of Object.entries(options.watch ?? {})) {
        const count = processTree(watched).map(openFiles).reduce<number>((a, b) => a + (b ?? 0), 0);
        peakOpenFiles[name] = Math.max(peakOpenFiles[name] ?? 0, count);
      }
    };
    const sampler = setInterval(sample, 1000);
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      options.log(`${options.name}: still running after ${options.timeoutMs} ms; interrupting it`);
      const pid = toolPid();
      if (pid !== undefined) process.kill(pid, 'SIGINT'); // the runner stops the engine gracefully: the summary is still written
      killTimer = setTimeout(() => {
        const again = toolPid();
        if (again !== undefined) process.kill(again, 'SIGKILL');
      }, 20_000);
    }, options.timeoutMs);
    const finish = () => {
      clearInterval(sampler);
      clearTimeout(deadline);
      clearTimeout(killTimer);
    };
    child.once('error', (error) => {
      finish();
      reject(new Error(`could not run /usr/bin/time ${command}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      finish();
      resolvePromise(code ?? (signal === 'SIGKILL' ? 137 : 130));
    });
  });
  const wallMs = performance.now() - started;
  const watchedCpuMs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(options.watch ?? {})) {
    const before = watchedBefore[name];
    const after = treeCpuMs(pid);
    if (before !== undefined && after !== undefined) watchedCpuMs[name] = Math.round(after - before);
  }
  const output = chunks.join('');
  await writeFile(logPath, output, 'utf8');
  const { cpu, maxRss } = existsSync(timePath) ? parseTime(await readFile(timePath, 'utf8')) : { cpu: undefined, maxRss: undefined };
  return { exitCode, wallMs, processCpu: cpu, processMaxRssBytes: maxRss, watchedCpuMs, peakOpenFiles, samples, logPath, loadAverageBefore, loadAverageAfter: loadAverage(), output };
}

/** One run of the engine or autocannon in bench/load-runner.ts (a child process). */
export async function runInRunner(options: RunnerOptions): Promise<RunnerRun> {
  const log = options.log ?? (() => undefined);
  await mkdir(options.outputDir, { recursive: true });
  const resultPath = join(options.outputDir, 'runner-result.json');
  const configPath = join(options.outputDir, 'runner-config.json');
  await rm(resultPath, { force: true });
  await writeFile(configPath, JSON.stringify({ ...options.config, resultPath }, null, 2), 'utf8');
  const run = await timed(process.execPath, ['--expose-gc', '--import', 'tsx', RUNNER, configPath], {
    outputDir: options.outputDir,
    name: 'runner',
    // From the repository, so `--import tsx` resolves to the project's tsx.
    cwd: REPO_ROOT,
    timeoutMs: options.timeoutMs,
    ...(options.watch ? { watch: options.watch } : {}),
    log,
    env: { ...process.env, K6_NO_USAGE_REPORT: 'true' },
  });
  let result: RunnerResult | undefined;
  try {
    result = JSON.parse(await readFile(resultPath, 'utf8')) as RunnerResult;
  } catch {
    result = undefined;
    log(`runner wrote no result (exit ${run.exitCode}); its output: ${run.output.slice(-2000)}`);
  }
  const { output: _output, ...rest } = run;
  return { ...rest, result };
}

export interface WrkRun {
  exitCode: number;
  requests: number | undefined;
  non2xxOr3xx: number;
  socketErrors: number;
  durationSeconds: number | undefined;
  latencyP50Ms: number | undefined;
  latencyP99Ms: number | undefined;
  processCpu: RunnerRun['processCpu'];
  processMaxRssBytes: number | undefined;
  wallMs: number;
  loadAverageBefore: [number, number, number];
  loadAverageAfter: [number, number, number];
}

const toMs = (value: string, unit: string) => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 1);

/** One wrk run: `wrk -t THREADS -c CONNECTIONS -d SECONDS --latency URL`, bounded. */
export async function runWrk(options: { binary: string; url: string; threads: number; connections: number; seconds: number; outputDir: string; log?: (line: string) => void }): Promise<WrkRun> {
  const run = await timed(options.binary, ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', '10s', '--latency', options.url], {
    outputDir: options.outputDir,
    name: 'wrk',
    timeoutMs: (options.seconds + 30) * 1000,
    log: options.log ?? (() => undefined),
  });
  const text = run.output;
  const requests = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(text);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)/m.exec(text);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)/m.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    exitCode: run.exitCode,
    requests: requests ? Number(requests[1]) : undefined,
    non2xxOr3xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, v) => sum + Number(v), 0) : 0,
    durationSeconds: requests ? toMs(requests[2] as string, requests[3] as string) / 1000 : undefined,
    latencyP50Ms: p50 ? toMs(p50[1] as string, p50[2] as string) : undefined,
    latencyP99Ms: p99 ? toMs(p99[1] as string, p99[2] as string) : undefined,
    processCpu: run.processCpu,
    processMaxRssBytes: run.processMaxRssBytes,
    wallMs: run.wallMs,
    loadAverageBefore: run.loadAverageBefore,
    loadAverageAfter: run.loadAverageAfter,
  };
}

/** Folder for a run's generated scripts, summaries and logs (kept for inspection, outside the clone). */
export function runsDir(name: string): string {
  return join(process.env.PERFSTACK_BENCH_RUNS_DIR ?? join(tmpdir(), 'perfstack-load-bench'), name);
}

/** Rounds for the JSON (figures are noisy well above the third decimal). */
export const round = (value: number | undefined | null, digits = 3): number | null =>
  value === undefined || value === null || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;

export interface Spread {
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
  /** Interquartile range: the 25th and 75th percentiles. */
  q1: number | null;
  q3: number | null;
}

/** Median, min–max and IQR of the values that are numbers. */
export function spread(values: ReadonlyArray<number | null | undefined>, digits = 3): Spread {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { n: 0, median: null, min: null, max: null, q1: null, q3: null };
  return {
    n: sorted.length,
    median: round(median(sorted), digits),
    min: round(sorted[0], digits),
    max: round(sorted[sorted.length - 1], digits),
    q1: round(quantileSorted(sorted, 0.25), digits),
    q3: round(quantileSorted(sorted, 0.75), digits),
  };
}

/** "12.3 (11.0–14.1)": a median and its min–max, for the printed tables. */
export function formatSpread(s: Spread, unit = ''): string {
  if (s.median === null) return 'n/a';
  return `${s.median}${unit} (${s.min}–${s.max}${unit}, n=${s.n})`;
}
