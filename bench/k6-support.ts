// Shared by the k6 benchmarks (bench/k6-1000-vus.ts, bench/k6-search-capacity.ts,
// bench/k6-cpu-cost.ts); not a benchmark itself.
//
// - referenceService(): PostgreSQL (the test harness), migrations, optional seeding, and the
//   reference service as its own process (`perfstack app`), as bench/app-load.ts does;
// - runK6(): one k6 run of a script under /usr/bin/time, so k6's own CPU time (user + system,
//   10 ms resolution) and peak memory come from the kernel's accounting of the finished process;
//   open file descriptors of k6 and of any other process are sampled while it runs; the run is
//   bounded by a timeout (SIGINT to k6, SIGKILL 15 s later);
// - benchEnvironment(): the machine and versions, written next to every figure.
//
// The benchmark scenarios are generated into the run's folder as k6 TypeScript that imports the
// shipped helpers in k6/scenarios/lib by absolute path (k6 resolves them literally). They are not
// files under bench/ because the root tsconfig type-checks every .ts there as Node code.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, seed } from '../app/index.js';
import { ensureK6, freePort, k6Version, startProcess, type RunningProcess } from '../stack/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where k6 scripts import the shipped scenario helpers from (absolute, with the `.ts` suffix). */
export const K6_LIB = join(REPO_ROOT, 'k6', 'scenarios', 'lib');
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

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

export interface BenchEnvironment {
  cpuModel: string | undefined;
  cores: number;
  memoryBytes: number;
  kernel: string;
  nodeVersion: string;
  k6Version: string | undefined;
  postgresVersion: string | undefined;
  /** RLIMIT_NOFILE of this process; k6 and the service inherit it. */
  openFilesLimit: { soft: number; hard: number } | undefined;
  /** os.loadavg() when the benchmark started (other work on the machine, before any load of ours). */
  loadAverageAtStart: [number, number, number];
  date: string;
}

