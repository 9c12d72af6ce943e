// pg-stats against Debian's prometheus-postgres-exporter 0.11 (its peer), like for like, on one
// PostgreSQL 15 holding 5,000 distinct statements in pg_stat_statements.
//
//   npx tsx bench/pg-stats-scrape.ts        (writes bench/results/pg-stats.json)
//
// Environment: PERFSTACK_BENCH_ROUNDS (default 12), PERFSTACK_BENCH_SCRAPES (scrapes per target
// and encoding in a round, default 5), PERFSTACK_BENCH_PAIRS (comma-separated pair names below, to
// run only those and write no results file; default all three).
//
// Every exporter runs in its own process (pg-stats through this script's `serve` mode), so the
// wall time of a scrape and the exporter's CPU per scrape (utime + stime from /proc/PID/stat)
// compare like for like. Targets, in pairs:
//
//   statements top 50   pg-stats with only its statements collector, topStatements 50
//                       postgres_exporter with --disable-default-metrics --disable-settings-metrics
//                       --no-collector.database --no-collector.bgwriter and a query file whose one
//                       query is PEER_SQL with LIMIT 50
//   statements all      the same with every statement (topStatements 100000; no LIMIT)
//   full top 50         pg-stats' defaults (database, statements, activity, locks, user_tables)
//                       postgres_exporter's defaults plus the top-50 query and a user-tables query
//
// Both sides export the same columns for the statements: calls, seconds, rows as counters labelled
// user, datname, queryid. PEER_SQL is the plain query (pg_stat_statements(false) joined to the role
// and database names, ORDER BY total_exec_time DESC): the cheapest way to write it, cheaper than the
// pg_stat_statements view, which also reads every statement's text. pg-stats also reports the
// slow-statement counts per database and sums toplevel twins, which the peer does not.
//
// Each round visits the targets in a rotated order and scrapes each one PERFSTACK_BENCH_SCRAPES
// times uncompressed (Accept-Encoding: identity) and as many times with gzip, after one warm-up
// scrape. Figures: the median over all scrapes, the spread of the per-round medians (min, max) and
// the interquartile range of all scrapes; ratios pg-stats / postgres_exporter per round, then their
// median and range. The statement SQL alone is timed the same way on one pg client: pg-stats'
// statements query against PEER_SQL and against the same query over the view.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import pg from 'pg';
import {
  DEFAULT_COLLECTORS,
  PG_STATS_DEFAULTS,
  startPgStatsExporter,
  statementsCollector,
  statementsSql,
} from '../exporters/pg-stats/index.js';
import { freePort, startProcess, type RunningProcess } from '../stack/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { median, quantileSorted } from './stats.js';
import { writeJsonAtomic } from './write-json.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(HERE, 'results', 'pg-stats.json');
const POSTGRES_EXPORTER = '/usr/bin/prometheus-postgres-exporter';
const STATEMENTS = 5_000;
const TABLES = 50;
const ALL = 100_000;

function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return value;
}

/** The plain statements query the peer runs; same columns as pg-stats' statement counters. */
function peerSql(limit: number | undefined, source = 'pg_stat_statements(false)'): string {
  return [
    'SELECT r.rolname AS "user", d.datname, s.queryid::text AS queryid,',
    '       s.calls AS calls_total, s.total_exec_time / 1000 AS seconds_total, s.rows AS rows_total',
    `  FROM ${source} s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid`,
    ' WHERE s.queryid IS NOT NULL',
    ` ORDER BY s.total_exec_time DESC${limit ? ` LIMIT ${limit}` : ''}`,
  ].join('\n');
}

