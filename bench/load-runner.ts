// Runs one load tool in this process and reports its own CPU time and memory: perfstack's engine
// (runLoad() from loadgen/) or autocannon (the pinned devDependency, MIT), so both are measured the
// same way. bench/load-support.ts starts it as a child process; not a benchmark by itself.
//
//   node --expose-gc --import tsx bench/load-runner.ts <config.json>
//
// The config (RunnerConfig) names the tool and where to write the result (RunnerResult). CPU time
// is process.cpuUsage() (user and system, every thread of the process, microseconds) taken right
// before and right after the tool's run: Node's start-up and module loading are left out, the
// engine's script bundling, init, setup, teardown and end-of-test summary are in. Memory is
// process.memoryUsage() once a second, and after a forced GC at the times the config asks for.
// SIGINT stops the run as an interrupt stops k6 (the engine still writes its summary).

import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoadRunResult, ShortcutOverrides } from '../loadgen/index.js';

export interface AutocannonRequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Remember the response's JSON `id` in the connection's context (a create). */
  captureId?: boolean;
  /** Replace ":id" in the path with the id remembered by the last captureId request. */
  useId?: boolean;
}

export interface RunnerConfig {
  tool: 'engine' | 'autocannon';
  resultPath: string;
  engine?: {
    script: string;
    env: Record<string, string>;
    summaryPath: string;
    tags?: Record<string, string>;
    remoteWrite?: { url: string; intervalMs: number; trendStats: string[] };
    /** Keep every request's sample (the engine's samples output), for a closer look at one run. */
    samplesPath?: string;
    /** k6's --vus/--iterations/--duration (they replace the script's scenarios): the start-up runs use one iteration. */
    overrides?: ShortcutOverrides;
  };
  autocannon?: {
    url: string;
    connections: number;
    /** Requests in all (takes precedence over the duration). */
    amount?: number;
    durationSeconds?: number;
    /** Each connection loops over this sequence; a plain GET of url without it. */
    requests?: AutocannonRequestSpec[];
    timeoutSeconds?: number;
  };
  /** Write a V8 CPU profile of the run here (.cpuprofile, for a closer look; it costs some CPU itself). */
  cpuProfilePath?: string;
  /** Milliseconds after the run starts at which to force a GC and record memoryUsage(). */
  gcSamplesAtMs?: number[];
}