export function benchEnvironment(k6Binary: string, postgresVersion: string | undefined): BenchEnvironment {
  return {
    cpuModel: cpus()[0]?.model.trim(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    kernel: release(),
    nodeVersion: process.version,
    k6Version: k6Version(k6Binary),
    postgresVersion,
    openFilesLimit: openFilesLimit(),
    loadAverageAtStart: loadAverage(),
    date: new Date().toISOString(),
  };
}

export interface ReferenceService {
  postgres: TestPostgres;
  app: RunningProcess;
  baseUrl: string;
  postgresVersion: string | undefined;
  dataset: { size: string; rows: number } | null;
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

/** A k6 end-of-test summary as k6/scenarios/lib/summary.ts writes it (the parts read here). */
export interface K6SummaryFile {
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state: { testRunDurationMs: number };
}

export interface K6RunOptions {
  k6Binary: string;
  /** The k6 script's source; written to <outputDir>/<scriptName>. */
  script: string;
  scriptName: string;
  outputDir: string;
  /** k6 -e variables. */
  vars?: Record<string, string>;
  /** Extra process environment for k6 (e.g. the remote-write settings). */
  env?: Record<string, string>;
  /** Extra `k6 run` arguments, e.g. ['--out', 'experimental-prometheus-rw']. */
  args?: string[];
  /** Interrupt k6 after this long. */
  timeoutMs: number;
  /** Other processes whose open descriptors are sampled too, by name. */
  watch?: Record<string, number>;
  log?: (line: string) => void;
}

export interface K6RunResult {
  exitCode: number;
  summary: K6SummaryFile | undefined;
  summaryPath: string;
  logPath: string;
  wallMs: number;
  /** k6's own CPU time from /usr/bin/time (user and system), milliseconds. */
  cpu: { userMs: number; systemMs: number; totalMs: number } | undefined;
  /** k6's peak resident memory from /usr/bin/time, bytes. */
  maxRssBytes: number | undefined;
  /** CPU ms each watched process used while k6 ran (from /proc/<pid>/stat, 10 ms resolution). */
  watchedCpuMs: Record<string, number>;
  /** Highest open-descriptor count seen (sampled every 250 ms) for k6 and each watched process. */
  peakOpenFiles: Record<string, number>;
  loadAverageBefore: [number, number, number];
  loadAverageAfter: [number, number, number];
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; undefined when gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS) : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on Linux for every architecture this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** The child pids of a process (Linux /proc/<pid>/task/<pid>/children). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Runs one k6 script under /usr/bin/time and returns its summary, CPU time and descriptor peaks. */
export async function runK6(options: K6RunOptions): Promise<K6RunResult> {
  const log = options.log ?? (() => undefined);
  await mkdir(options.outputDir, { recursive: true });
  const scriptPath = join(options.outputDir, options.scriptName);
  const summaryPath = join(options.outputDir, 'summary.json');
  const timePath = join(options.outputDir, 'time.txt');
  const logPath = join(options.outputDir, 'k6.log');
  await writeFile(scriptPath, options.script, 'utf8');
  await rm(summaryPath, { force: true });
  await rm(timePath, { force: true });
  const vars = { PERFSTACK_SUMMARY_PATH: summaryPath, ...options.vars };
  const k6Args = ['run', '--quiet', '--no-color', ...(options.args ?? [])];
  for (const [key, value] of Object.entries(vars).sort(([a], [b]) => a.localeCompare(b))) k6Args.push('-e', `${key}=${value}`);
  k6Args.push(scriptPath);

  const loadAverageBefore = loadAverage();
  const cpuBefore = Object.fromEntries(Object.entries(options.watch ?? {}).map(([name, pid]) => [name, processCpuMs(pid)]));
  const started = performance.now();
  const peakOpenFiles: Record<string, number> = {};
  const chunks: string[] = [];
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    // %U/%S: CPU seconds of the finished k6 (10 ms resolution); %M: its peak RSS in KiB.
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timePath, options.k6Binary, ...k6Args], {
      cwd: options.outputDir,
      env: { ...process.env, K6_NO_USAGE_REPORT: 'true', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer) => chunks.push(chunk.toString());
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const k6Pid = () => (child.pid === undefined ? undefined : childPids(child.pid)[0]);
    const sampler = setInterval(() => {
      const pids: Record<string, number | undefined> = { k6: k6Pid(), ...options.watch };
      for (const [name, pid] of Object.entries(pids)) {
        if (pid === undefined) continue;
        const count = openFiles(pid);
        if (count !== undefined) peakOpenFiles[name] = Math.max(peakOpenFiles[name] ?? 0, count);
      }
    }, 250);
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      log(`k6: still running after ${options.timeoutMs} ms; interrupting it`);
      const pid = k6Pid();
      if (pid !== undefined) process.kill(pid, 'SIGINT'); // k6 stops gracefully and writes its summary
      killTimer = setTimeout(() => {
        const again = k6Pid();
        if (again !== undefined) process.kill(again, 'SIGKILL');
      }, 15_000);
    }, options.timeoutMs);
    const finish = () => {
      clearInterval(sampler);
      clearTimeout(deadline);
      clearTimeout(killTimer);
    };
    child.once('error', (error) => {
      finish();
      reject(new Error(`could not run /usr/bin/time ${options.k6Binary}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      finish();
      resolvePromise(code ?? (signal === 'SIGKILL' ? 137 : 130));
    });
  });
  const wallMs = performance.now() - started;
  const watchedCpuMs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(options.watch ?? {})) {
    const before = cpuBefore[name];
    const after = processCpuMs(pid);
    if (before !== undefined && after !== undefined) watchedCpuMs[name] = Math.round(after - before);
  }
  await writeFile(logPath, chunks.join(''), 'utf8');

  let cpu: K6RunResult['cpu'];
  let maxRssBytes: number | undefined;
  if (existsSync(timePath)) {
    // The last line holds the figures (a line before it says so when k6 exited non-zero).
    const last = (await readFile(timePath, 'utf8')).trim().split('\n').pop() ?? '';
    const match = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(last.trim());
    if (match) {
      const userMs = Number(match[1]) * 1000;
      const systemMs = Number(match[2]) * 1000;
      cpu = { userMs, systemMs, totalMs: userMs + systemMs };
      maxRssBytes = Number(match[3]) * 1024;
    }
  }
  let summary: K6SummaryFile | undefined;
  try {
    summary = JSON.parse(await readFile(summaryPath, 'utf8')) as K6SummaryFile;
  } catch {
    summary = undefined;
  }
  return { exitCode, summary, summaryPath, logPath, wallMs, cpu, maxRssBytes, watchedCpuMs, peakOpenFiles, loadAverageBefore, loadAverageAfter: loadAverage() };
}

/** A value of a summary metric (e.g. metric "http_req_duration{phase:hold}", stat "p(95)"), or undefined. */
export function stat(summary: K6SummaryFile | undefined, metric: string, name: string): number | undefined {
  const value = summary?.metrics[metric]?.values[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The cached k6, built once if missing. */
export function k6Binary(): Promise<string> {
  return ensureK6({ log: (line) => console.log(line) });
}

/** Folder for a run's generated scripts, summaries and logs (kept for inspection, outside the clone). */
export function runsDir(name: string): string {
  return join(process.env.PERFSTACK_BENCH_RUNS_DIR ?? join(tmpdir(), 'perfstack-k6-bench'), name);
}

/** Rounds for the JSON (figures are noisy well above the third decimal). */
export const round = (value: number | undefined, digits = 3): number | null =>
  value === undefined || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;
