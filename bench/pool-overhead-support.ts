// Measurement helpers for bench/pool-overhead.ts: the workloads, interleaved slices of queries with
// their CPU time, the spread of per-round figures, and an in-process stand-in for pg.Client.

import { type ChildProcess, execFileSync, fork, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import type { FromWorker, ToWorker, WorkerSetup } from './pool-overhead-worker.js';
import { type MedianInterval, medianConfidenceInterval, quantileSorted } from './stats.js';

export interface Workload {
  name: string;
  description: string;
  /** The arguments of the i-th pool.query() call. */
  query(i: number): [string] | [string, unknown[]];
}

const DISTINCT = Array.from({ length: 200 }, (_, k) => `SELECT $1::int AS c${k}`);

export const WORKLOADS: Workload[] = [
  { name: 'one-statement', description: 'SELECT 1', query: () => ['SELECT 1'] },
  {
    name: 'parameterised',
    description: 'SELECT $1::int AS id, $2::text AS name, values [i, "name-" + (i % 10)]',
    query: (i) => ['SELECT $1::int AS id, $2::text AS name', [i, `name-${i % 10}`]],
  },
  {
    name: 'distinct-200',
    description: '200 distinct statements SELECT $1::int AS c0 … c199 in turn, values [i] (200 summaries against the default cap of 100)',
    query: (i) => [DISTINCT[i % DISTINCT.length] as string, [i]],
  },
];

/** Queries per workload a set-up runs before it is measured: opens every connection, lets V8 optimise each path. */
export const WARMUP_QUERIES = 4000;

export interface Sample {
  /** user + system */
  cpuUsPerQuery: number;
  userUsPerQuery: number;
  systemUsPerQuery: number;
  /** CPU of the main (JavaScript) thread alone, without V8's GC and compiler threads; NaN off Linux. */
  mainThreadUsPerQuery: number;
  queriesPerSecond: number;
}

/** The main thread's on-CPU nanoseconds (Linux schedstat), or NaN where there is none. */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const HAS_SCHEDSTAT = existsSync(SCHEDSTAT);
function mainThreadNs(): number {
  if (!HAS_SCHEDSTAT) return Number.NaN;
  return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]);
}

/** Runs `count` queries of `workload` on `pool` with `concurrency` callers: CPU (user + system) and wall time. */
export async function run(pool: pg.Pool, workload: Workload, count: number, concurrency: number): Promise<Sample> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const args = workload.query(i);
      await (args.length === 1 ? pool.query(args[0]) : pool.query(args[0], args[1]));
    }
  };
  const mainBefore = mainThreadNs();
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const mainUs = (mainThreadNs() - mainBefore) / 1000;
  return {
    cpuUsPerQuery: (cpu.user + cpu.system) / count,
    userUsPerQuery: cpu.user / count,
    systemUsPerQuery: cpu.system / count,
    mainThreadUsPerQuery: mainUs / count,
    queriesPerSecond: count / seconds,
  };
}

export interface InterleaveOptions {
  rounds: number;
  slices: number;
  queriesPerSlice: number;
}

/** Runs `count` queries of a workload on one set-up (in this process or another) and measures them. */
export type Runner = (workload: Workload, count: number) => Promise<Sample>;

/** A runner for a pool in this process. */
export function inProcess(pool: pg.Pool, concurrency: number): Runner {
  return (workload, count) => run(pool, workload, count, concurrency);
}

/** Every ordering of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/**
 * Per workload and round, one Sample per set-up. A round's share of each set-up is cut into slices
 * that take turns, so a burst of load from elsewhere on the machine lands on every set-up rather
 * than on whichever ran at that moment. The turns cycle through every ordering of the set-ups, so
 * each one runs in each position and after each other one equally often (what one set-up leaves
 * behind, garbage for instance, is not always paid by the same neighbour).
 */
