// One set-up of bench/pool-overhead.ts in a process of its own: a pg.Pool (raw, instrumented by
// perfstack, or OpenTelemetry's) that runs the parent's workloads on request, so each set-up's CPU
// is its own process's and no set-up shares JIT state, garbage or module patches with another.
//
//   started by bench/pool-overhead.ts: node --import tsx bench/pool-overhead-worker.ts SETUP DATABASE_URL CONCURRENCY
//
// IPC messages from the parent: { type: 'run', workload, count } answered by { type: 'sample', sample },
// { type: 'recorded' } answered by { type: 'recorded', count } (operations the metrics saw), and
// { type: 'stop' }. The first message sent is { type: 'ready' }, after a warm-up.

import pg from 'pg';
import { Registry } from 'prom-client';
import { instrumentPool, type InstrumentedPool } from '../exporters/index.js';
import { loadOtelInstrumentedPg, type OtelPg } from './otel-pg.js';
import { countSamples, run, WARMUP_QUERIES, type Workload, WORKLOADS } from './pool-overhead-support.js';

export const WORKER_SETUPS = ['raw', 'rawAgain', 'ours', 'otel'] as const;
export type WorkerSetup = (typeof WORKER_SETUPS)[number];

export type ToWorker = { type: 'run'; workload: string; count: number } | { type: 'recorded' } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'sample'; sample: Awaited<ReturnType<typeof run>> } | { type: 'recorded'; count: number; querySummaries: number } | { type: 'error'; message: string };


async function main(setup: WorkerSetup, url: string, concurrency: number): Promise<void> {
  const send = (message: FromWorker) => process.send?.(message);
  const config: pg.PoolConfig = { connectionString: url, max: concurrency };
  let otel: OtelPg | undefined;
  const registry = new Registry();
  let pool: pg.Pool;
  let instrumented: InstrumentedPool | undefined;
  if (setup === 'otel') {
    otel = loadOtelInstrumentedPg();
    pool = new otel.Pool(config);
  } else {
    pool = new pg.Pool(config);
    if (setup === 'ours') instrumented = instrumentPool(pool, { poolName: 'bench', registry });
  }
  // Idle connections closed by the server at tear-down must not crash the process.
  pool.on('error', () => undefined);
  const workloads = new Map<string, Workload>(WORKLOADS.map((w) => [w.name, w]));
  // Warm-up: opens every connection and lets V8 optimise each path before anything is measured.
  for (const workload of WORKLOADS) await run(pool, workload, WARMUP_QUERIES, concurrency);

  process.on('message', (message: ToWorker) => {
    void (async () => {
      try {
        if (message.type === 'run') {
          const workload = workloads.get(message.workload);
          if (!workload) throw new Error(`unknown workload ${message.workload}`);
          send({ type: 'sample', sample: await run(pool, workload, message.count, concurrency) });
        } else if (message.type === 'recorded') {
          const count =
            setup === 'ours'
              ? countSamples(await registry.metrics(), 'db_client_operation_duration_seconds')
              : setup === 'otel'
                ? countSamples(await (otel as OtelPg).scrape(), 'db_client_operation_duration')
                : 0;
          send({ type: 'recorded', count, querySummaries: instrumented?.querySummaries().length ?? 0 });
        } else if (message.type === 'stop') {
          await pool.end();
          await otel?.shutdown();
          process.disconnect();
        }
      } catch (error) {
        send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  send({ type: 'ready' });
}

const [setup, url, concurrency] = process.argv.slice(2);
if (!WORKER_SETUPS.includes(setup as WorkerSetup) || !url || !Number.isInteger(Number(concurrency))) {
  console.error('usage: pool-overhead-worker.ts raw|rawAgain|ours|otel DATABASE_URL CONCURRENCY');
  process.exit(2);
}
await main(setup as WorkerSetup, url, Number(concurrency));
