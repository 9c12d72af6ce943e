// Pool instrumentation overhead: CPU per query and throughput of one Node process driving a real
// PostgreSQL 15 through
//   raw   - a plain pg.Pool (the baseline),
//   ours  - a pg.Pool wrapped by instrumentPool() (exporters/pg-pool),
//   otel  - the peer: a pg.Pool of a private pg copy patched by @opentelemetry/instrumentation-pg,
//           metrics through the OpenTelemetry Prometheus exporter (bench/otel-pg.ts says how),
//   rawAgain - a second plain pg.Pool, the A/A control: two identical pools differ by this much
//           on this machine, so differences of that size are not resolved.
//
//   npx tsx bench/pool-overhead.ts
//
// Three workloads (bench/pool-overhead-support.ts), each a fixed number of pool.query() calls at
// CONCURRENCY callers: one statement (SELECT 1), a parameterised statement, and 200 distinct
// statements (so 200 summaries against the default cap of 100).
//
// Rounds are interleaved: in each round every workload runs on every set-up, in SLICES slices per
// set-up that take turns (cycling through every ordering), so all three share the machine's noise. CPU is
// process.cpuUsage() (user + system of this process; PostgreSQL runs in its own processes) divided
// by queries. Per round the instrumented set-ups are paired with raw of the same round: CPU µs per
// query over raw, and throughput as a fraction of raw; medians, quartiles and min/max over rounds.
//
// A second, isolated measurement runs raw and ours over an in-process stand-in for pg.Client (no
// socket, no server): the instrumentation's own CPU per query, without the network and
// PostgreSQL's noise (on a shared 2-core machine that noise is far larger than the instrumentation).
//
// Everything is printed and written to bench/results/pool-overhead.json.
// Environment: PERFSTACK_BENCH_ROUNDS (default 12; the targets need at least 10),
// PERFSTACK_BENCH_QUERIES (per set-up, workload and round; default 8000), PERFSTACK_BENCH_SLICES (8).

import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { instrumentPool, type InstrumentedPool } from '../exporters/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { loadOtelInstrumentedPg, type OtelPg } from './otel-pg.js';
import { compare, countSamples, InProcessClient, interleave, run, type Sample, type Spread, WORKLOADS } from './pool-overhead-support.js';
import { writeJsonAtomic } from './write-json.js';

const CONCURRENCY = 16;
const ROUNDS = positiveInteger('PERFSTACK_BENCH_ROUNDS', 12);
const QUERIES = positiveInteger('PERFSTACK_BENCH_QUERIES', 8000);
const SLICES = positiveInteger('PERFSTACK_BENCH_SLICES', 8);
const QUERIES_PER_SLICE = Math.max(1, Math.round(QUERIES / SLICES));
const WARMUP_QUERIES = 4000;
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

type Setup = 'raw' | 'ours' | 'otel' | 'rawAgain';

let server: TestPostgres | undefined;
const pools: Partial<Record<Setup, pg.Pool>> = {};
const isolatedPools: pg.Pool[] = [];
const handles: InstrumentedPool[] = [];
let otel: OtelPg | undefined;

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
  const samples = await interleave(isolated, WORKLOADS, { rounds: ROUNDS, slices: SLICES, queriesPerSlice: ISOLATED_QUERIES_PER_SLICE, concurrency: CONCURRENCY });
  return WORKLOADS.map((w) => ({ name: w.name, ...compare(samples[w.name] as Record<'raw' | 'ours', Sample[]>, 'raw') }));
}

