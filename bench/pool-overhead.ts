// Pool instrumentation overhead: CPU per query and throughput of a Node process driving a real
// PostgreSQL 15 through one of
//   raw   - a plain pg.Pool (the baseline),
//   ours  - a pg.Pool wrapped by instrumentPool() (exporters/pg-pool),
//   otel  - the peer: a pg.Pool of a private pg copy patched by @opentelemetry/instrumentation-pg,
//           metrics through the OpenTelemetry Prometheus exporter (bench/otel-pg.ts says how),
//   rawAgain - a second plain pg.Pool, the A/A control: two identical pools differ by this much
//           on this machine, so differences of that size are not resolved.
//
// Each set-up runs in a process of its own (bench/pool-overhead-worker.ts), which the script asks
// for one slice of queries at a time: no set-up shares JIT state, garbage or module patches with
// another, as it would in one process (there, the instrumented pool read about 0.5–1 µs dearer
// beside the OpenTelemetry pool than without it).
//
//   npx tsx bench/pool-overhead.ts
//
// Three workloads (bench/pool-overhead-support.ts), each a fixed number of pool.query() calls at
// CONCURRENCY callers: one statement (SELECT 1), a parameterised statement, and 200 distinct
// statements (so 200 summaries against the default cap of 100).
//
// Rounds are interleaved: in each round every workload runs on every set-up, in SLICES slices per
// set-up that take turns (cycling through every ordering), so all of them share the machine's noise. CPU
// is process.cpuUsage() (user + system of the set-up's process; PostgreSQL runs in its own processes)
// divided by queries. Per round the instrumented set-ups are paired with raw of the same round: CPU µs per
// query over raw, and throughput as a fraction of raw; medians, quartiles and min/max over rounds,
// and a 95 % distribution-free interval for each median (sign-test order statistics). A target is
// met only when the whole interval is on its side: the upper bound of the CPU difference at most
// +1 µs, the lower bound of the throughput ratio at least 0.98.
//
// Pinning: on a machine with two or more CPUs the set-ups' processes (and this one) run on CPU 0 and
// PostgreSQL (the postmaster, its children and every backend it forks later) on CPU 1 (taskset).
// Unpinned, the scheduler moves the 16 backends onto the benchmark's CPU at random and the A/A control's
// per-round CPU difference spreads about three times wider (SD 1.1–1.9 µs against 0.3–0.7 µs here);
// PERFSTACK_BENCH_PIN=0 measures that way.
//
// A second, isolated measurement runs raw and ours in this process over an in-process stand-in for
// pg.Client (no socket, no server): the instrumentation's own CPU per query, without the network and
// PostgreSQL's noise (on a shared 2-core machine that noise is far larger than the instrumentation).
//
// Everything is printed and written to bench/results/pool-overhead.json.
// Environment: PERFSTACK_BENCH_ROUNDS (default 90; the targets need at least 10), PERFSTACK_BENCH_PIN (1),
// PERFSTACK_BENCH_EPOCHS (9: how many times the set-ups' processes are started afresh, rounds split evenly),
// PERFSTACK_BENCH_QUERIES (per set-up, workload and round; default 8000), PERFSTACK_BENCH_SLICES (8).

import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { instrumentPool, type InstrumentedPool } from '../exporters/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import {
  compare,
  InProcessClient,
  inProcess,
  interleave,
  pinToCpu,
  run,
  type Runner,
  type Sample,
  type SetupProcess,
  type Spread,
  startSetupProcess,
  WARMUP_QUERIES,
  WORKLOADS,
} from './pool-overhead-support.js';
import type { WorkerSetup } from './pool-overhead-worker.js';
import type { MedianInterval } from './stats.js';
import { writeJsonAtomic } from './write-json.js';