export interface MemorySample {
  atMs: number;
  afterGc: boolean;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface RunnerResult {
  tool: RunnerConfig['tool'];
  /** Wall time of the tool's run, ms. */
  wallMs: number;
  /** CPU of this process during the tool's run (process.cpuUsage() difference), microseconds. */
  cpu: { userUs: number; systemUs: number; totalUs: number };
  /** CPU of this process from its start (Node start-up and loading included), microseconds. */
  cpuSinceStart: { userUs: number; systemUs: number; totalUs: number };
  /** process.resourceUsage().maxRSS, bytes. */
  maxRssBytes: number;
  /** Before the run (after a GC), then once a second, plus the forced-GC samples. */
  memory: MemorySample[];
  /**
   * Event-loop delay of this process during the run (perf_hooks.monitorEventLoopDelay, 10 ms
   * resolution), ms. The engine's VUs share this loop: a long delay would stretch its timings.
   */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  engine?: { exitCode: number; error?: string; iterations: LoadRunResult['iterations'] };
  autocannon?: {
    /** Responses received (every status) + connection errors. */
    requests: number;
    responses: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodes: Record<string, number>;
    latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
    durationSeconds: number;
  };
}

type Histogram = { p50: number; p90: number; p99: number; mean: number; max: number };
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: Histogram;
  statusCodeStats?: Record<string, { count: number | string }>;
}
interface AutocannonRequest {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
type AutocannonInstance = { stop(): void };
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

const gc = (globalThis as { gc?: () => void }).gc;

function memorySample(atMs: number, afterGc: boolean): MemorySample {
  if (afterGc) gc?.();
  const m = process.memoryUsage();
  return { atMs, afterGc, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

function autocannonRequests(specs: AutocannonRequestSpec[]): AutocannonRequest[] {
  return specs.map((spec) => {
    const request: AutocannonRequest = { method: spec.method, path: spec.path };
    if (spec.body !== undefined) request.body = spec.body;
    if (spec.headers) request.headers = spec.headers;
    if (spec.captureId) {
      request.onResponse = (status, body, context) => {
        try {
          context.id = status >= 200 && status < 300 ? (JSON.parse(body) as { id?: number }).id : undefined;
        } catch {
          context.id = undefined;
        }
      };
    }
    if (spec.useId) {
      // An id the connection has not seen yet (its create failed) becomes 0: a 404, counted as non-2xx.
      request.setupRequest = (req, context) => ({ ...req, path: spec.path.replace(':id', String(context.id ?? 0)) });
    }
    return request;
  });
}

async function runAutocannon(config: NonNullable<RunnerConfig['autocannon']>, signal: AbortSignal): Promise<NonNullable<RunnerResult['autocannon']>> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const result = await new Promise<AutocannonResult>((resolvePromise, reject) => {
    const options: Record<string, unknown> = {
      url: config.url,
      connections: config.connections,
      pipelining: 1,
      timeout: config.timeoutSeconds ?? 10,
      ...(config.amount !== undefined ? { amount: config.amount } : { duration: config.durationSeconds ?? 10 }),
      ...(config.requests ? { requests: autocannonRequests(config.requests) } : {}),
    };
    const instance = autocannon(options, (error, value) => (error ? reject(error) : resolvePromise(value)));
    signal.addEventListener('abort', () => instance.stop(), { once: true });
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, Number(v.count)]));
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requests: responses + result.errors,
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, mean: result.latency.mean, max: result.latency.max },
    durationSeconds: result.duration,
  };
}

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (!configPath) throw new Error('usage: node --expose-gc --import tsx bench/load-runner.ts <config.json>');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as RunnerConfig;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());

  // The engine's modules load before the measured phase (the autocannon runner never loads them).
  const loadgen = config.tool === 'engine' ? await import('../loadgen/index.js') : undefined;
  const memory: MemorySample[] = [memorySample(0, true)];
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  const sampler = setInterval(() => memory.push(memorySample(since(), false)), 1000);
  const gcTimers = (config.gcSamplesAtMs ?? []).map((at) => setTimeout(() => memory.push(memorySample(since(), true)), at));
  let profiler: Session | undefined;
  if (config.cpuProfilePath) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  let engine: RunnerResult['engine'];
  let autocannon: RunnerResult['autocannon'];
  try {
    if (config.tool === 'engine') {
      const e = config.engine;
      if (!e || !loadgen) throw new Error('config.engine is missing');
      const result = await loadgen.runLoad({
        script: e.script,
        env: e.env,
        tags: e.tags ?? {},
        ...(e.overrides ? { overrides: e.overrides } : {}),
        ...(e.samplesPath ? { samplesPath: e.samplesPath } : {}),
        summaryPath: e.summaryPath,
        ...(e.remoteWrite ? { remoteWrite: e.remoteWrite } : {}),
        log: (line) => console.log(line),
        progress: false,
        signal: stop.signal,
      });
      engine = { exitCode: result.exitCode, ...(result.error ? { error: result.error } : {}), iterations: result.iterations };
    } else {
      const a = config.autocannon;
      if (!a) throw new Error('config.autocannon is missing');
      autocannon = await runAutocannon(a, stop.signal);
    }
  } finally {
    clearInterval(sampler);
    gcTimers.forEach(clearTimeout);
  }
  const cpu = process.cpuUsage(cpuBefore);
  loopDelay.disable();
  if (profiler && config.cpuProfilePath) {
    const { profile } = await profiler.post('Profiler.stop');
    await writeFile(config.cpuProfilePath, JSON.stringify(profile), 'utf8');
    profiler.disconnect();
  }
  const wallMs = performance.now() - started;
  const total = process.cpuUsage();
  const result: RunnerResult = {
    tool: config.tool,
    wallMs,
    cpu: { userUs: cpu.user, systemUs: cpu.system, totalUs: cpu.user + cpu.system },
    cpuSinceStart: { userUs: total.user, systemUs: total.system, totalUs: total.user + total.system },
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    memory,
    eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    ...(engine ? { engine } : {}),
    ...(autocannon ? { autocannon } : {}),
  };
  await writeFile(config.resultPath, JSON.stringify(result, null, 2), 'utf8');
  // Timers a script left behind (an idle VU's long sleep) must not keep the process alive.
  process.exit(engine && engine.exitCode !== 0 && engine.exitCode !== 99 ? engine.exitCode : 0);
}

await main();
