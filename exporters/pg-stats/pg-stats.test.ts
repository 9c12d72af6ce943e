import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServer } from '../../metrics/index.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import {
  acceptsGzip,
  createPgStatsScraper,
  LINT_CONFLICTING_NAMES,
  pgStatsExtraMetrics,
  resolveDatabaseUrl,
  sanitiseQueryText,
  startPgStatsExporter,
  statementsSql,
  type PgStatsExporter,
  type PgStatsExporterOptions,
} from './index.js';

interface ParsedSample {
  labels: Record<string, string>;
  value: number;
}

/** A small parser for the text format: name → samples, and name → TYPE. */
function parse(text: string): { samples: Map<string, ParsedSample[]>; types: Map<string, string> } {
  const samples = new Map<string, ParsedSample[]>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const list = samples.get(match[1]!) ?? [];
    list.push({ labels, value: Number(match[3]) });
    samples.set(match[1]!, list);
  }
  return { samples, types };
}

function one(samples: Map<string, ParsedSample[]>, name: string, labels: Record<string, string> = {}): number {
  const found = (samples.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

function promtool(text: string): { status: number | null; output: string } {
  const result = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - started };
}

/** GET without any decoding: the status, headers and raw body bytes as sent. */
function getRaw(url: string, headers: Record<string, string>): Promise<{ status: number; encoding: string | undefined; vary: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          encoding: response.headers['content-encoding'],
          vary: response.headers.vary,
          body: Buffer.concat(chunks),
        }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const SECRET_LITERAL = 'secret-literal-7f3a9c';
const PASSWORD = 'pw-never-shown-42x';

describe('pg-stats exporter', () => {
  let db: TestPostgres;
  const exporters: PgStatsExporter[] = [];
  const clients: pg.Client[] = [];

  const start = async (options: Partial<PgStatsExporterOptions> = {}, lines: string[] = []) => {
    const exporter = await startPgStatsExporter({ databaseUrl: db.url, port: 0, log: (line) => lines.push(line), ...options });
    exporters.push(exporter);
    return exporter;
  };

  beforeAll(async () => {
    db = await startPostgres();
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await db.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    await db.query('CREATE TABLE notes (body text)');
    await db.query('ANALYZE items');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    for (let i = 1; i <= 20; i++) await client.query('SELECT name FROM items WHERE id = $1', [i]); // index scans
    for (let i = 0; i < 3; i++) await client.query('SELECT count(*) FROM items'); // sequential scans
    await client.query(`SELECT count(*) FROM items WHERE name = '${SECRET_LITERAL}'`);
    await client.query('SELECT pg_sleep(0.3)'); // slow, above the 0.2 s limit used below
    // PostgreSQL 15 backends flush their table statistics lazily (up to 10 s when idle), but always on exit.
    await client.end();
    for (let i = 0; i < 50; i++) {
      const [row] = await db.query<{ idx_scan: string | null }>("SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 'items'");
      if (Number(row?.idx_scan ?? 0) >= 20) break;
      await sleep(100);
    }
  });

  afterAll(async () => {
    for (const exporter of exporters) await exporter.stop().catch(() => undefined);
    for (const client of clients) await client.end().catch(() => undefined);
    await db?.stop();
  });

  it('reports every contract metric with plausible values', async () => {
    const exporter = await start({ slowStatementSeconds: 0.2 });
    // A transaction held open for a while, and a statement still running, on two other connections.
    const holder = new pg.Client({ connectionString: db.url });
    const runner = new pg.Client({ connectionString: db.url });
    for (const c of [holder, runner]) {
      c.on('error', () => undefined);
      await c.connect();
    }
    clients.push(holder, runner);
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM items WHERE id = 1 FOR UPDATE');
    const running = runner.query('SELECT pg_sleep(1.6)');
    await sleep(1_100);

    const { status, text } = await get(`${exporter.url}/metrics`);
    expect(status).toBe(200);
    const { samples, types } = parse(text);
    await holder.query('ROLLBACK');
    await running;
    await holder.end();
    await runner.end();

    expect(one(samples, pgServer.up)).toBe(1);
    const perfstack = { datname: 'perfstack' };
    for (const name of [pgServer.xactCommit, pgServer.xactRollback, pgServer.blksHit, pgServer.blksRead, pgServer.deadlocks, pgServer.tempBytes]) {
      // postgres_exporter's counter names without _total are untyped by default (promtool-clean).
      expect(types.get(name), name).toBe('untyped');
      expect(one(samples, name, perfstack), name).toBeGreaterThanOrEqual(0);
    }
    // PostgreSQL 15 flushes backend statistics at most once a second, so this lags the workload a little.
    expect(one(samples, pgServer.xactCommit, perfstack)).toBeGreaterThan(5);
    expect(one(samples, pgServer.blksHit, perfstack)).toBeGreaterThan(0);
    expect(one(samples, pgServer.databaseSize, perfstack)).toBeGreaterThan(1_000_000);
    const cacheHit = one(samples, pgServer.cacheHitRatio, perfstack);
    expect(cacheHit).toBeGreaterThan(0);
    expect(cacheHit).toBeLessThanOrEqual(1);
    expect(samples.get(pgServer.xactCommit)!.some((s) => s.labels.datname === undefined)).toBe(false);

    // Statements: counters with queryid, datname, user; seconds are total_exec_time / 1000.
    for (const name of [pgServer.statementCalls, pgServer.statementSeconds, pgServer.statementRows]) {
      expect(types.get(name), name).toBe('counter');
      const list = samples.get(name)!;
      expect(list.length).toBeGreaterThan(3);
      expect(list.length).toBeLessThanOrEqual(50);
      for (const s of list) expect(Object.keys(s.labels).sort()).toEqual(['datname', 'queryid', 'user']);
    }
    const [byId] = await db.query<{ queryid: string; calls: string; total_exec_time: number }>(
      "SELECT queryid::text, sum(calls)::text AS calls, sum(total_exec_time) AS total_exec_time FROM pg_stat_statements WHERE query = 'SELECT name FROM items WHERE id = $1' GROUP BY queryid",
    );
    expect(byId).toBeDefined();
    expect(one(samples, pgServer.statementCalls, { queryid: byId!.queryid })).toBe(20);
    expect(one(samples, pgServer.statementRows, { queryid: byId!.queryid })).toBe(20);
    const seconds = one(samples, pgServer.statementSeconds, { queryid: byId!.queryid });
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(byId!.total_exec_time / 1000 + 1e-9);
    // SELECT pg_sleep($1) (0.3 s, finished) has a mean above 0.2 s; the statement still running is not counted yet.
    expect(one(samples, pgServer.slowStatements, perfstack)).toBeGreaterThanOrEqual(1);
    expect(one(samples, pgServer.slowStatements, { datname: 'template0' })).toBe(0);

    // Activity: every state for every database; the held transaction and the running statement.
    expect(samples.get(pgServer.activityCount)!.filter((s) => s.labels.datname === 'perfstack').length).toBe(6);
    expect(one(samples, pgServer.activityCount, { ...perfstack, state: 'idle in transaction' })).toBe(1);
    expect(one(samples, pgServer.activityCount, { ...perfstack, state: 'active' })).toBeGreaterThanOrEqual(2);
    const txAge = one(samples, pgServer.longestTransactionSeconds, perfstack);
    expect(txAge).toBeGreaterThanOrEqual(1);
    expect(txAge).toBeLessThan(30);
    const queryAge = one(samples, pgServer.longestQuerySeconds, perfstack);
    expect(queryAge).toBeGreaterThanOrEqual(1);
    expect(queryAge).toBeLessThan(1.6);
    expect(one(samples, pgServer.longestTransactionSeconds, { datname: 'postgres' })).toBe(0);

    // Locks: all nine modes per database, lower case; the FOR UPDATE holds a RowShareLock on items.
    expect(samples.get(pgServer.locksCount)!.filter((s) => s.labels.datname === 'perfstack').length).toBe(9);
    expect(one(samples, pgServer.locksCount, { ...perfstack, mode: 'rowsharelock' })).toBeGreaterThanOrEqual(1);
    expect(one(samples, pgServer.locksCount, { datname: 'template1', mode: 'accessexclusivelock' })).toBe(0);

    // User tables: index scans on items, sequential scans on both; ratios per table and overall.
    const items = { datname: 'perfstack', schemaname: 'public', relname: 'items' };
    expect(types.get(pgServer.seqScan)).toBe('untyped');
    expect(types.get(pgServer.idxScan)).toBe('untyped');
    const idx = one(samples, pgServer.idxScan, items);
    const seq = one(samples, pgServer.seqScan, items);
    expect(idx).toBeGreaterThanOrEqual(20);
    expect(seq).toBeGreaterThanOrEqual(3);
    expect(one(samples, pgServer.indexUsageRatio, items)).toBeCloseTo(idx / (idx + seq), 10);
    expect(one(samples, pgServer.idxScan, { relname: 'notes' })).toBe(0);
    const overall = samples.get(pgServer.indexUsageRatio)!.filter((s) => s.labels.relname === undefined);
    expect(overall).toHaveLength(1);
    expect(overall[0]!.labels).toEqual(perfstack);
    expect(overall[0]!.value).toBeGreaterThan(0);
    expect(overall[0]!.value).toBeLessThan(1);

    // Every collector reports its duration and success.
    for (const collector of ['database', 'statements', 'activity', 'locks', 'user_tables']) {
      expect(one(samples, pgServer.collectorSuccess, { collector }), collector).toBe(1);
      const duration = one(samples, pgServer.collectorDuration, { collector });
      expect(duration).toBeGreaterThan(0);
      expect(duration).toBeLessThan(5);
    }
  });

  it('passes promtool check metrics cleanly by default', async () => {
    // postgres_exporter's names are declared untyped by default, so the lint is clean.
    const untyped = await start({ showQueryText: true });
    const clean = promtool((await get(`${untyped.url}/metrics`)).text);
    expect(clean).toEqual({ status: 0, output: '' });
    // With postgres_exporter's own types, the only complaints are about its names (no _total on counters, _count on gauges).
    const typed = await start({ showQueryText: true, untypedLegacyNames: false });
    const result = promtool((await get(`${typed.url}/metrics`)).text);
    const complaints = result.output.split('\n').filter(Boolean);
    expect(complaints.length).toBeGreaterThan(0);
    for (const line of complaints) {
      expect(line).toMatch(/^(\S+) (counter metrics should have "_total" suffix|non-histogram and non-summary metrics should not have "_count" suffix)$/);
      expect(LINT_CONFLICTING_NAMES).toContain(line.split(' ')[0]);
    }
  });

  it('exports query text only with showQueryText, truncated, without literal values', async () => {
    const plain = await start();
    const plainText = (await get(`${plain.url}/metrics`)).text;
    expect(plainText).not.toContain(pgStatsExtraMetrics.statementQueryInfo);
    expect(plainText).not.toContain('query=');
    expect(plainText).not.toContain(SECRET_LITERAL);
    expect(plainText).not.toContain('WHERE');

    const withText = await start({ showQueryText: true, queryTextMaxLength: 40 });
    const text = (await get(`${withText.url}/metrics`)).text;
    expect(text).not.toContain(SECRET_LITERAL);
    const { samples } = parse(text);
    const info = samples.get(pgStatsExtraMetrics.statementQueryInfo)!;
    expect(info.length).toBe(samples.get(pgServer.statementCalls)!.length);
    for (const s of info) {
      expect(s.value).toBe(1);
      expect(Array.from(s.labels.query!).length).toBeLessThanOrEqual(40);
      expect(s.labels.queryid).toBeDefined();
    }
    expect(info.map((s) => s.labels.query)).toContain('SELECT name FROM items WHERE id = $1');
    // 'SELECT count(*) FROM items WHERE name = $1' is 42 characters: cut to 40.
    expect(info.map((s) => s.labels.query)).toContain('SELECT count(*) FROM items WHERE name = ');
  });

  it('sanitises statement text: whitespace, quoted literals, length', () => {
    expect(sanitiseQueryText("ALTER ROLE app PASSWORD 'hunter2'", 100)).toBe("ALTER ROLE app PASSWORD '?'");
    expect(sanitiseQueryText("SET x = 'it''s'; DO $$ secret $$", 100)).toBe("SET x = '?'; DO '?'");
    expect(sanitiseQueryText('SELECT\n  1,\t2', 100)).toBe('SELECT 1, 2');
    expect(sanitiseQueryText('SELECT ääää', 8)).toBe('SELECT ä');
  });

  it('keeps to the scrape deadline when a collector is slow', async () => {
    const exporter = await start({
      scrapeTimeoutMs: 600,
      hooks: {
        async beforeCollector(name, client) {
          if (name === 'statements') await client.query('SELECT pg_sleep(5) /* pg-stats slow collector */');
        },
      },
    });
    const { status, text, ms } = await get(`${exporter.url}/metrics`);
    expect(status).toBe(200);
    expect(ms).toBeLessThan(1_200);
    const { samples } = parse(text);
    expect(one(samples, pgServer.up)).toBe(1);
    expect(one(samples, pgServer.collectorSuccess, { collector: 'statements' })).toBe(0);
    expect(one(samples, pgServer.collectorDuration, { collector: 'statements' })).toBeLessThan(1);
    for (const collector of ['database', 'activity', 'locks', 'user_tables']) {
      expect(one(samples, pgServer.collectorSuccess, { collector }), collector).toBe(1);
    }
    expect(samples.has(pgServer.statementCalls)).toBe(false);
    expect(samples.has(pgServer.xactCommit)).toBe(true);
    // statement_timeout ends the abandoned statement on the server too.
    await sleep(700);
    const still = await db.query("SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg-stats slow collector%' AND state = 'active' AND pid <> pg_backend_pid()");
    expect(still).toHaveLength(0);
  });

  it('shares one collection between concurrent scrapes', async () => {
    let collections = 0;
    const exporter = await start({
      hooks: {
        onCollection: () => collections++,
        async beforeCollector(name, client) {
          if (name === 'locks') await client.query('SELECT pg_sleep(0.3)');
        },
      },
    });
    const before = collections;
    const responses = await Promise.all(Array.from({ length: 5 }, () => get(`${exporter.url}/metrics`)));
    expect(collections - before).toBe(1);
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(r.text).toBe(responses[0]!.text);
    }
    await get(`${exporter.url}/metrics`);
    expect(collections - before).toBe(2);
  });

  it('sums the toplevel and nested entries of one statement (pg_stat_statements.track = all) into one series', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    clients.push(client);
    await client.query("SET pg_stat_statements.track = 'all'");
    // Constants do not change the query id: the same statement at top level twice, nested three times.
    for (const id of [5, 6]) await client.query(`SELECT id, name FROM items WHERE id = ${id}`);
    for (const id of [7, 8, 9]) await client.query(`DO $$ BEGIN EXECUTE 'SELECT id, name FROM items WHERE id = ${id}'; END $$`);
    await client.end();
    const entries = await db.query<{ queryid: string; toplevel: boolean; calls: string }>(
      "SELECT queryid::text, toplevel, calls::text FROM pg_stat_statements WHERE query LIKE 'SELECT id, name FROM items WHERE id = $1%' ORDER BY toplevel",
    );
    // The nested twin exists, so the test exercises the grouping.
    expect(entries.map((e) => [e.toplevel, Number(e.calls)])).toEqual([
      [false, 3],
      [true, 2],
    ]);
    const queryid = entries[0]!.queryid;

    // The scraper itself, so that the first collection is one this test sees (the server collects once at start).
    const scraper = createPgStatsScraper({ databaseUrl: db.url, topStatements: 1000, log: () => undefined });
    try {
      for (let scrape = 0; scrape < 2; scrape++) {
        // The first scrape finds the twins with the plain query and re-runs grouped; the second starts grouped.
        const { samples } = parse(await scraper.scrape());
        expect(one(samples, pgServer.statementCalls, { queryid }), `scrape ${scrape}`).toBe(5);
        expect(one(samples, pgServer.statementRows, { queryid }), `scrape ${scrape}`).toBe(5);
        const ids = samples.get(pgServer.statementCalls)!.map((s) => `${s.labels.queryid}/${s.labels.datname}/${s.labels.user}`);
        expect(new Set(ids).size, `scrape ${scrape}: one series per statement`).toBe(ids.length);
      }
    } finally {
      await scraper.close();
    }
  });

  it('counts slow and nested entries and decodes calls exactly as a direct query over pg_stat_statements does, in both forms', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("SET pg_stat_statements.track = 'all'");
      for (const id of [11, 12]) await client.query(`SELECT id, name FROM items WHERE id = ${id}`);
      for (const id of [13, 14]) await client.query(`DO $$ BEGIN EXECUTE 'SELECT id, name FROM items WHERE id = ${id}'; END $$`);
      // From here on nothing this session runs is recorded, so both sides read the same entries.
      await client.query("SET pg_stat_statements.track = 'none'");

      // A limit at the median mean time, so that some entries are slow and some are not.
      const [{ limit }] = (await client.query<{ limit: number }>(
        'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total_exec_time / calls) AS limit FROM pg_stat_statements(false) WHERE calls > 0',
      )).rows as [{ limit: number }];
      for (const grouped of [false, true]) {
        const entries = grouped
          ? `SELECT dbid, sum(calls::float8) AS calls, sum(total_exec_time) AS total_ms, bool_and(toplevel) AS toplevel, queryid, userid
               FROM pg_stat_statements(false) WHERE queryid IS NOT NULL GROUP BY queryid, dbid, userid`
          : 'SELECT dbid, calls::float8 AS calls, total_exec_time AS total_ms, toplevel, queryid, userid FROM pg_stat_statements(false) WHERE queryid IS NOT NULL';
        const reference = await client.query<{ datname: string; slow: number; nested: number }>(
          `SELECT d.datname, count(e.dbid) FILTER (WHERE e.calls > 0 AND e.total_ms > $1::float8 * e.calls)::int AS slow,
                  (SELECT count(*) FROM (${entries}) x WHERE NOT x.toplevel)::int AS nested
             FROM pg_database d LEFT JOIN (${entries}) e ON e.dbid = d.oid GROUP BY d.datname ORDER BY d.datname`,
          [limit],
        );
        const referenceCalls = await client.query<{ queryid: string; calls: number }>(
          `SELECT queryid::text, calls FROM (${entries}) e ORDER BY total_ms DESC, queryid LIMIT 20`,
        );
        const rows = (await client.query<{ queryid: string | null; datname: string; calls: number | null; slow: number | null; nested: number | null }>(
          statementsSql(false, grouped),
          [20, limit],
        )).rows;
        const perDb = rows.filter((r) => r.queryid === null).sort((a, b) => (a.datname < b.datname ? -1 : 1));
        expect(perDb.map((r) => [r.datname, r.slow, r.nested]), `grouped ${grouped}`).toEqual(reference.rows.map((r) => [r.datname, r.slow, r.nested]));
        expect(reference.rows.find((r) => r.datname === 'perfstack')!.slow, 'the limit splits the entries').toBeGreaterThan(0);
        expect(reference.rows[0]!.nested, `grouped ${grouped}: there are nested entries`).toBeGreaterThan(0);
        // The same top 20 with the same calls; the join may reorder them (the collector sorts afterwards).
        const byQueryid = (a: [string | null, number | null], b: [string | null, number | null]) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1);
        expect(rows.filter((r) => r.queryid !== null).map((r): [string | null, number | null] => [r.queryid, r.calls]).sort(byQueryid), `grouped ${grouped}`).toEqual(
          referenceCalls.rows.map((r): [string | null, number | null] => [r.queryid, r.calls]).sort(byQueryid),
        );
      }
    } finally {
      await client.end();
    }
  });

  it('sends gzip when the scraper asks for it, plain text otherwise', async () => {
    // A limit of a fraction of a millisecond, too: the statements query must not read it as a whole number.
    const exporter = await start({ topStatements: 1000, slowStatementSeconds: 0.0015 });
    const plain = await getRaw(`${exporter.url}/metrics`, { 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.encoding).toBeUndefined();
    expect(plain.vary).toBe('accept-encoding');
    expect(one(parse(plain.body.toString('utf8')).samples, pgServer.up)).toBe(1);

    // What Prometheus sends.
    const zipped = await getRaw(`${exporter.url}/metrics`, { 'accept-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.encoding).toBe('gzip');
    const text = gunzipSync(zipped.body).toString('utf8');
    const { samples } = parse(text);
    expect(one(samples, pgServer.up)).toBe(1);
    expect(one(samples, pgServer.collectorSuccess, { collector: 'statements' })).toBe(1);
    expect(samples.get(pgServer.statementCalls)!.length).toBeGreaterThan(3);
    expect(one(samples, pgServer.slowStatements, { datname: 'perfstack' })).toBeGreaterThanOrEqual(1);
    expect(zipped.body.length).toBeLessThan(Buffer.byteLength(text) / 3);

    const refused = await getRaw(`${exporter.url}/metrics`, { 'accept-encoding': 'gzip;q=0, deflate' });
    expect(refused.encoding).toBeUndefined();
    expect(one(parse(refused.body.toString('utf8')).samples, pgServer.up)).toBe(1);
  });

  it('reads Accept-Encoding as RFC 9110 says', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=1.0, *;q=0.5')).toBe(true);
    expect(acceptsGzip('GZIP; q=0.2')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('deflate, br')).toBe(false);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('*, gzip;q=0')).toBe(false);
    expect(acceptsGzip('*;q=0')).toBe(false);
  });

  it('survives an outage: pg_up 0 while PostgreSQL is down, 1 once it is back', async () => {
    const lines: string[] = [];
    const url = db.url.replace('postgres@', `postgres:${PASSWORD}@`);
    const exporter = await start({ databaseUrl: url, scrapeTimeoutMs: 2_000 }, lines);
    expect(one(parse((await get(`${exporter.url}/metrics`)).text).samples, pgServer.up)).toBe(1);

    await db.stopServer();
    try {
      const down = await get(`${exporter.url}/metrics`);
      expect(down.status).toBe(200);
      expect(down.ms).toBeLessThan(2_500);
      const { samples } = parse(down.text);
      expect(one(samples, pgServer.up)).toBe(0);
      expect(one(samples, pgServer.collectorSuccess, { collector: 'database' })).toBe(0);
      expect((await get(`${exporter.url}/health`)).status).toBe(200);
    } finally {
      await db.startServer();
    }
    const back = await get(`${exporter.url}/metrics`);
    expect(back.status).toBe(200);
    const { samples } = parse(back.text);
    expect(one(samples, pgServer.up)).toBe(1);
    expect(one(samples, pgServer.collectorSuccess, { collector: 'statements' })).toBe(1);

    expect(lines.filter((l) => l.includes('database down'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('database up'))).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(url);
    }
    await exporter.stop();
    expect(lines.at(-1)).toMatch(/^pg-stats: stopped/);
  });

  it('requires basic auth when configured and never shows the connection string', async () => {
    const lines: string[] = [];
    const url = db.url.replace('postgres@', `postgres:${PASSWORD}@`);
    const exporter = await start({ databaseUrl: url, basicAuth: { username: 'prom', password: 'scrape-secret' }, showQueryText: true }, lines);
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

    expect((await get(`${exporter.url}/metrics`)).status).toBe(401);
    expect((await get(`${exporter.url}/metrics`, basic('prom', 'wrong'))).status).toBe(401);
    expect((await get(`${exporter.url}/metrics`, basic('other', 'scrape-secret'))).status).toBe(401);
    expect((await get(`${exporter.url}/metrics`, { authorization: 'Bearer scrape-secret' })).status).toBe(401);
    expect((await get(`${exporter.url}/health`)).status).toBe(200);
    const ok = await get(`${exporter.url}/metrics`, basic('prom', 'scrape-secret'));
    expect(ok.status).toBe(200);
    expect(ok.text).toContain(`${pgServer.up} 1`);
    for (const text of [ok.text, ...lines]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(url);
      expect(text).not.toContain('scrape-secret');
    }
    expect(lines[0]).toMatch(/^pg-stats: listening on http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(exporter.url).toBe(`http://127.0.0.1:${exporter.port}`);
    expect(exporter.port).toBeGreaterThan(0);
  });

  it('resolves the connection string from DATABASE_URL or a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-stats-url-'));
    try {
      const file = join(dir, 'url');
      writeFileSync(file, '  postgres://u:p@db:5432/app\n');
      expect(resolveDatabaseUrl({ env: { DATABASE_URL: ' postgres://x@h/d \n' } })).toBe('postgres://x@h/d');
      expect(resolveDatabaseUrl({ env: { DATABASE_URL_FILE: file } })).toBe('postgres://u:p@db:5432/app');
      expect(resolveDatabaseUrl({ env: { DATABASE_URL: 'postgres://ignored' }, file })).toBe('postgres://u:p@db:5432/app');
      expect(() => resolveDatabaseUrl({ env: {} })).toThrow(/DATABASE_URL.*DATABASE_URL_FILE/);
      expect(() => resolveDatabaseUrl({ env: { DATABASE_URL: '  ' } })).toThrow(/DATABASE_URL is set but empty/);
      expect(() => resolveDatabaseUrl({ env: { DATABASE_URL: 'postgres://a', DATABASE_URL_FILE: file } })).toThrow(/both set/);
      expect(() => resolveDatabaseUrl({ env: { DATABASE_URL_FILE: join(dir, 'missing') } })).toThrow(/DATABASE_URL_FILE: cannot read .*missing.*ENOENT/);
      writeFileSync(file, '\n');
      expect(() => resolveDatabaseUrl({ env: { DATABASE_URL_FILE: file } })).toThrow(/DATABASE_URL_FILE: .* is empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