export async function interleave<S extends string>(
  runners: Record<S, Runner>,
  workloads: readonly Workload[],
  options: InterleaveOptions,
): Promise<Record<string, Record<S, Sample[]>>> {
  const setups = Object.keys(runners) as S[];
  const orders = permutations(setups);
  let turn = 0;
  const samples: Record<string, Record<S, Sample[]>> = {};
  for (const workload of workloads) samples[workload.name] = Object.fromEntries(setups.map((s) => [s, []])) as unknown as Record<S, Sample[]>;
  for (let round = 0; round < options.rounds; round++) {
    for (const workload of workloads) {
      const cpuUs = new Map<S, number>(setups.map((s) => [s, 0]));
      const userUs = new Map<S, number>(setups.map((s) => [s, 0]));
      const systemUs = new Map<S, number>(setups.map((s) => [s, 0]));
      const mainUs = new Map<S, number>(setups.map((s) => [s, 0]));
      const seconds = new Map<S, number>(setups.map((s) => [s, 0]));
      for (let slice = 0; slice < options.slices; slice++) {
        for (const setup of orders[turn++ % orders.length] as S[]) {
          const sample = await runners[setup](workload, options.queriesPerSlice);
          cpuUs.set(setup, (cpuUs.get(setup) as number) + sample.cpuUsPerQuery * options.queriesPerSlice);
          userUs.set(setup, (userUs.get(setup) as number) + sample.userUsPerQuery * options.queriesPerSlice);
          systemUs.set(setup, (systemUs.get(setup) as number) + sample.systemUsPerQuery * options.queriesPerSlice);
          mainUs.set(setup, (mainUs.get(setup) as number) + sample.mainThreadUsPerQuery * options.queriesPerSlice);
          seconds.set(setup, (seconds.get(setup) as number) + options.queriesPerSlice / sample.queriesPerSecond);
        }
      }
      const queries = options.queriesPerSlice * options.slices;
      for (const setup of setups) {
        (samples[workload.name] as Record<S, Sample[]>)[setup].push({
          cpuUsPerQuery: (cpuUs.get(setup) as number) / queries,
          userUsPerQuery: (userUs.get(setup) as number) / queries,
          systemUsPerQuery: (systemUs.get(setup) as number) / queries,
          mainThreadUsPerQuery: (mainUs.get(setup) as number) / queries,
          queriesPerSecond: queries / (seconds.get(setup) as number),
        });
      }
    }
  }
  return samples;
}

export interface Spread {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantileSorted(sorted, 0.5),
    p25: quantileSorted(sorted, 0.25),
    p75: quantileSorted(sorted, 0.75),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/** Per set-up spreads, and each instrumented set-up paired with `baseline` of the same round. */
export function compare<S extends string>(samples: Record<S, Sample[]>, baseline: NoInfer<S>) {
  const base = samples[baseline];
  const setups = Object.keys(samples) as S[];
  const setupsOut = Object.fromEntries(
    setups.map((s) => [
      s,
      {
        cpuUsPerQuery: spread(samples[s].map((x) => x.cpuUsPerQuery)),
        userUsPerQuery: spread(samples[s].map((x) => x.userUsPerQuery)),
        systemUsPerQuery: spread(samples[s].map((x) => x.systemUsPerQuery)),
        mainThreadUsPerQuery: spread(samples[s].map((x) => x.mainThreadUsPerQuery)),
        queriesPerSecond: spread(samples[s].map((x) => x.queriesPerSecond)),
      },
    ]),
  ) as Record<S, { cpuUsPerQuery: Spread; userUsPerQuery: Spread; systemUsPerQuery: Spread; mainThreadUsPerQuery: Spread; queriesPerSecond: Spread }>;
  const vsBaseline = Object.fromEntries(
    setups
      .filter((s) => s !== baseline)
      .map((s) => {
        const cpuOverRaw = samples[s].map((x, i) => x.cpuUsPerQuery - (base[i] as Sample).cpuUsPerQuery);
        const throughputRatio = samples[s].map((x, i) => x.queriesPerSecond / (base[i] as Sample).queriesPerSecond);
        return [
          s,
          {
            cpuUsPerQueryOverRaw: spread(cpuOverRaw),
            userUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.userUsPerQuery - (base[i] as Sample).userUsPerQuery)),
            systemUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.systemUsPerQuery - (base[i] as Sample).systemUsPerQuery)),
            mainThreadUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.mainThreadUsPerQuery - (base[i] as Sample).mainThreadUsPerQuery)),
            cpuRatioToRaw: spread(samples[s].map((x, i) => x.cpuUsPerQuery / (base[i] as Sample).cpuUsPerQuery)),
            throughputRatioToRaw: spread(throughputRatio),
            // 95 % intervals for the two medians the targets are about.
            cpuUsPerQueryOverRawCi95: medianConfidenceInterval(cpuOverRaw),
            throughputRatioToRawCi95: medianConfidenceInterval(throughputRatio),
          },
        ];
      }),
  ) as Record<
    S,
    {
      cpuUsPerQueryOverRaw: Spread;
      userUsPerQueryOverRaw: Spread;
      systemUsPerQueryOverRaw: Spread;
      mainThreadUsPerQueryOverRaw: Spread;
      cpuRatioToRaw: Spread;
      throughputRatioToRaw: Spread;
      cpuUsPerQueryOverRawCi95: MedianInterval;
      throughputRatioToRawCi95: MedianInterval;
    }
  >;
  return { setups: setupsOut, vsRaw: vsBaseline };
}

