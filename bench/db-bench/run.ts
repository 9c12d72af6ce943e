// The db-bench engine: scratch tables, one prepared runner per operation, a bounded worker loop,
// and clean-up that runs whatever happens.

import { createHash, randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { summariseLatencies } from '../stats.js';
import {
  DB_BENCH_OPERATION_DESCRIPTIONS,
  parseDbBenchOptions,
  type DbBenchOperation,
  type DbBenchOptions,
  type DbBenchOptionsInput,
} from './options.js';
import { DB_BENCH_REPORT_VERSION, writeReport, type DbBenchEnvironment, type DbBenchReport, type OperationResult, type PlanSummary } from './report.js';

/** Every scratch table starts with this; nothing else in the database is touched. */
export const SCRATCH_PREFIX = 'perfstack_bench_';

export interface DbBenchRunOptions extends DbBenchOptionsInput {
  /** Show cli-progress bars. Default: only when stdout is a TTY. */
  progress?: boolean;
  /** Aborts the run between iterations; scratch tables are still dropped. */
  signal?: AbortSignal;
  /** Where progress lines go when there is no TTY (default: nowhere). */
  log?: (line: string) => void;
}

interface Scratch {
  crud: string;
  batchInsert: string;
  copy: string;
  tx: string;
  search: string;
  searchIndex: string;
}

interface Prepared {
  rowsPerOp: number;
  run(iteration: number): Promise<void>;
  explain?(): Promise<PlanSummary>;
  close?(): Promise<void>;
}

interface Context {
  options: DbBenchOptions;
  pool: pg.Pool;
  scratch: Scratch;
  /** Rows seeded in the crud table (ids 1..crudRows): warmup + iterations. */
  crudRows: number;
  poolConfig: pg.PoolConfig;
}

const PAYLOAD = 'perfstack-bench '.repeat(6); // ~100 bytes per row, like a small entity

function expectOneRow(result: pg.QueryResult, what: string): void {
  if (result.rowCount !== 1) throw new Error(`${what} affected ${result.rowCount ?? 0} rows instead of 1`);
}

/** The search term of iteration i: six hex characters from the middle of a row's md5 body. */
function searchPattern(iteration: number, datasetSize: number): string {
  const row = ((iteration * 7919) % datasetSize) + 1;
  return `%${createHash('md5').update(String(row)).digest('hex').slice(10, 16)}%`;
}

const SCAN_TYPES = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Index Scan']);

/** Reduces EXPLAIN (ANALYZE, FORMAT JSON) output to what a reader needs. */
export function summarisePlan(explain: unknown, pattern: string): PlanSummary {
  const root = (Array.isArray(explain) ? explain[0] : explain) as { Plan?: unknown; 'Planning Time'?: number; 'Execution Time'?: number } | undefined;
  const indexNames: string[] = [];
  const scans: string[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as { 'Node Type'?: string; 'Index Name'?: string; 'Relation Name'?: string; Plans?: unknown[] };
    const type = n['Node Type'];
    if (type && /Scan/.test(type)) {
      const on = n['Index Name'] ? ` using ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : '';
      scans.push(`${type}${on}`);
    }
    if (type && SCAN_TYPES.has(type) && n['Index Name'] && !indexNames.includes(n['Index Name'])) indexNames.push(n['Index Name']);
    for (const child of n.Plans ?? []) walk(child);
  };
  walk(root?.Plan);
  return {
    indexUsed: indexNames.length > 0,
    indexNames,
    scans,
    planningMs: root?.['Planning Time'] ?? Number.NaN,
    executionMs: root?.['Execution Time'] ?? Number.NaN,
    pattern,
    plan: root ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// One preparer per operation. Each builds what it needs and returns the measured step.

type Preparer = (ctx: Context) => Promise<Prepared>;

const searchSql = (table: string) => `SELECT id FROM ${table} WHERE body ILIKE $1`;

async function explainSearch(pool: pg.Pool, table: string, pattern: string): Promise<PlanSummary> {
  const result = await pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${searchSql(table)}`, [pattern]);
  return summarisePlan(result.rows[0]?.['QUERY PLAN'], pattern);
}

/** The search workload through a given pool; the pool's session settings decide whether the index may be used. */
function searchThrough(pool: pg.Pool, table: string, datasetSize: number): Prepared {
  const sql = searchSql(table);
  return {
    rowsPerOp: 0, // the number of matches varies by term
    run: async (i) => {
      await pool.query(sql, [searchPattern(i, datasetSize)]);
    },
    explain: () => explainSearch(pool, table, searchPattern(0, datasetSize)),
  };
}

const PREPARERS: Record<DbBenchOperation, Preparer> = {
  async insert({ pool, scratch }) {
    return {
      rowsPerOp: 1,
      run: async (i) => expectOneRow(await pool.query(`INSERT INTO ${scratch.crud} (payload, n) VALUES ($1, $2)`, [PAYLOAD, i]), 'INSERT'),
    };
  },
  async select({ pool, scratch, crudRows }) {
    return {
      rowsPerOp: 1,
      run: async (i) => expectOneRow(await pool.query(`SELECT id, payload, n, updated_at FROM ${scratch.crud} WHERE id = $1`, [(i % crudRows) + 1]), 'SELECT'),
    };
  },
  async update({ pool, scratch, crudRows }) {
    return {
      rowsPerOp: 1,
      run: async (i) =>
        expectOneRow(await pool.query(`UPDATE ${scratch.crud} SET n = n + 1, updated_at = now() WHERE id = $1`, [(i % crudRows) + 1]), 'UPDATE'),
    };
  },
  async delete({ pool, scratch }) {
    // Iteration i deletes seeded row i + 1: each exactly once (crudRows = warmup + iterations).
    return { rowsPerOp: 1, run: async (i) => expectOneRow(await pool.query(`DELETE FROM ${scratch.crud} WHERE id = $1`, [i + 1]), 'DELETE') };
  },
  async 'batch-insert'({ pool, scratch, options }) {
    const size = options.batchSize;
    const placeholders = Array.from({ length: size }, (_, r) => `($${2 * r + 1}, $${2 * r + 2})`).join(', ');
    const sql = `INSERT INTO ${scratch.batchInsert} (payload, n) VALUES ${placeholders}`;
    return {
      rowsPerOp: size,
      run: async (i) => {
        const values: unknown[] = new Array(2 * size);
        for (let r = 0; r < size; r++) {
          values[2 * r] = PAYLOAD;
          values[2 * r + 1] = i * size + r;
        }
        const result = await pool.query(sql, values);
        if (result.rowCount !== size) throw new Error(`batch INSERT wrote ${result.rowCount ?? 0} rows instead of ${size}`);
      },
    };
  },
  async copy({ pool, scratch, options }) {
    const size = options.batchSize;
    const sql = `COPY ${scratch.copy} (payload, n) FROM STDIN`;
    return {
      rowsPerOp: size,
      run: async (i) => {
        let text = '';
        for (let r = 0; r < size; r++) text += `${PAYLOAD}\t${i * size + r}\n`;
        const client = await pool.connect();
        try {
          const stream = client.query(copyFrom(sql));
          await pipeline(Readable.from([text]), stream);
          if (stream.rowCount !== size) throw new Error(`COPY wrote ${stream.rowCount} rows instead of ${size}`);
          client.release();
        } catch (error) {
          client.release(error as Error);
          throw error;
        }
      },
    };
  },
  async 'connect-pool'({ poolConfig, options }) {
    // A pool of its own, so the figure is acquisition from an idle pool and not shaped by the others.
    const own = new pg.Pool({ ...poolConfig, max: options.concurrency });
    own.on('error', () => undefined);
    const warm = await Promise.all(Array.from({ length: options.concurrency }, () => own.connect()));
    for (const client of warm) client.release();
    return {
      rowsPerOp: 0,
      run: async () => {
        const client = await own.connect();
        client.release();
      },
      close: () => own.end(),
    };
  },
  async 'connect-new'({ poolConfig }) {
    const { max: _max, idleTimeoutMillis: _idle, ...clientConfig } = poolConfig;
    const pending = new Set<Promise<void>>();
    return {
      rowsPerOp: 0,
      run: async () => {
        const client = new pg.Client(clientConfig);
        client.on('error', () => undefined);
        try {
          await client.connect();
        } catch (error) {
          void client.end().catch(() => undefined);
          throw error;
        }
        // Measured: the connection and its start-up handshake. Closing happens outside the timing.
        const closing = client.end().catch(() => undefined);
        pending.add(closing);
        void closing.finally(() => pending.delete(closing));
      },
      close: async () => {
        await Promise.all(pending);
      },
    };
  },
  async 'tx-commit'({ pool, scratch }) {
    return { rowsPerOp: 1, run: (i) => transaction(pool, scratch.tx, i, 'COMMIT') };
  },
  async 'tx-rollback'({ pool, scratch }) {
    return { rowsPerOp: 1, run: (i) => transaction(pool, scratch.tx, i, 'ROLLBACK') };
  },
  async 'search-index'({ pool, scratch, options }) {
    return searchThrough(pool, scratch.search, options.datasetSize);
  },
  async 'search-noindex'({ poolConfig, scratch, options }) {
    // A pool whose sessions may not use index or bitmap scans: the GIN index exists but the planner
    // must read the table sequentially (GIN is only reachable through a bitmap scan).
    const own = new pg.Pool({ ...poolConfig, max: options.concurrency, options: '-c enable_bitmapscan=off -c enable_indexscan=off -c enable_indexonlyscan=off' });
    own.on('error', () => undefined);
    return { ...searchThrough(own, scratch.search, options.datasetSize), close: () => own.end() };
  },
};

async function transaction(pool: pg.Pool, table: string, i: number, end: 'COMMIT' | 'ROLLBACK'): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${table} (payload, n) VALUES ($1, $2)`, [PAYLOAD, i]);
    await client.query(end);
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error as Error);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('db-bench aborted');
}

/** Runs `total` iterations with at most `concurrency` in flight; returns per-iteration latencies. */
async function drive(
  total: number,
  firstIteration: number,
  concurrency: number,
  step: (iteration: number) => Promise<void>,
  signal: AbortSignal | undefined,
  onDone: () => void,
): Promise<{ latenciesMs: number[]; errors: number; errorMessages: string[]; wallMs: number }> {
  const latenciesMs: number[] = [];
  const errorMessages: string[] = [];
  let errors = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const index = next++;
      if (index >= total) return;
      const start = process.hrtime.bigint();
      try {
        await step(firstIteration + index);
        latenciesMs.push(Number(process.hrtime.bigint() - start) / 1e6);
      } catch (error) {
        errors++;
        const message = error instanceof Error ? error.message : String(error);
        if (errorMessages.length < 5 && !errorMessages.includes(message)) errorMessages.push(message);
      }
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { latenciesMs, errors, errorMessages, wallMs: Number(process.hrtime.bigint() - started) / 1e6 };
}

function scratchNames(): Scratch {
  const run = `${SCRATCH_PREFIX}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  return {
    crud: `${run}_crud`,
    batchInsert: `${run}_batch_insert`,
    copy: `${run}_copy`,
    tx: `${run}_tx`,
    search: `${run}_search`,
    searchIndex: `${run}_search_trgm`,
  };
}

const ROW_TABLE = '(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, payload text NOT NULL, n bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())';

async function createScratch(pool: pg.Pool, scratch: Scratch, options: DbBenchOptions, crudRows: number, log: (line: string) => void): Promise<void> {
  const ops = new Set(options.operations);
  const needs = (...names: DbBenchOperation[]) => names.some((name) => ops.has(name));
  if (needs('insert', 'select', 'update', 'delete')) {
    await pool.query(`CREATE TABLE ${scratch.crud} ${ROW_TABLE}`);
    if (needs('select', 'update', 'delete')) {
      await pool.query(`INSERT INTO ${scratch.crud} (id, payload, n) SELECT g, $1, g FROM generate_series(1, $2::bigint) g`, [PAYLOAD, crudRows]);
      await pool.query(`SELECT setval(pg_get_serial_sequence('${scratch.crud}', 'id'), $1::bigint)`, [crudRows]);
    }
    await pool.query(`ANALYZE ${scratch.crud}`);
  }
  if (needs('batch-insert')) await pool.query(`CREATE TABLE ${scratch.batchInsert} ${ROW_TABLE}`);
  if (needs('copy')) await pool.query(`CREATE TABLE ${scratch.copy} ${ROW_TABLE}`);
  if (needs('tx-commit', 'tx-rollback')) await pool.query(`CREATE TABLE ${scratch.tx} ${ROW_TABLE}`);
  if (needs('search-index', 'search-noindex')) {
    const trgm = await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`);
    if (trgm.rowCount === 0) {
      throw new Error(
        'the search operations need the pg_trgm extension in this database (CREATE EXTENSION pg_trgm, as a superuser), ' +
          'or leave them out with --operations',
      );
    }
    log(`db-bench: loading ${options.datasetSize} rows into ${scratch.search} and building its pg_trgm index`);
    await pool.query(`CREATE TABLE ${scratch.search} (id bigint PRIMARY KEY, body text NOT NULL)`);
    // Each body: two md5 digests (64 hex characters); searchPattern() picks six characters of one.
    await pool.query(
      `INSERT INTO ${scratch.search} (id, body) SELECT g, md5(g::text) || ' ' || md5((g * 31 + 7)::text) FROM generate_series(1, $1::bigint) g`,
      [options.datasetSize],
    );
    await pool.query(`CREATE INDEX ${scratch.searchIndex} ON ${scratch.search} USING gin (body gin_trgm_ops)`);
    await pool.query(`ANALYZE ${scratch.search}`);
  }
}

/** Drops every table of this run; safe if some were never created. */
async function dropScratch(poolConfig: pg.PoolConfig, scratch: Scratch): Promise<void> {
  const client = new pg.Client(poolConfig);
  client.on('error', () => undefined);
  await client.connect();
  try {
    const tables = [scratch.crud, scratch.batchInsert, scratch.copy, scratch.tx, scratch.search];
    await client.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redactedTarget(url: string): string {
  const parsed = new URL(url);
  const database = parsed.pathname.replace(/^\//, '') || '(default)';
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}/${database}`;
}

async function environment(pool: pg.Pool, url: string, started: Date): Promise<DbBenchEnvironment> {
  const { rows } = await pool.query<{ server_version: string; server_version_num: string }>(
    `SELECT current_setting('server_version') AS server_version, current_setting('server_version_num') AS server_version_num`,
  );
  const cpuList = cpus();
  return {
    postgresVersion: rows[0]?.server_version ?? 'unknown',
    postgresVersionNum: Number(rows[0]?.server_version_num ?? 0),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuCount: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: totalmem(),
    target: redactedTarget(url),
    date: started.toISOString(),
  };
}

/**
 * Runs the benchmark against `options.url` and returns the report; writes it to `options.output`
 * when given. Scratch tables (perfstack_bench_*) are created first and dropped at the end, also
 * when the run fails or is aborted.
 */
export async function runDbBench(input: DbBenchRunOptions): Promise<DbBenchReport> {
  const { progress, signal, log: logOption, ...raw } = input;
  const options = parseDbBenchOptions(raw);
  const log = logOption ?? (() => undefined);
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const poolConfig: pg.PoolConfig = { connectionString: options.url, application_name: 'perfstack-db-bench' };
  const pool = new pg.Pool({ ...poolConfig, max: options.concurrency });
  pool.on('error', () => undefined); // an idle client dying must not crash the run; its query fails instead
  const scratch = scratchNames();
  const crudRows = options.warmup + options.iterations;
  const showBars = progress ?? Boolean(process.stdout.isTTY);
  const bars = showBars
    ? new cliProgress.MultiBar(
        { format: ' {operation} [{bar}] {value}/{total} {phase}', hideCursor: true, clearOnComplete: false, stopOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let created = false;
  try {
    const env = await environment(pool, options.url, started);
    signal?.throwIfAborted();
    created = true; // from here on, clean-up drops whatever exists
    await createScratch(pool, scratch, options, crudRows, bars ? () => undefined : log);
    const ctx: Context = { options, pool, scratch, crudRows, poolConfig };
    const results: OperationResult[] = [];

    for (const operation of options.operations) {
      signal?.throwIfAborted();
      const bar = bars?.create(options.warmup + options.iterations, 0, { operation: operation.padEnd(14), phase: 'warm-up' });
      if (!bars) log(`db-bench: ${operation} (${options.warmup} warm-up + ${options.iterations} iterations, concurrency ${options.concurrency})`);
      const prepared = await PREPARERS[operation](ctx);
      try {
        const tick = () => bar?.increment();
        if (options.warmup > 0) await drive(options.warmup, 0, options.concurrency, prepared.run, signal, tick);
        bar?.update({ phase: 'measuring' });
        const measured = await drive(options.iterations, options.warmup, options.concurrency, prepared.run, signal, tick);
        bar?.update({ phase: 'done' });
        const plan = prepared.explain ? await prepared.explain() : undefined;
        const latency = summariseLatencies(measured.latenciesMs);
        const throughput = measured.wallMs > 0 ? (latency.samples / measured.wallMs) * 1000 : Number.NaN;
        results.push({
          operation,
          description: DB_BENCH_OPERATION_DESCRIPTIONS[operation],
          count: options.iterations,
          errors: measured.errors,
          errorMessages: measured.errorMessages,
          rowsPerOp: prepared.rowsPerOp,
          minMs: latency.minMs,
          p50Ms: latency.p50Ms,
          p95Ms: latency.p95Ms,
          p99Ms: latency.p99Ms,
          meanMs: latency.meanMs,
          maxMs: latency.maxMs,
          throughputOpsPerSec: throughput,
          rowsPerSec: throughput * prepared.rowsPerOp,
          wallMs: measured.wallMs,
          ...(plan ? { plan } : {}),
        });
      } finally {
        await prepared.close?.();
      }
    }

    const report: DbBenchReport = {
      reportVersion: DB_BENCH_REPORT_VERSION,
      tool: 'perfstack db-bench',
      environment: env,
      options: {
        iterations: options.iterations,
        concurrency: options.concurrency,
        warmup: options.warmup,
        datasetSize: options.datasetSize,
        batchSize: options.batchSize,
        operations: options.operations,
      },
      operations: results,
      durationMs: 0,
    };
    // Clean up before the report is final, so its duration includes the drop.
    created = false;
    await dropScratch(poolConfig, scratch);
    report.durationMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (options.output) {
      const written = await writeReport(options.output, report);
      log(`db-bench: report written to ${written}`);
    }
    return report;
  } finally {
    bars?.stop();
    if (created) {
      await dropScratch(poolConfig, scratch).catch((error: unknown) => {
        log(`db-bench: could not drop scratch tables ${scratch.crud.replace(/_crud$/, '_*')}: ${(error as Error).message}`);
      });
    }
    await pool.end().catch(() => undefined);
  }
}