/** A query file for postgres_exporter's --extend.query-path (JSON is valid YAML). */
function queryFile(limit: number | undefined, withTables: boolean): string {
  const label = (description: string) => ({ usage: 'LABEL', description });
  const counter = (description: string) => ({ usage: 'COUNTER', description });
  const queries: Record<string, unknown> = {
    pg_stat_statements: {
      query: peerSql(limit),
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
  };
  if (withTables) {
    queries.pg_stat_user_tables = {
      query: 'SELECT current_database() AS datname, schemaname, relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables',
      metrics: [
        { datname: label('Name of the database') },
        { schemaname: label('Name of the schema') },
        { relname: label('Name of the table') },
        { seq_scan: counter('Number of sequential scans') },
        { idx_scan: counter('Number of index scans') },
      ],
    };
  }
  return JSON.stringify(queries, null, 2);
}

// ---------------------------------------------------------------------------------------------
// `serve` mode: one pg-stats exporter in this process, for the parent to scrape.

interface ServeOptions {
  databaseUrl: string;
  topStatements: number;
  statementsOnly: boolean;
}

async function serve(options: ServeOptions): Promise<void> {
  const exporter = await startPgStatsExporter({
    databaseUrl: options.databaseUrl,
    port: 0,
    topStatements: options.topStatements,
    collectors: options.statementsOnly ? [statementsCollector] : DEFAULT_COLLECTORS,
    scrapeTimeoutMs: 30_000,
    log: () => undefined,
  });
  console.log(`url ${exporter.url}/metrics`);
  const stop = () => void exporter.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent going away ends this exporter too.
  process.stdin.on('end', stop).resume();
}

// ---------------------------------------------------------------------------------------------
// The parent: set-up, measurement, report.

interface Exporter {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startPgStatsChild(name: string, options: ServeOptions): Promise<Exporter> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('url ')) resolve(line.slice(4));
    });
    child.once('exit', (code) => reject(new Error(`${name}: exited with ${code} before listening`)));
  });
  return {
    name,
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function startPeer(name: string, databaseUrl: string, folder: string, limit: number | undefined, defaults: boolean): Promise<Exporter> {
  const file = join(folder, `${name}.yaml`);
  await writeFile(file, queryFile(limit, defaults));
  const port = await freePort();
  const flags = defaults
    ? []
    : ['--disable-default-metrics', '--disable-settings-metrics', '--no-collector.database', '--no-collector.bgwriter'];
  const child: RunningProcess = await startProcess({
    name,
    command: POSTGRES_EXPORTER,
    args: [`--web.listen-address=127.0.0.1:${port}`, `--extend.query-path=${file}`, '--log.level=warn', ...flags],
    env: { ...process.env, DATA_SOURCE_NAME: `${databaseUrl}?sslmode=disable` },
    readyUrl: `http://127.0.0.1:${port}/`,
  });
  return { name, url: `http://127.0.0.1:${port}/metrics`, pid: child.child.pid!, stop: () => child.stop() };
}

/** utime + stime of a process, in milliseconds (clock ticks are 100 Hz on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Scrape {
  ms: number;
  bytes: number;
  text: string;
}

function scrape(url: string, gzip: boolean): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { headers: { 'accept-encoding': gzip ? 'gzip' : 'identity' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const ms = performance.now() - started;
        if (response.statusCode !== 200) return reject(new Error(`${url}: HTTP ${response.statusCode}`));
        const body = Buffer.concat(chunks);
        if (gzip && response.headers['content-encoding'] !== 'gzip') return reject(new Error(`${url}: asked for gzip, got ${response.headers['content-encoding'] ?? 'identity'}`));
        resolve({ ms, bytes: body.length, text: gzip ? '' : body.toString('utf8') });
      });
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Cell {
  times: number[];
  roundMedians: number[];
  bytes: number[];
  cpuMsPerScrape: number[];
  cpuMsTotal: number;
}

const cells = new Map<string, Cell>();
function cell(key: string): Cell {
  let found = cells.get(key);
  if (!found) cells.set(key, (found = { times: [], roundMedians: [], bytes: [], cpuMsPerScrape: [], cpuMsTotal: 0 }));
  return found;
}

function round3(value: number): number {
  return Number(value.toFixed(3));
}

function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: round3(quantileSorted(sorted, 0.5)),
    p25: round3(quantileSorted(sorted, 0.25)),
    p75: round3(quantileSorted(sorted, 0.75)),
    min: round3(sorted[0] ?? Number.NaN),
    max: round3(sorted.at(-1) ?? Number.NaN),
  };
}

/** Series of a metric in an exposition text (lines that start with the name and a brace or space). */
function seriesCount(text: string, name: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) n++;
  return n;
}