/** Sum of a metric's _count samples in Prometheus text, to prove a set-up really recorded. */
export function countSamples(text: string, metric: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric}_count`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

const FAKE_RESULT = Object.freeze({ command: 'SELECT', rowCount: 1, oid: 0, rows: [{ n: 1 }], fields: [] });

/**
 * A pg.Client stand-in for `new pg.Pool({ Client: InProcessClient })`: connects and answers every
 * query on the next tick, with no socket and no server. What remains of a query's CPU is pg-pool's
 * and the instrumentation's own, so the difference between two such pools is the instrumentation's
 * cost alone, free of the network and PostgreSQL's noise.
 */
export class InProcessClient extends EventEmitter {
  _ending = false;
  _queryable = true;
  connect(callback?: (error?: Error) => void): Promise<void> | undefined {
    if (callback) {
      process.nextTick(callback);
      return undefined;
    }
    return Promise.resolve();
  }
  query(_config: unknown, values?: unknown, callback?: unknown): Promise<unknown> | undefined {
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      process.nextTick(cb as (error: null, result: unknown) => void, null, FAKE_RESULT);
      return undefined;
    }
    return new Promise((resolve) => process.nextTick(resolve, FAKE_RESULT));
  }
  end(callback?: () => void): Promise<void> | undefined {
    this._ending = true;
    if (callback) {
      process.nextTick(callback);
      return undefined;
    }
    return Promise.resolve();
  }
}

/**
 * Pins a process, all its threads and its current children to one CPU with taskset(1); children
 * forked later (PostgreSQL's backends) inherit it. Returns false when taskset is missing or the
 * machine has a single CPU, so the caller can say the run was not pinned.
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  if (spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  const children = spawnSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' }).stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  for (const target of [String(pid), ...children]) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), target], { stdio: 'ignore' });
  return true;
}

/** One set-up running in its own process (bench/pool-overhead-worker.ts), one request at a time. */
export interface SetupProcess {
  readonly pid: number;
  runner: Runner;
  /** Operations the set-up's metrics recorded, and the query summaries it kept (perfstack's only). */
  recorded(): Promise<{ count: number; querySummaries: number }>;
  stop(): Promise<void>;
}

/**
 * Starts a set-up's process; `beforeWarmUp` runs once it exists, before it opens a connection
 * (to pin it to a CPU). Resolves once the process has warmed up and is ready to be measured.
 */
export async function startSetupProcess(setup: WorkerSetup, databaseUrl: string, concurrency: number, beforeWarmUp: (pid: number) => void): Promise<SetupProcess> {
  const child: ChildProcess = fork(new URL('./pool-overhead-worker.ts', import.meta.url), [setup, databaseUrl, String(concurrency)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting: { resolve(message: FromWorker): void; reject(error: Error): void } | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message: FromWorker) => {
    const w = waiting;
    waiting = undefined;
    if (!w) return;
    if (message.type === 'error') w.reject(new Error(`${setup} set-up: ${message.message}`));
    else w.resolve(message);
  });
  child.once('exit', (code, signal) => waiting?.reject(new Error(`${setup} set-up exited (${signal ?? code}) while it was asked for something`)));
  const next = () => new Promise<FromWorker>((resolve, reject) => (waiting = { resolve, reject }));
  const request = (message: ToWorker) => {
    const answer = next();
    child.send(message);
    return answer;
  };
  if (child.pid === undefined) throw new Error(`${setup} set-up did not start`);
  const ready = next();
  beforeWarmUp(child.pid);
  await ready;
  return {
    pid: child.pid,
    runner: async (workload, count) => {
      const answer = await request({ type: 'run', workload: workload.name, count });
      if (answer.type !== 'sample') throw new Error(`${setup} set-up answered ${answer.type} to run`);
      return answer.sample;
    },
    recorded: async () => {
      const answer = await request({ type: 'recorded' });
      if (answer.type !== 'recorded') throw new Error(`${setup} set-up answered ${answer.type} to recorded`);
      return { count: answer.count, querySummaries: answer.querySummaries };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' } satisfies ToWorker);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
