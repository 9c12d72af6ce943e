// Pool instrumentation overhead: SELECT 1 at concurrency 16 against one real PostgreSQL 15, through
//   raw   - a plain pg.Pool,
//   ours  - a pg.Pool wrapped by instrumentPool() (exporters/pg-pool, prom-client),
//   otel  - a pg.Pool of a private pg copy patched by @opentelemetry/instrumentation-pg, metrics
//           through the OpenTelemetry Prometheus exporter (see bench/otel-pg.ts for how).
//
//   npx vitest bench --run bench/pool-overhead.bench.ts
//
// The figures that count come from the interleaved rounds run while the file loads (vitest's bench
// mode runs no beforeAll/afterAll hooks, so set-up is a top-level await and tear-down is the last
// bench's tinybench teardown hook, with the harness's exit hook as a safety net): every round measures the
// three set-ups back to back for ROUND_MS each, rotating which goes first, so they share the
// machine's noise. Medians of throughput per set-up, and the median of the per-round ratio to raw,
// are printed and written to bench/results/pool-overhead.json. The bench() entries below are
// tinybench's own (non-interleaved) view of the same three pools, for reference.
//
// Environment: PERFSTACK_BENCH_ROUNDS (default 9), PERFSTACK_BENCH_ROUND_MS (default 1500).

import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { bench, describe } from 'vitest';
import { instrumentPool, type InstrumentedPool } from '../exporters/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { loadOtelInstrumentedPg, type OtelPg } from './otel-pg.js';
import { median } from './stats.js';
import { writeJsonAtomic } from './write-json.js';

const CONCURRENCY = 16;
const ROUNDS = Number(process.env.PERFSTACK_BENCH_ROUNDS ?? 9);
const ROUND_MS = Number(process.env.PERFSTACK_BENCH_ROUND_MS ?? 1500);
const WARMUP_MS = 1000;
const RESULT_FILE = join(import.meta.dirname, 'results', 'pool-overhead.json');

const SETUPS = ['raw', 'ours', 'otel'] as const;
type Setup = (typeof SETUPS)[number];

let server: TestPostgres | undefined;
const pools = {} as Record<Setup, pg.Pool>;
let instrumented: InstrumentedPool | undefined;
let registry: Registry | undefined;
let otel: OtelPg | undefined;

/** Runs SELECT 1 on `pool` with CONCURRENCY workers until `ms` have passed; returns queries/s. */
async function throughput(pool: pg.Pool, ms: number): Promise<number> {
  let done = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      await pool.query('SELECT 1');
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return done / seconds;
}

/** A fixed batch of SELECT 1 at CONCURRENCY, for tinybench. */
async function batch(pool: pg.Pool, queries = 256): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next++ < queries) await pool.query('SELECT 1');
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Sum of a metric's _count samples in Prometheus text, to prove a set-up really recorded. */
function countSamples(text: string, metric: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric}_count`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Starts PostgreSQL and the three pools, runs the interleaved rounds, prints and writes the result. */
async function measure(): Promise<void> {
  server = await startPostgres();
  const config: pg.PoolConfig = { connectionString: server.url, max: CONCURRENCY };
  otel = loadOtelInstrumentedPg();
  if ((pg.Client.prototype.query as { __wrapped?: boolean }).__wrapped) throw new Error('the shared pg module got patched by OpenTelemetry');
  pools.raw = new pg.Pool(config);
  pools.ours = new pg.Pool(config);
  registry = new Registry();
  instrumented = instrumentPool(pools.ours, { poolName: 'bench', registry });
  pools.otel = new otel.Pool(config);

  for (const setup of SETUPS) await throughput(pools[setup], WARMUP_MS);

  const perRound: Record<Setup, number[]> = { raw: [], ours: [], otel: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = SETUPS.map((_, i) => SETUPS[(i + round) % SETUPS.length] as Setup);
    for (const setup of order) perRound[setup].push(await throughput(pools[setup], ROUND_MS));
  }

  const medians = Object.fromEntries(SETUPS.map((s) => [s, median(perRound[s])])) as Record<Setup, number>;
  const pairedRatio = (setup: Setup) => median(perRound[setup].map((qps, i) => qps / (perRound.raw[i] as number)));
  const lossOf = (setup: Setup) => ({
    lossVsRawOfMedians: 1 - medians[setup] / medians.raw,
    lossVsRawPairedMedian: 1 - pairedRatio(setup),
  });

  const oursScrape = await registry.metrics();
  const otelScrape = await otel.scrape();
  const recorded = {
    ours: countSamples(oursScrape, 'db_client_operation_duration_seconds'),
    otel: countSamples(otelScrape, 'db_client_operation_duration'),
  };
  if (!(recorded.ours > 0) || !(recorded.otel > 0)) {
    throw new Error(`an instrumented set-up recorded nothing (ours ${recorded.ours}, otel ${recorded.otel}): the comparison would be meaningless`);
  }

  const result = {
    benchmark: 'pool-overhead',
    query: 'SELECT 1',
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    unit: 'queries/s',
    environment: {
      postgresVersion: (await server.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))[0]?.v,
      nodeVersion: process.version,
      cpuCount: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim(),
      date: new Date().toISOString(),
      versions: { pg: '8.23.1', 'prom-client': '15.1.3', '@opentelemetry/instrumentation-pg': '0.61.0', '@opentelemetry/sdk-metrics': '2.2.0' },
    },
    medians,
    loss: { ours: lossOf('ours'), otel: lossOf('otel') },
    perRound,
    operationsRecorded: recorded,
    targets: { oursLossBelow: 0.03, oursLessLossThanOtel: true },
    verdict: {
      oursBelow3Percent: lossOf('ours').lossVsRawPairedMedian < 0.03,
      oursLessThanOtel: lossOf('ours').lossVsRawPairedMedian < lossOf('otel').lossVsRawPairedMedian,
    },
  };
  const written = await writeJsonAtomic(RESULT_FILE, result);

  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const lines = [
    '',
    `pool overhead, SELECT 1 at concurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms (${result.environment.cpuCount} CPUs)`,
    ...SETUPS.map(
      (s) =>
        `  ${s.padEnd(5)} median ${medians[s].toFixed(0).padStart(6)} q/s` +
        (s === 'raw' ? '' : `   loss vs raw: ${pct(lossOf(s).lossVsRawOfMedians)} (of medians), ${pct(lossOf(s).lossVsRawPairedMedian)} (median of per-round ratios)`),
    ),
    `  rounds: ${SETUPS.map((s) => `${s} [${perRound[s].map((q) => q.toFixed(0)).join(' ')}]`).join('; ')}`,
    `  written to ${written}`,
    '',
  ];
  console.log(lines.join('\n'));
}

let closed = false;
async function tearDown(): Promise<void> {
  if (closed) return;
  closed = true;
  instrumented?.uninstrument();
  await Promise.all(SETUPS.map((s) => pools[s]?.end()));
  await otel?.shutdown();
  await server?.stop();
}

try {
  await measure();
} catch (error) {
  await tearDown();
  throw error;
}

describe('pool overhead: SELECT 1 at concurrency 16', () => {
  const options = { time: 1500, warmupTime: 300 };
  bench('raw pg.Pool (256 × SELECT 1)', () => batch(pools.raw), options);
  bench('instrumentPool (256 × SELECT 1)', () => batch(pools.ours), options);
  bench('OTel instrumentation-pg (256 × SELECT 1)', () => batch(pools.otel), {
    ...options,
    teardown: async (_task, mode) => {
      if (mode === 'run') await tearDown();
    },
  });
});