async function measure(): Promise<void> {
  server = await startPostgres();
  const config: pg.PoolConfig = { connectionString: server.url, max: CONCURRENCY };
  otel = loadOtelInstrumentedPg();
  if ((pg.Client.prototype.query as { __wrapped?: boolean }).__wrapped) throw new Error('the shared pg module got patched by OpenTelemetry');
  const registry = new Registry();
  // rawAgain is a second plain pg.Pool: the A/A control. Its difference from raw is what this
  // machine reports for two identical pools, i.e. the floor under which nothing is resolved.
  const real = { raw: new pg.Pool(config), ours: new pg.Pool(config), otel: new otel.Pool(config), rawAgain: new pg.Pool(config) };
  Object.assign(pools, real);
  handles.push(instrumentPool(real.ours, { poolName: 'bench', registry }));
  // Idle connections closed by the server at tear-down must not crash the process.
  for (const pool of Object.values(real)) pool.on('error', () => undefined);

  // Warm-up: opens every connection and lets V8 optimise each path before anything is measured.
  for (const workload of WORKLOADS) for (const pool of Object.values(real)) await run(pool, workload, WARMUP_QUERIES, CONCURRENCY);

  const loadBefore = loadavg()[0] as number;
  const started = Date.now();
  const samples = await interleave(real, WORKLOADS, { rounds: ROUNDS, slices: SLICES, queriesPerSlice: QUERIES_PER_SLICE, concurrency: CONCURRENCY });
  const loadAfter = loadavg()[0] as number;
  const realSeconds = (Date.now() - started) / 1000;

  const recorded = {
    ours: countSamples(await registry.metrics(), 'db_client_operation_duration_seconds'),
    otel: countSamples(await otel.scrape(), 'db_client_operation_duration'),
  };
  if (!(recorded.ours > 0) || !(recorded.otel > 0)) {
    throw new Error(`an instrumented set-up recorded nothing (ours ${recorded.ours}, otel ${recorded.otel}): the comparison would be meaningless`);
  }
  const querySummariesKept = handles[0]?.querySummaries().length;

  const isolated = await measureIsolated();

  const workloads = WORKLOADS.map((workload) => {
    const s = samples[workload.name] as Record<Setup, Sample[]>;
    const compared = compare(s, 'raw');
    const ours = compared.vsRaw.ours;
    return {
      name: workload.name,
      description: workload.description,
      ...compared,
      // The same pairing against the A/A control instead of raw: another view of the same effect.
      oursVsRawAgain: compare({ rawAgain: s.rawAgain, ours: s.ours }, 'rawAgain').vsRaw.ours,
      verdict: {
        cpuWithinTarget: ours.cpuUsPerQueryOverRaw.median <= TARGETS.maxCpuUsPerQueryOverRaw,
        throughputWithinTarget: ours.throughputRatioToRaw.median >= TARGETS.minThroughputRatioToRaw,
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
      'CPU = process.cpuUsage() user+system of the benchmark process / queries (user and system also apart, and the main thread alone from /proc/self/task/PID/schedstat, without V8 GC and compiler threads); each round paired with raw of the same round; ' +
      'rawAgain = a second plain pg.Pool, the A/A control; spread = median, p25, p75, min, max over rounds',
    peer: '@opentelemetry/instrumentation-pg 0.61.0 with @opentelemetry/sdk-metrics 2.2.0 and the OTel Prometheus exporter (private pg copy, bench/otel-pg.ts)',
    flags: {
      concurrency: CONCURRENCY,
      poolMax: CONCURRENCY,
      rounds: ROUNDS,
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
      cpuCount: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim(),
      loadAverage1m: { before: loadBefore, after: loadAfter },
      realPostgresSeconds: realSeconds,
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
      isolatedCpuWithinTarget: isolated.every((w) => w.vsRaw.ours.cpuUsPerQueryOverRaw.median <= TARGETS.maxCpuUsPerQueryOverRaw),
    },
  };
  const written = await writeJsonAtomic(RESULT_FILE, result);

  const f = (x: number, digits = 2) => x.toFixed(digits);
  const range = (x: Spread, digits = 2) => `${f(x.median, digits)} [IQR ${f(x.p25, digits)}–${f(x.p75, digits)}, ${f(x.min, digits)}–${f(x.max, digits)}]`;
  const lines = [
    '',
    `pool overhead against PostgreSQL: ${ROUNDS} interleaved rounds × ${SLICES} slices × ${QUERIES_PER_SLICE} queries per set-up and workload, ` +
      `concurrency ${CONCURRENCY}, ${result.environment.cpuCount} CPUs, load ${f(loadBefore)} → ${f(loadAfter)}`,
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
      lines.push(
        `             medians: user +${f(v.userUsPerQueryOverRaw.median)}, system +${f(v.systemUsPerQueryOverRaw.median)}, ` +
          `main thread alone +${f(v.mainThreadUsPerQueryOverRaw.median)} µs/query`,
      );
    }
  }
  lines.push(`isolated (in-process client, ${ISOLATED_QUERIES_PER_SLICE * SLICES} queries per set-up, workload and round):`);
  for (const w of isolated) {
    lines.push(
      `  ${w.name.padEnd(14)} raw ${f(w.setups.raw.cpuUsPerQuery.median, 3)} µs/query; ours +${range(w.vsRaw.ours.cpuUsPerQueryOverRaw, 3)} µs/query ` +
        `(user +${f(w.vsRaw.ours.userUsPerQueryOverRaw.median, 3)}, system +${f(w.vsRaw.ours.systemUsPerQueryOverRaw.median, 3)}, ` +
        `main thread +${f(w.vsRaw.ours.mainThreadUsPerQueryOverRaw.median, 3)})`,
    );
  }
  lines.push(`verdict: ${JSON.stringify(result.verdict)}`, `written to ${written}`, '');
  console.log(lines.join('\n'));
}

async function tearDown(): Promise<void> {
  for (const handle of handles) handle.uninstrument();
  await Promise.all([...Object.values(pools), ...isolatedPools].map((pool) => pool.end()));
  await otel?.shutdown();
  await server?.stop();
}

try {
  await measure();
} finally {
  await tearDown();
}