const CONCURRENCY = 16;
const ROUNDS = positiveInteger('PERFSTACK_BENCH_ROUNDS', 90);
const PIN = process.env.PERFSTACK_BENCH_PIN !== '0';
const EPOCHS = positiveInteger('PERFSTACK_BENCH_EPOCHS', 9);
if (EPOCHS > ROUNDS) throw new Error(`PERFSTACK_BENCH_EPOCHS (${EPOCHS}) must not exceed PERFSTACK_BENCH_ROUNDS (${ROUNDS})`);
/** Read before pinning: afterwards this process sees one CPU. */
const CPU_COUNT = availableParallelism();
const QUERIES = positiveInteger('PERFSTACK_BENCH_QUERIES', 8000);
const SLICES = positiveInteger('PERFSTACK_BENCH_SLICES', 8);
const QUERIES_PER_SLICE = Math.max(1, Math.round(QUERIES / SLICES));
/** The isolated measurement is ~20x cheaper per query: more queries for the same precision. */
const ISOLATED_QUERIES_PER_SLICE = QUERIES_PER_SLICE * 5;
const RESULT_FILE = join(import.meta.dirname, 'results', 'pool-overhead.json');
/** The targets: at most +1 µs CPU per query over raw, throughput at least 0.98 of raw. */
const TARGETS = { maxCpuUsPerQueryOverRaw: 1, minThroughputRatioToRaw: 0.98, minRounds: 10 };

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number >= 1, got "${raw}"`);
  return value;
}

type Setup = WorkerSetup;

let server: TestPostgres | undefined;
const processes: SetupProcess[] = [];
const isolatedPools: pg.Pool[] = [];
const handles: InstrumentedPool[] = [];
let pinned = false;

/** raw and ours over InProcessClient: the instrumentation's own CPU per query. */
async function measureIsolated() {
  const make = (instrument: boolean) => {
    const pool = new pg.Pool({ Client: InProcessClient as unknown as typeof pg.Client, max: CONCURRENCY });
    isolatedPools.push(pool);
    if (instrument) handles.push(instrumentPool(pool, { poolName: 'isolated', registry: new Registry() }));
    return pool;
  };
  const isolated = { raw: make(false), ours: make(true) };
  for (const workload of WORKLOADS) for (const pool of Object.values(isolated)) await run(pool, workload, WARMUP_QUERIES * 5, CONCURRENCY);
  const runners = { raw: inProcess(isolated.raw, CONCURRENCY), ours: inProcess(isolated.ours, CONCURRENCY) };
  const samples = await interleave(runners, WORKLOADS, { rounds: ROUNDS, slices: SLICES, queriesPerSlice: ISOLATED_QUERIES_PER_SLICE });
  return WORKLOADS.map((w) => ({ name: w.name, ...compare(samples[w.name] as Record<'raw' | 'ours', Sample[]>, 'raw') }));
}

async function measure(): Promise<void> {
  server = await startPostgres();
  // Before any connection: the backends forked for the pools inherit the postmaster's CPU.
  const postmasterPid = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  pinned = PIN && CPU_COUNT >= 2 && pinToCpu(postmasterPid, 1) && pinToCpu(process.pid, 0);

  // Each set-up in its own process (each warms up there: opens its connections, lets V8 optimise).
  // rawAgain is a second plain pg.Pool: the A/A control. Its difference from raw is what this
  // machine reports for two identical set-ups, i.e. the floor under which nothing is resolved.
  // The processes are started afresh for every epoch: two identical processes can differ by a few
  // per cent for as long as they live (where their code and heap landed), and fresh ones each
  // epoch turn that into noise the rounds average out instead of a bias.
  const setups: Setup[] = ['raw', 'ours', 'otel', 'rawAgain'];
  const samples: Record<string, Record<Setup, Sample[]>> = {};
  const recorded = { ours: 0, otel: 0 };
  let querySummariesKept = 0;
  const loadBefore = loadavg()[0] as number;
  const startedAt = Date.now();
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const real: Partial<Record<Setup, SetupProcess>> = {};
    // Started in a rotated order each epoch, so no set-up is always the first or last to start.
    for (const setup of [...setups.slice(epoch % setups.length), ...setups.slice(0, epoch % setups.length)]) {
      const child = await startSetupProcess(setup, server.url, CONCURRENCY, (pid) => {
        if (pinned) pinToCpu(pid, 0);
      });
      processes.push(child);
      real[setup] = child;
    }
    const runners = Object.fromEntries(setups.map((setup) => [setup, (real[setup] as SetupProcess).runner])) as Record<Setup, Runner>;
    const rounds = Math.floor(ROUNDS / EPOCHS) + (epoch < ROUNDS % EPOCHS ? 1 : 0);
    const epochSamples = await interleave(runners, WORKLOADS, { rounds, slices: SLICES, queriesPerSlice: QUERIES_PER_SLICE });
    for (const [workload, bySetup] of Object.entries(epochSamples)) {
      const all = (samples[workload] ??= Object.fromEntries(setups.map((setup) => [setup, []])) as unknown as Record<Setup, Sample[]>);
      for (const setup of setups) all[setup].push(...bySetup[setup]);
    }
    const ours = await (real.ours as SetupProcess).recorded();
    recorded.ours += ours.count;
    recorded.otel += (await (real.otel as SetupProcess).recorded()).count;
    querySummariesKept = ours.querySummaries;
    for (const setup of setups) await (real[setup] as SetupProcess).stop();
    console.log(`  epoch ${epoch + 1}/${EPOCHS} done (${rounds} rounds)`);
  }
  const loadAfter = loadavg()[0] as number;
  const realSeconds = (Date.now() - startedAt) / 1000;
  if (!(recorded.ours > 0) || !(recorded.otel > 0)) {
    throw new Error(`an instrumented set-up recorded nothing (ours ${recorded.ours}, otel ${recorded.otel}): the comparison would be meaningless`);
  }


  const isolated = await measureIsolated();

  const workloads = WORKLOADS.map((workload) => {
    const s = samples[workload.name] as Record<Setup, Sample[]>;
    const compared = compare(s, 'raw');
    const ours = compared.vsRaw.ours;
    // The same pairing against the A/A control instead of raw. The two plain pools differ a little
    // even so (see verdict.control*), so the verdict asks the target of both pairings.
    const oursVsRawAgain = compare({ rawAgain: s.rawAgain, ours: s.ours }, 'rawAgain').vsRaw.ours;
    return {
      name: workload.name,
      description: workload.description,
      ...compared,
      oursVsRawAgain,
      verdict: {
        /** The whole 95 % interval of the median is within the target, against raw and against rawAgain. */
        cpuWithinTarget: Math.max(ours.cpuUsPerQueryOverRawCi95.upper, oursVsRawAgain.cpuUsPerQueryOverRawCi95.upper) <= TARGETS.maxCpuUsPerQueryOverRaw,
        throughputWithinTarget: Math.min(ours.throughputRatioToRawCi95.lower, oursVsRawAgain.throughputRatioToRawCi95.lower) >= TARGETS.minThroughputRatioToRaw,
        cpuMedianWithinTarget: ours.cpuUsPerQueryOverRaw.median <= TARGETS.maxCpuUsPerQueryOverRaw,
        throughputMedianWithinTarget: ours.throughputRatioToRaw.median >= TARGETS.minThroughputRatioToRaw,
        /** A/A: how far two identical raw pools were apart in this run. */
        controlCpuUsPerQueryOverRaw: compared.vsRaw.rawAgain.cpuUsPerQueryOverRaw.median,
        controlThroughputRatioToRaw: compared.vsRaw.rawAgain.throughputRatioToRaw.median,
      },
      perRound: samples[workload.name],
    };
  });

  const result = {
    benchmark: 'pool-overhead',
    method:
      'fixed query count per set-up, workload and round at a fixed concurrency, in slices that alternate between set-ups (cycling through every ordering of the set-ups); ' +
      'each set-up in its own process; CPU = process.cpuUsage() user+system of that process / queries (user and system also apart, and the main thread alone from /proc/self/task/PID/schedstat, without V8 GC and compiler threads); each round paired with raw of the same round; ' +
      'rawAgain = a second plain pg.Pool, the A/A control; spread = median, p25, p75, min, max over rounds; ' +
      '*Ci95 = 95 % distribution-free interval of the median (sign-test order statistics); a target is met when the whole interval is within it; ' +
      'environment.pinned says whether this process and PostgreSQL ran on separate CPUs (taskset)',
    peer: '@opentelemetry/instrumentation-pg 0.61.0 with @opentelemetry/sdk-metrics 2.2.0 and the OTel Prometheus exporter (private pg copy, bench/otel-pg.ts)',
    flags: {
      concurrency: CONCURRENCY,
      poolMax: CONCURRENCY,
      rounds: ROUNDS,
      epochs: EPOCHS,
      slicesPerSetupPerRound: SLICES,
      queriesPerSetupPerRound: QUERIES_PER_SLICE * SLICES,
      warmupQueries: WARMUP_QUERIES,
      isolatedQueriesPerSetupPerRound: ISOLATED_QUERIES_PER_SLICE * SLICES,
      instrumentPoolOptions: { poolName: 'bench', maxQuerySummaries: 100 },
      command: 'npx tsx bench/pool-overhead.ts',
    },
    environment: {
      postgresVersion: (await server.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))[0]?.v,
      nodeVersion: process.version,
      cpuCount: CPU_COUNT,
      cpuModel: cpus()[0]?.model.trim(),
      loadAverage1m: { before: loadBefore, after: loadAfter },
      realPostgresSeconds: realSeconds,
      pinned: pinned ? { benchmark: 'CPU 0', postgres: 'CPU 1' } : false,
      date: new Date().toISOString(),
      versions: { pg: '8.23.1', 'prom-client': '15.1.3', '@opentelemetry/instrumentation-pg': '0.61.0', '@opentelemetry/sdk-metrics': '2.2.0' },
    },
    targets: TARGETS,
    workloads,
    isolated: {
      description: 'raw vs ours over an in-process pg.Client stand-in (no socket, no server): the instrumentation’s own CPU per query',
      workloads: isolated,
    },
    operationsRecorded: recorded,
    querySummariesKept,
    verdict: {
      enoughRounds: ROUNDS >= TARGETS.minRounds,
      cpuWithinTarget: workloads.every((w) => w.verdict.cpuWithinTarget),
      throughputWithinTarget: workloads.every((w) => w.verdict.throughputWithinTarget),
      isolatedCpuWithinTarget: isolated.every((w) => w.vsRaw.ours.cpuUsPerQueryOverRawCi95.upper <= TARGETS.maxCpuUsPerQueryOverRaw),
    },
  };
  const written = await writeJsonAtomic(RESULT_FILE, result);

  const f = (x: number, digits = 2) => x.toFixed(digits);
  const interval = (x: MedianInterval, digits = 2) => `[${f(x.lower, digits)}, ${f(x.upper, digits)}]`;
  const range = (x: Spread, digits = 2) => `${f(x.median, digits)} [IQR ${f(x.p25, digits)}–${f(x.p75, digits)}, ${f(x.min, digits)}–${f(x.max, digits)}]`;
  const lines = [
    '',
    `pool overhead against PostgreSQL: ${ROUNDS} interleaved rounds × ${SLICES} slices × ${QUERIES_PER_SLICE} queries per set-up and workload, ` +
      `concurrency ${CONCURRENCY}, ${result.environment.cpuCount} CPUs, ${pinned ? 'benchmark on CPU 0 and PostgreSQL on CPU 1' : 'not pinned'}, load ${f(loadBefore)} → ${f(loadAfter)}`,
  ];
  for (const w of workloads) {
    lines.push(`  ${w.name} (${w.description})`);
    for (const setup of ['raw', 'rawAgain', 'ours', 'otel'] as const) {
      const x = w.setups[setup];
      lines.push(`    ${setup.padEnd(8)} CPU ${range(x.cpuUsPerQuery)} µs/query   ${range(x.queriesPerSecond, 0)} q/s`);
    }
    for (const setup of ['rawAgain', 'ours', 'otel'] as const) {
      const v = w.vsRaw[setup];
      lines.push(`    ${setup.padEnd(8)} vs raw: CPU +${range(v.cpuUsPerQueryOverRaw)} µs/query, throughput ×${range(v.throughputRatioToRaw, 3)}`);
      lines.push(`             95 % interval of the median: CPU ${interval(v.cpuUsPerQueryOverRawCi95)} µs/query, throughput ${interval(v.throughputRatioToRawCi95, 3)}`);
      lines.push(
        `             medians: user +${f(v.userUsPerQueryOverRaw.median)}, system +${f(v.systemUsPerQueryOverRaw.median)}, ` +
          `main thread alone +${f(v.mainThreadUsPerQueryOverRaw.median)} µs/query`,
      );
    }
  }
  for (const w of workloads) {
    const v = w.oursVsRawAgain;
    lines.push(
      `  ${w.name.padEnd(14)} ours vs rawAgain: CPU +${range(v.cpuUsPerQueryOverRaw)} µs/query ${interval(v.cpuUsPerQueryOverRawCi95)}, ` +
        `throughput ×${range(v.throughputRatioToRaw, 3)} ${interval(v.throughputRatioToRawCi95, 3)}`,
    );
  }
  lines.push(`isolated (in-process client, ${ISOLATED_QUERIES_PER_SLICE * SLICES} queries per set-up, workload and round):`);
  for (const w of isolated) {
    lines.push(
      `  ${w.name.padEnd(14)} raw ${f(w.setups.raw.cpuUsPerQuery.median, 3)} µs/query; ours +${range(w.vsRaw.ours.cpuUsPerQueryOverRaw, 3)} µs/query ${interval(w.vsRaw.ours.cpuUsPerQueryOverRawCi95, 3)} ` +
        `(user +${f(w.vsRaw.ours.userUsPerQueryOverRaw.median, 3)}, system +${f(w.vsRaw.ours.systemUsPerQueryOverRaw.median, 3)}, ` +
        `main thread +${f(w.vsRaw.ours.mainThreadUsPerQueryOverRaw.median, 3)})`,
    );
  }
  lines.push(`verdict: ${JSON.stringify(result.verdict)}`, `written to ${written}`, '');
  console.log(lines.join('\n'));
}

async function tearDown(): Promise<void> {
  for (const handle of handles) handle.uninstrument();
  await Promise.all(processes.map((child) => child.stop()));
  await Promise.all(isolatedPools.map((pool) => pool.end()));
  await server?.stop();
}

try {
  await measure();
} finally {
  await tearDown();
}
