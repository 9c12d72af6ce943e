// pg-stats against Debian's prometheus-postgres-exporter 0.11.1 on one PostgreSQL 15 holding
// 5,000 distinct statements in pg_stat_statements.
//
//   npx vitest bench --run bench/pg-stats.bench.ts
//
// Four targets are scraped one after another over plain HTTP (Accept-Encoding: identity, so both
// sides send uncompressed text and the byte counts compare like for like):
//   pg-stats top 50           the exporter's defaults (topStatements 50)
//   pg-stats all statements   topStatements 10000, every statement exported
//   postgres_exporter top 50  its default collectors + a PG15 statements query with LIMIT 50
//   postgres_exporter all     its default collectors + the same query without a limit, as
//                             Debian's example queries.yaml does (rewritten for total_exec_time)
// Both statement queries use the names of the metric contract (pg_stat_statements_calls_total,
// _seconds_total, _rows_total with user, datname, queryid). Medians of the scrape time and the
// response size, and the ratios pg-stats / postgres_exporter, are printed and written to
// bench/results/pg-stats.json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { bench, describe } from 'vitest';
import { startPgStatsExporter, type PgStatsExporter } from '../exporters/pg-stats/index.js';
import { freePort, startProcess, type RunningProcess } from '../stack/index.js';
import { DEFAULT_PG_BIN_DIR, startPostgres, type TestPostgres } from '../test/support/postgres.js';

const POSTGRES_EXPORTER = '/usr/bin/prometheus-postgres-exporter';
const STATEMENTS = 5_000;
const TABLES = 50;
const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'pg-stats.json');
const BENCH_OPTIONS = { time: 3_000, iterations: 20, warmupTime: 0, warmupIterations: 0 };

function statementsQuery(limit?: number): string {
  return [
    'SELECT r.rolname AS "user", d.datname, s.queryid::text AS queryid,',
    '       sum(s.calls)::float8 AS calls_total, (sum(s.total_exec_time) / 1000)::float8 AS seconds_total, sum(s.rows)::float8 AS rows_total',
    '  FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid',
    ' WHERE s.queryid IS NOT NULL',
    ' GROUP BY r.rolname, d.datname, s.queryid',
    limit ? ` ORDER BY seconds_total DESC LIMIT ${limit}` : '',
  ].join(' ');
}

/** A query file for postgres_exporter's --extend.query-path (JSON is valid YAML). */
function queryFile(limit?: number): string {
  const label = (description: string) => ({ usage: 'LABEL', description });
  const counter = (description: string) => ({ usage: 'COUNTER', description });
  return JSON.stringify(
    {
      pg_stat_user_tables: {
        query: 'SELECT current_database() AS datname, schemaname, relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables',
        metrics: [
          { datname: label('Name of the database') },
          { schemaname: label('Name of the schema') },
          { relname: label('Name of the table') },
          { seq_scan: counter('Number of sequential scans') },
          { idx_scan: counter('Number of index scans') },
        ],
      },
      pg_stat_statements: {
        query: statementsQuery(limit),
        master: true,
        metrics: [
          { user: label('Name of the user') },
          { datname: label('Name of the database') },
          { queryid: label('Query id') },
          { calls_total: counter('Number of times executed') },
          { seconds_total: counter('Total execution time, in seconds') },
          { rows_total: counter('Rows retrieved or affected') },
        ],
      },
    },
    null,
    2,
  );
}

/** GET without compression; resolves with the body size in bytes. */
function scrapeBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': 'identity' } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () => (response.statusCode === 200 ? resolve(bytes) : reject(new Error(`${url}: HTTP ${response.statusCode}`))));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Target {
  name: string;
  url: string;
  times: number[];
  bytes: number[];
}

const targets = new Map<string, Target>();

async function measure(name: string): Promise<void> {
  const target = targets.get(name);
  if (!target) throw new Error(`bench target ${name} was not started`);
  const started = performance.now();
  const bytes = await scrapeBytes(target.url);
  target.times.push(performance.now() - started);
  target.bytes.push(bytes);
}