async function measureRound(exporters: readonly Exporter[], round: number, scrapes: number): Promise<void> {
  const order = exporters.map((_, i) => exporters[(i + round) % exporters.length]!);
  for (const exporter of order) {
    for (const gzip of [false, true]) {
      const key = `${exporter.name}|${gzip ? 'gzip' : 'identity'}`;
      const c = cell(key);
      await scrape(exporter.url, gzip); // warm-up: keeps a cold first scrape out of the figures
      const times: number[] = [];
      const cpuBefore = cpuMs(exporter.pid);
      for (let i = 0; i < scrapes; i++) {
        const result = await scrape(exporter.url, gzip);
        times.push(result.ms);
        c.bytes.push(result.bytes);
      }
      const cpu = cpuMs(exporter.pid) - cpuBefore;
      c.cpuMsTotal += cpu;
      c.cpuMsPerScrape.push(cpu / scrapes);
      c.times.push(...times);
      c.roundMedians.push(median(times));
    }
  }
}

async function measureSql(client: pg.Client, queries: Record<string, { text: string; values: unknown[] }>, round: number, repeat: number): Promise<void> {
  const entries = Object.entries(queries);
  for (let i = 0; i < entries.length; i++) {
    const [name, query] = entries[(i + round) % entries.length]!;
    const c = cell(`sql|${name}`);
    await client.query({ name, ...query });
    const times: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const started = performance.now();
      await client.query({ name, ...query });
      times.push(performance.now() - started);
    }
    c.times.push(...times);
    c.roundMedians.push(median(times));
  }
}

