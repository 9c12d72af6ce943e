// Measurement helpers for bench/pool-overhead.ts: the workloads, interleaved slices of queries with
// their CPU time, the spread of per-round figures, and an in-process stand-in for pg.Client.

import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { quantileSorted } from './stats.js';

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
  concurrency: number;
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
  pools: Record<S, pg.Pool>,
  workloads: readonly Workload[],
  options: InterleaveOptions,
): Promise<Record<string, Record<S, Sample[]>>> {
  const setups = Object.keys(pools) as S[];
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
          const sample = await run(pools[setup], workload, options.queriesPerSlice, options.concurrency);
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
      .map((s) => [
        s,
        {
          cpuUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.cpuUsPerQuery - (base[i] as Sample).cpuUsPerQuery)),
          userUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.userUsPerQuery - (base[i] as Sample).userUsPerQuery)),
          systemUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.systemUsPerQuery - (base[i] as Sample).systemUsPerQuery)),
          mainThreadUsPerQueryOverRaw: spread(samples[s].map((x, i) => x.mainThreadUsPerQuery - (base[i] as Sample).mainThreadUsPerQuery)),
          cpuRatioToRaw: spread(samples[s].map((x, i) => x.cpuUsPerQuery / (base[i] as Sample).cpuUsPerQuery)),
          throughputRatioToRaw: spread(samples[s].map((x, i) => x.queriesPerSecond / (base[i] as Sample).queriesPerSecond)),
        },
      ]),
  ) as Record<
    S,
    { cpuUsPerQueryOverRaw: Spread; userUsPerQueryOverRaw: Spread; systemUsPerQueryOverRaw: Spread; mainThreadUsPerQueryOverRaw: Spread; cpuRatioToRaw: Spread; throughputRatioToRaw: Spread }
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