// vitest's benchmark mode runs no beforeAll/afterAll hooks, so the stack starts in the tinybench
// setup hook (memoised, shared by all tasks) and the report and clean-up run in the last task's
// teardown hook; the benchmarks run one after another in declaration order.
let started: Promise<void> | undefined;
let finished = false;
let db: TestPostgres | undefined;
let workDir: string | undefined;
const exporters: PgStatsExporter[] = [];
const processes: RunningProcess[] = [];
let statementCount = 0;
let serverVersion = '';

async function setUp(): Promise<void> {
  db = await startPostgres({ settings: ['pg_stat_statements.max = 10000', 'max_connections = 50'] });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (let t = 0; t < TABLES; t++) {
      await client.query(`CREATE TABLE bench_t${t} (id int PRIMARY KEY, payload text)`);
      await client.query(`INSERT INTO bench_t${t} SELECT g, md5(g::text) FROM generate_series(1, 200) g`);
    }
    await client.query('SELECT pg_stat_statements_reset()');
    // Distinct statements: PostgreSQL 15 gives IN lists of different lengths different query ids
    // (aliases alone would not do), and each table is another statement again.
    const perTable = Math.ceil(STATEMENTS / TABLES);
    for (let t = 0; t < TABLES; t++) {
      for (let n = 1; n <= perTable; n++) {
        const list = Array.from({ length: n }, (_, i) => i + 1).join(', ');
        await client.query(`SELECT id, payload FROM bench_t${t} WHERE id IN (${list})`);
      }
    }
    const [row] = (await client.query<{ n: string; v: string }>("SELECT count(*)::text AS n, current_setting('server_version') AS v FROM pg_stat_statements")).rows;
    statementCount = Number(row?.n ?? 0);
    serverVersion = row?.v ?? '';
  } finally {
    await client.end();
  }
  if (statementCount < STATEMENTS) throw new Error(`only ${statementCount} statements in pg_stat_statements, wanted ${STATEMENTS}`);

  const log = () => undefined;
  const top50 = await startPgStatsExporter({ databaseUrl: db.url, port: 0, topStatements: 50, log, scrapeTimeoutMs: 20_000 });
  exporters.push(top50);
  const all = await startPgStatsExporter({ databaseUrl: db.url, port: 0, topStatements: 10_000, log, scrapeTimeoutMs: 20_000 });
  exporters.push(all);

  workDir = await mkdtemp(join(tmpdir(), 'pg-stats-bench-'));
  const startPostgresExporter = async (name: string, limit?: number) => {
    const file = join(workDir!, `${name}.yaml`);
    await writeFile(file, queryFile(limit));
    const port = await freePort();
    const child = await startProcess({
      name,
      command: POSTGRES_EXPORTER,
      args: [`--web.listen-address=127.0.0.1:${port}`, `--extend.query-path=${file}`, '--log.level=warn'],
      env: { ...process.env, DATA_SOURCE_NAME: `${db!.url}?sslmode=disable` },
      readyUrl: `http://127.0.0.1:${port}/`,
    });
    processes.push(child);
    return `http://127.0.0.1:${port}/metrics`;
  };
  const peTop50 = await startPostgresExporter('postgres-exporter-top50', 50);
  const peAll = await startPostgresExporter('postgres-exporter-all');

  for (const [name, url] of [
    ['pg-stats top 50', `${top50.url}/metrics`],
    ['pg-stats all statements', `${all.url}/metrics`],
    ['postgres_exporter top 50', peTop50],
    ['postgres_exporter all statements', peAll],
  ] as const) {
    targets.set(name, { name, url, times: [], bytes: [] });
    await scrapeBytes(url); // warm-up: connections, plans, page cache
  }
}