async function seed(db: TestPostgres): Promise<{ statements: number; version: string }> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (let t = 0; t < TABLES; t++) {
      await client.query(`CREATE TABLE bench_t${t} (id int PRIMARY KEY, payload text)`);
      await client.query(`INSERT INTO bench_t${t} SELECT g, md5(g::text) FROM generate_series(1, 200) g`);
    }
    await client.query('SELECT pg_stat_statements_reset()');
    // Distinct statements: PostgreSQL 15 gives IN lists of different lengths different query ids.
    const perTable = Math.ceil(STATEMENTS / TABLES);
    for (let t = 0; t < TABLES; t++) {
      for (let n = 1; n <= perTable; n++) {
        const list = Array.from({ length: n }, (_, i) => i + 1).join(', ');
        await client.query(`SELECT id, payload FROM bench_t${t} WHERE id IN (${list})`);
      }
    }
    const [row] = (await client.query<{ n: string; v: string }>("SELECT count(*)::text AS n, current_setting('server_version') AS v FROM pg_stat_statements")).rows;
    return { statements: Number(row?.n ?? 0), version: row?.v ?? '' };
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const rounds = envInteger('PERFSTACK_BENCH_ROUNDS', 12);
  const scrapes = envInteger('PERFSTACK_BENCH_SCRAPES', 5);
  const db = await startPostgres({ settings: ['pg_stat_statements.max = 10000', 'max_connections = 50'] });
  const folder = await mkdtemp(join(tmpdir(), 'pg-stats-bench-'));
  const exporters: Exporter[] = [];
  try {
    const { statements, version } = await seed(db);
    if (statements < STATEMENTS) throw new Error(`only ${statements} statements in pg_stat_statements, wanted ${STATEMENTS}`);
    console.log(`pg-stats benchmark: ${statements} statements, PostgreSQL ${version}, ${rounds} rounds x ${scrapes} scrapes per target and encoding`);

    const only = (process.env.PERFSTACK_BENCH_PAIRS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const pairs = [
      { name: 'statements top 50', limit: 50, topStatements: 50, statementsOnly: true },
      { name: 'statements all', limit: undefined, topStatements: ALL, statementsOnly: true },
      { name: 'full top 50', limit: 50, topStatements: 50, statementsOnly: false },
    ].filter((pair) => only.length === 0 || only.includes(pair.name));
    if (pairs.length === 0) throw new Error(`PERFSTACK_BENCH_PAIRS names no pair: ${only.join(', ')}`);
    for (const pair of pairs) {
      exporters.push(await startPgStatsChild(`pg-stats ${pair.name}`, { databaseUrl: db.url, topStatements: pair.topStatements, statementsOnly: pair.statementsOnly }));
      exporters.push(await startPeer(`postgres_exporter ${pair.name}`, db.url, folder, pair.limit, !pair.statementsOnly));
    }

    // Both sides must export the same statements before their times mean anything.
    const series: Record<string, Record<string, number>> = {};
    for (const exporter of exporters) {
      const { text } = await scrape(exporter.url, false);
      series[exporter.name] = {
        pg_stat_statements_calls_total: seriesCount(text, 'pg_stat_statements_calls_total'),
        pg_stat_statements_seconds_total: seriesCount(text, 'pg_stat_statements_seconds_total'),
        pg_stat_statements_rows_total: seriesCount(text, 'pg_stat_statements_rows_total'),
      };
    }
    for (const pair of pairs) {
      const ours = series[`pg-stats ${pair.name}`]!;
      const peer = series[`postgres_exporter ${pair.name}`]!;
      if (JSON.stringify(ours) !== JSON.stringify(peer)) {
        throw new Error(`${pair.name}: the two exporters export different statement series: ${JSON.stringify(ours)} against ${JSON.stringify(peer)}`);
      }
    }

    const sqlSettings = { topStatements: 50, slowStatementSeconds: PG_STATS_DEFAULTS.slowStatementSeconds };
    const sqlQueries = {
      'pg-stats top 50': { text: statementsSql(false, false), values: [sqlSettings.topStatements, sqlSettings.slowStatementSeconds * 1000] },
      'plain top 50': { text: peerSql(50), values: [] },
      'plain over the view top 50': { text: peerSql(50, 'pg_stat_statements'), values: [] },
      'pg-stats all': { text: statementsSql(false, false), values: [ALL, sqlSettings.slowStatementSeconds * 1000] },
      'plain all': { text: peerSql(undefined), values: [] },
    };
    const loadAtStart = loadavg().map(round3);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (let round = 0; round < rounds; round++) {
        await measureRound(exporters, round, scrapes);
        await measureSql(client, sqlQueries, round, scrapes);
        process.stdout.write(`  round ${round + 1}/${rounds} done\n`);
      }
    } finally {
      await client.end();
    }

    const targets: Record<string, unknown> = {};
    for (const [key, c] of cells) {
      if (key.startsWith('sql|')) continue;
      targets[key.replace('|', ', ')] = {
        scrapeMs: summary(c.times),
        roundMedianMs: { min: round3(Math.min(...c.roundMedians)), max: round3(Math.max(...c.roundMedians)) },
        // Over all rounds: a round's figure moves in steps of 10 ms / scrapes (the kernel's clock tick).
        cpuMsPerScrape: { mean: round3(c.cpuMsTotal / c.times.length), roundMin: round3(Math.min(...c.cpuMsPerScrape)), roundMax: round3(Math.max(...c.cpuMsPerScrape)) },
        bytes: median(c.bytes),
        scrapes: c.times.length,
      };
    }
    const ratio = (a: string, b: string) => {
      const x = cells.get(a)!.roundMedians;
      const y = cells.get(b)!.roundMedians;
      const perRound = x.map((v, i) => v / y[i]!);
      return { a: a.replace('|', ', '), b: b.replace('|', ', '), timeRatio: summary(perRound), bytesRatio: round3(median(cells.get(a)!.bytes) / median(cells.get(b)!.bytes)) };
    };
    const ratios = [];
    for (const pair of pairs) {
      for (const encoding of ['identity', 'gzip']) ratios.push(ratio(`pg-stats ${pair.name}|${encoding}`, `postgres_exporter ${pair.name}|${encoding}`));
    }
    const sql: Record<string, unknown> = {};
    for (const [key, c] of cells) {
      if (key.startsWith('sql|')) sql[key.slice(4)] = { ms: summary(c.times), roundMedianMs: { min: round3(Math.min(...c.roundMedians)), max: round3(Math.max(...c.roundMedians)) }, runs: c.times.length };
    }
    const sqlRatio = (a: string, b: string) => {
      const x = cells.get(`sql|${a}`)!.roundMedians;
      const y = cells.get(`sql|${b}`)!.roundMedians;
      return { a, b, timeRatio: summary(x.map((v, i) => v / y[i]!)) };
    };

    const result = {
      generatedAt: new Date().toISOString(),
      loadAverage: { atStart: loadAtStart, atEnd: loadavg().map(round3) },
      node: process.version,
      postgres: version,
      statementsInPgStatStatements: statements,
      peer: `${POSTGRES_EXPORTER} (Debian 0.11), each exporter in its own process on loopback`,
      flags: {
        'pg-stats statements *': 'collectors [statements], topStatements 50 or 100000, showQueryText off, poolSize default',
        'pg-stats full top 50': 'default collectors, topStatements 50',
        'postgres_exporter statements *': '--disable-default-metrics --disable-settings-metrics --no-collector.database --no-collector.bgwriter --extend.query-path (PEER_SQL, LIMIT 50 or none)',
        'postgres_exporter full top 50': 'default collectors and metrics, --extend.query-path (PEER_SQL LIMIT 50, pg_stat_user_tables)',
        PEER_SQL: peerSql(50),
      },
      method: `${rounds} interleaved rounds (target order rotated each round); per round and target ${scrapes} scrapes with Accept-Encoding: identity and ${scrapes} with gzip after one warm-up each. scrapeMs: all scrapes; roundMedianMs: range of the per-round medians; cpuMsPerScrape: exporter process utime+stime over all scrapes of the cell / scrapes (and the range of the per-round figures); ratios per round, pg-stats / postgres_exporter.`,
      series,
      targets,
      ratios,
      sql,
      sqlRatios: [sqlRatio('pg-stats top 50', 'plain top 50'), sqlRatio('pg-stats all', 'plain all'), sqlRatio('pg-stats top 50', 'plain over the view top 50')],
    };

    console.log('');
    for (const [name, t] of Object.entries(targets) as [string, { scrapeMs: { median: number; p25: number; p75: number }; roundMedianMs: { min: number; max: number }; cpuMsPerScrape: { mean: number }; bytes: number }][]) {
      console.log(
        `  ${name.padEnd(44)} ${t.scrapeMs.median.toFixed(2).padStart(7)} ms (IQR ${t.scrapeMs.p25.toFixed(1)}-${t.scrapeMs.p75.toFixed(1)}, rounds ${t.roundMedianMs.min.toFixed(1)}-${t.roundMedianMs.max.toFixed(1)})  cpu ${t.cpuMsPerScrape.mean.toFixed(1)} ms  ${String(t.bytes).padStart(8)} B`,
      );
    }
    for (const r of ratios) console.log(`  ${r.a} / ${r.b}: time x${r.timeRatio.median} (rounds ${r.timeRatio.min}-${r.timeRatio.max}), bytes x${r.bytesRatio}`);
    for (const [name, s] of Object.entries(sql) as [string, { ms: { median: number; min: number; max: number } }][]) console.log(`  SQL ${name.padEnd(30)} ${s.ms.median.toFixed(2)} ms`);
    for (const r of result.sqlRatios) console.log(`  SQL ${r.a} / ${r.b}: x${r.timeRatio.median} (rounds ${r.timeRatio.min}-${r.timeRatio.max})`);
    // A partial run (PERFSTACK_BENCH_PAIRS) is printed, not written over the full results.
    if (only.length === 0) console.log(`  written to ${await writeJsonAtomic(RESULTS_FILE, result)}`);
  } finally {
    for (const exporter of exporters) await exporter.stop().catch(() => undefined);
    await db.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') {
  await serve(JSON.parse(process.argv[3] ?? '{}') as ServeOptions);
} else {
  await main();
}