function report(): void {
  if (targets.size === 0 || ![...targets.values()].every((t) => t.times.length > 0)) return;
  const summary = Object.fromEntries(
    [...targets.values()].map((t) => [t.name, { medianMs: Number(median(t.times).toFixed(3)), medianBytes: median(t.bytes), scrapes: t.times.length }]),
  );
  const ratio = (a: string, b: string) => {
    const x = summary[a]!;
    const y = summary[b]!;
    return { a, b, timeRatio: Number((x.medianMs / y.medianMs).toFixed(3)), bytesRatio: Number((x.medianBytes / y.medianBytes).toFixed(3)) };
  };
  const result = {
    generatedAt: new Date().toISOString(),
    postgres: serverVersion,
    statementsInPgStatStatements: statementCount,
    postgresExporter: `${POSTGRES_EXPORTER} (Debian 0.11.1, default collectors + --extend.query-path)`,
    note: 'medians over sequential scrapes of uncompressed responses; ratio = pg-stats / postgres_exporter',
    targets: summary,
    ratios: [
      ratio('pg-stats top 50', 'postgres_exporter top 50'),
      ratio('pg-stats all statements', 'postgres_exporter all statements'),
      ratio('pg-stats top 50', 'postgres_exporter all statements'),
    ],
  };
  console.log(`\npg-stats benchmark (${statementCount} statements, PostgreSQL ${serverVersion})`);
  for (const [name, s] of Object.entries(summary)) {
    console.log(`  ${name.padEnd(34)} median ${s.medianMs.toFixed(1).padStart(8)} ms  ${String(s.medianBytes).padStart(9)} bytes  (${s.scrapes} scrapes)`);
  }
  for (const r of result.ratios) console.log(`  ${r.a} / ${r.b}: time x${r.timeRatio}, bytes x${r.bytesRatio}`);
  // Synchronous on purpose: tinybench does not await teardown hooks.
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  const temporary = `${RESULTS_FILE}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(temporary, RESULTS_FILE);
  console.log(`  written to ${RESULTS_FILE}`);
}

/**
 * Synchronous clean-up: vitest ends the benchmark worker right after the last task without
 * awaiting tinybench's teardown hook (and without an 'exit' event), so nothing here may wait on
 * the event loop. PostgreSQL is stopped with pg_ctl directly, as its owner.
 */
function tearDown(): void {
  for (const exporter of exporters) void exporter.stop().catch(() => undefined);
  for (const child of processes) if (child.child.exitCode === null) child.child.kill('SIGTERM');
  if (db) {
    const pgCtl = join(process.env.PERFSTACK_PG_BIN ?? DEFAULT_PG_BIN_DIR, 'pg_ctl');
    const args = ['-D', db.dataDir, '-m', 'fast', '-w', '-t', '30', 'stop'];
    const asRoot = process.getuid?.() === 0;
    spawnSync(asRoot ? 'runuser' : pgCtl, asRoot ? ['-u', 'postgres', '--', pgCtl, ...args] : args, { stdio: 'ignore' });
    rmSync(db.rootDir, { recursive: true, force: true });
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

const setup = () => {
  started ??= setUp().catch((error: unknown) => {
    tearDown();
    throw error;
  });
  return started;
};
const FIRST = { ...BENCH_OPTIONS, setup };
const LAST = {
  ...BENCH_OPTIONS,
  setup,
  teardown: (_task: unknown, mode: 'warmup' | 'run') => {
    if (mode !== 'run' || finished) return;
    finished = true;
    try {
      report();
    } finally {
      tearDown();
    }
  },
};

describe(`scrape with ${STATEMENTS} statements in pg_stat_statements`, () => {
  bench('pg-stats top 50', () => measure('pg-stats top 50'), FIRST);
  bench('pg-stats all statements', () => measure('pg-stats all statements'), { ...BENCH_OPTIONS, setup });
  bench('postgres_exporter top 50', () => measure('postgres_exporter top 50'), { ...BENCH_OPTIONS, setup });
  bench('postgres_exporter all statements', () => measure('postgres_exporter all statements'), LAST);
});
