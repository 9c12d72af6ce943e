import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dbClient } from '../../metrics/index.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { instrumentPool, withQuerySummary, type InstrumentedPool } from './index.js';

const L = dbClient.labels;
let server: TestPostgres;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startPostgres();
  await server.query('CREATE TABLE entities (id int PRIMARY KEY, name text NOT NULL, token text)');
  await server.query("INSERT INTO entities SELECT g, 'entity ' || g, 'tok' || g FROM generate_series(1, 50) g");
});

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pool on the test server, instrumented into `registry`, ended after the test. */
function makePool(
  registry: Registry,
  poolName: string,
  config: pg.PoolConfig = {},
  options: { maxQuerySummaries?: number } = {},
): { pool: pg.Pool; handle: InstrumentedPool } {
  const pool = new pg.Pool({ connectionString: server.url, max: 4, ...config });
  pool.on('error', () => undefined); // idle clients dropped by an outage
  const handle = instrumentPool(pool, { poolName, registry, ...options });
  cleanups.push(async () => {
    handle.uninstrument();
    await pool.end();
  });
  return { pool, handle };
}

/** Sum of the series of `family` (or one of its _count/_sum/_bucket series) whose labels are exactly `labels`. */
async function sample(registry: Registry, family: string, labels: Record<string, string>, series = family): Promise<number> {
  const metric = registry.getSingleMetric(family);
  if (!metric) throw new Error(`no metric ${family}`);
  const data = await metric.get();
  const wanted = Object.keys(labels).sort().join(',');
  let total = 0;
  for (const value of data.values) {
    const name = (value as { metricName?: string }).metricName ?? family;
    if (name !== series) continue;
    const keys = Object.keys(value.labels).filter((key) => key !== 'le').sort().join(',');
    if (keys !== wanted) continue;
    if (Object.entries(labels).every(([key, v]) => String(value.labels[key]) === v)) total += value.value;
  }
  return total;
}

const poolLabels = (name: string) => ({ [L.system]: 'postgresql', [L.pool]: name });

describe('instrumentPool against a real PostgreSQL', () => {
  it('moves the pool gauges when exhausted and counts acquire timeouts', async () => {
    const registry = new Registry();
    const { pool } = makePool(registry, 'exhaust', { max: 2, connectionTimeoutMillis: 300 });
    const labels = poolLabels('exhaust');

    const a = await pool.connect();
    const b = await pool.connect();
    expect(await sample(registry, dbClient.connectionCount, { ...labels, [L.state]: 'used' })).toBe(2);
    expect(await sample(registry, dbClient.connectionCount, { ...labels, [L.state]: 'idle' })).toBe(0);
    expect(await sample(registry, dbClient.connectionMax, labels)).toBe(2);
    expect(await sample(registry, dbClient.connectionIdleMin, labels)).toBe(0);
    expect(await sample(registry, dbClient.pendingRequests, labels)).toBe(0);

    const waitingConnect = pool.connect();
    const waitingQuery = pool.query('SELECT 1');
    expect(await sample(registry, dbClient.pendingRequests, labels)).toBe(2);

    const [connectOutcome, queryOutcome] = await Promise.allSettled([waitingConnect, waitingQuery]);
    expect(connectOutcome.status).toBe('rejected');
    expect(queryOutcome.status).toBe('rejected');
    expect((connectOutcome as PromiseRejectedResult).reason.message).toBe('timeout exceeded when trying to connect');
    expect((queryOutcome as PromiseRejectedResult).reason.message).toBe('timeout exceeded when trying to connect');
    expect(await sample(registry, dbClient.timeouts, labels)).toBe(2);
    expect(await sample(registry, dbClient.pendingRequests, labels)).toBe(0);

    a.release();
    b.release();
    expect(await sample(registry, dbClient.connectionCount, { ...labels, [L.state]: 'used' })).toBe(0);
    expect(await sample(registry, dbClient.connectionCount, { ...labels, [L.state]: 'idle' })).toBe(2);
    // 2 successful acquires + 2 timed out ones waited; 2 checkouts were used; 2 connections created
    expect(await sample(registry, dbClient.waitTime, labels, `${dbClient.waitTime}_count`)).toBe(4);
    expect(await sample(registry, dbClient.useTime, labels, `${dbClient.useTime}_count`)).toBe(2);
    expect(await sample(registry, dbClient.createTime, labels, `${dbClient.createTime}_count`)).toBe(2);
    expect(await sample(registry, dbClient.createTime, labels, `${dbClient.createTime}_sum`)).toBeGreaterThan(0);
  });

  it('counts the connection-establishment timeout too', async () => {
    // A TCP server that accepts and never answers: the startup handshake hangs.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const registry = new Registry();
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', connectionTimeoutMillis: 200 });
    const handle = instrumentPool(pool, { poolName: 'silent', registry });
    cleanups.push(async () => {
      handle.uninstrument();
      await pool.end();
    });

    await expect(pool.query('SELECT 1')).rejects.toThrow('Connection terminated due to connection timeout');
    const error = await pool.connect().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe('Connection terminated due to connection timeout');
    expect(await sample(registry, dbClient.timeouts, poolLabels('silent'))).toBe(2);
    expect(await sample(registry, dbClient.createTime, poolLabels('silent'), `${dbClient.createTime}_count`)).toBe(0);
  });

  it('records one operation per query, by summary, with results unchanged', async () => {
    const registry = new Registry();
    const { pool } = makePool(registry, 'ops');
    const plain = new pg.Pool({ connectionString: server.url, max: 1 });
    cleanups.push(() => plain.end());
    const labels = poolLabels('ops');
    const op = (operation: string, summary: string) => ({ ...labels, [L.operation]: operation, [L.querySummary]: summary });

    const N = 7;
    for (let i = 1; i <= N; i++) {
      const result = await pool.query('SELECT id, name FROM entities WHERE id = $1', [i]);
      expect(result.rows).toEqual([{ id: i, name: `entity ${i}` }]);
    }
    const byId = op('SELECT', 'SELECT id, name FROM entities WHERE id = ?');
    expect(await sample(registry, dbClient.operationDuration, byId, `${dbClient.operationDuration}_count`)).toBe(N);

    // Same statement through a checked-out client: promise, callback and config styles.
    const client = await pool.connect();
    try {
      await client.query('SELECT id, name FROM entities WHERE id = $1', [8]);
      const viaCallback = await new Promise<pg.QueryResult>((resolve, reject) =>
        client.query('SELECT id, name FROM entities WHERE id = $1', [9], (err, res) => (err ? reject(err) : resolve(res))),
      );
      expect(viaCallback.rows).toEqual([{ id: 9, name: 'entity 9' }]);
      await client.query({ text: 'SELECT id, name FROM entities WHERE id = $1', values: [10] });
      // a caller-given name is the summary
      const named = await client.query({ name: 'entity-by-id', text: 'SELECT id, name FROM entities WHERE id = $1', values: [11] });
      expect(named.rows).toEqual([{ id: 11, name: 'entity 11' }]);
      const tagged = await client.query(withQuerySummary('count entities', 'SELECT count(*)::int AS n FROM entities WHERE id > $1', [40]));
      expect(tagged.rows).toEqual([{ n: 10 }]);
    } finally {
      client.release();
    }
    expect(await sample(registry, dbClient.operationDuration, byId, `${dbClient.operationDuration}_count`)).toBe(N + 3);
    expect(await sample(registry, dbClient.operationDuration, op('SELECT', 'entity-by-id'), `${dbClient.operationDuration}_count`)).toBe(1);
    expect(await sample(registry, dbClient.operationDuration, op('SELECT', 'count entities'), `${dbClient.operationDuration}_count`)).toBe(1);

    // pool.query with a callback still works
    const cbResult = await new Promise<pg.QueryResult>((resolve, reject) =>
      pool.query('SELECT 1 AS one', (err: Error, res: pg.QueryResult) => (err ? reject(err) : resolve(res))),
    );
    expect(cbResult.rows).toEqual([{ one: 1 }]);

    // Results are identical to an uninstrumented pool's.
    const mine = await pool.query("SELECT id, name, token FROM entities WHERE name LIKE 'entity 1%' ORDER BY id");
    const theirs = await plain.query("SELECT id, name, token FROM entities WHERE name LIKE 'entity 1%' ORDER BY id");
    expect(mine.rows).toEqual(theirs.rows);
    expect(mine.rowCount).toBe(theirs.rowCount);
    expect(mine.command).toBe(theirs.command);
  });

  it('labels failures with error_type and rethrows the original error unchanged', async () => {
    const registry = new Registry();
    const { pool } = makePool(registry, 'errors');
    const plain = new pg.Pool({ connectionString: server.url, max: 1 });
    cleanups.push(() => plain.end());
    const labels = poolLabels('errors');

    const mine = await pool.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    const theirs = await plain.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(mine).toBeInstanceOf(pg.DatabaseError);
    expect((mine as pg.DatabaseError).code).toBe('42P01');
    expect((mine as Error).message).toBe((theirs as Error).message);
    expect(Object.keys(mine as object).sort()).toEqual(Object.keys(theirs as object).sort());

    // callback style: the very same error object reaches the callback
    const client = await pool.connect();
    try {
      const viaCallback = await new Promise<unknown>((resolve) => client.query('SELECT 1/0', (err) => resolve(err)));
      expect((viaCallback as pg.DatabaseError).code).toBe('22012');
      // synchronous argument errors are thrown as before
      expect(() => client.query(null as unknown as string)).toThrow(TypeError);
    } finally {
      client.release();
    }

    const failed = { ...labels, [L.operation]: 'SELECT', [L.querySummary]: 'SELECT * FROM no_such_table', [L.errorType]: '42P01' };
    expect(await sample(registry, dbClient.operationDuration, failed, `${dbClient.operationDuration}_count`)).toBe(1);
    const divided = { ...labels, [L.operation]: 'SELECT', [L.querySummary]: 'SELECT ? / ?', [L.errorType]: '22012' };
    expect(await sample(registry, dbClient.operationDuration, divided, `${dbClient.operationDuration}_count`)).toBe(1);
  });

  it('caps summaries with "other" and never exposes a literal', async () => {
    const registry = new Registry();
    const { pool, handle } = makePool(registry, 'capped', {}, { maxQuerySummaries: 3 });
    const secret = 'sUp3rS3cret-Token';
    const secretNumber = 987654321;
    await pool.query(`SELECT count(*) FROM entities WHERE token = '${secret}'`);
    await pool.query(`SELECT count(*) FROM entities WHERE id = ${secretNumber} OR name = E'${secret}\\n'`);
    await pool.query(`SELECT id FROM entities WHERE token IN ('${secret}', 'b', 'c') AND name % $$${secret}$$`);
    // past the cap of 3
    await pool.query(`SELECT name FROM entities WHERE token = '${secret}' LIMIT 1`);
    await pool.query(`UPDATE entities SET token = '${secret}' WHERE id = ${secretNumber}`);
    await pool.query(`SELECT * FROM no_table WHERE token = '${secret}'`).catch(() => undefined);

    expect(handle.querySummaries()).toHaveLength(3);
    const labels = poolLabels('capped');
    const other = (operation: string, extra: Record<string, string> = {}) => ({
      ...labels,
      [L.operation]: operation,
      [L.querySummary]: dbClient.overflowSummary,
      ...extra,
    });
    expect(await sample(registry, dbClient.operationDuration, other('SELECT'), `${dbClient.operationDuration}_count`)).toBe(1);
    expect(await sample(registry, dbClient.operationDuration, other('UPDATE'), `${dbClient.operationDuration}_count`)).toBe(1);
    expect(
      await sample(registry, dbClient.operationDuration, other('SELECT', { [L.errorType]: '42P01' }), `${dbClient.operationDuration}_count`),
    ).toBe(1);

    const text = await registry.metrics();
    expect(text).toContain(`${L.querySummary}="other"`);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(String(secretNumber));
    expect(text).not.toContain('tok1');
  });

  it('spends a summary slot only on the summary actually used', async () => {
    const registry = new Registry();
    const { pool, handle } = makePool(registry, 'slots', {}, { maxQuerySummaries: 2 });
    // named and tagged statements: their normalised text is never a label, so it takes no slot
    await pool.query({ name: 'entity-by-id', text: 'SELECT id FROM entities WHERE id = $1', values: [1] });
    await pool.query(withQuerySummary('entity-by-id', 'SELECT name FROM entities WHERE id = $1', [2]));
    await pool.query('SELECT count(*) FROM entities');
    expect(handle.querySummaries()).toEqual(['entity-by-id', 'SELECT count(*) FROM entities']);
    const ok = (summary: string) => ({ ...poolLabels('slots'), [L.operation]: 'SELECT', [L.querySummary]: summary });
    expect(await sample(registry, dbClient.operationDuration, ok('entity-by-id'), `${dbClient.operationDuration}_count`)).toBe(2);
    expect(await sample(registry, dbClient.operationDuration, ok('SELECT count(*) FROM entities'), `${dbClient.operationDuration}_count`)).toBe(1);
  });

  it('counts transactions by outcome', async () => {
    const registry = new Registry();
    const { pool } = makePool(registry, 'tx');
    const labels = poolLabels('tx');
    await pool.query('CREATE TABLE IF NOT EXISTS tx_test (id int PRIMARY KEY)');

    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO tx_test VALUES (1)');
      await client.query('COMMIT');

      await client.query('BEGIN');
      await client.query('INSERT INTO tx_test VALUES (2)');
      await client.query('ROLLBACK');

      // A failed transaction: COMMIT answers ROLLBACK.
      await client.query('BEGIN');
      await expect(client.query('INSERT INTO tx_test VALUES (1)')).rejects.toMatchObject({ code: '23505' });
      const commit = await client.query('COMMIT');
      expect(commit.command).toBe('ROLLBACK');

      // savepoints do not end the transaction
      await client.query('START TRANSACTION');
      await client.query('SAVEPOINT s1');
      await client.query('ROLLBACK TO SAVEPOINT s1');
      await client.query('END');
    } finally {
      client.release();
    }
    expect(await sample(registry, dbClient.transactions, { ...labels, [L.outcome]: 'commit' })).toBe(2);
    expect(await sample(registry, dbClient.transactions, { ...labels, [L.outcome]: 'rollback' })).toBe(2);
    expect((await pool.query('SELECT id FROM tx_test ORDER BY id')).rows).toEqual([{ id: 1 }]);
  });

  it('publishes several pools into one registry, and refuses duplicate names', async () => {
    const registry = new Registry();
    const { pool: reads } = makePool(registry, 'reads', { max: 3 });
    const { pool: writes } = makePool(registry, 'writes', { max: 5 });
    await reads.query('SELECT 1');
    await writes.query('SELECT 1');
    await writes.query('SELECT 2');

    expect(await sample(registry, dbClient.connectionMax, poolLabels('reads'))).toBe(3);
    expect(await sample(registry, dbClient.connectionMax, poolLabels('writes'))).toBe(5);
    const summary = (name: string) => ({ ...poolLabels(name), [L.operation]: 'SELECT', [L.querySummary]: 'SELECT ?' });
    expect(await sample(registry, dbClient.operationDuration, summary('reads'), `${dbClient.operationDuration}_count`)).toBe(1);
    expect(await sample(registry, dbClient.operationDuration, summary('writes'), `${dbClient.operationDuration}_count`)).toBe(2);

    const third = new pg.Pool({ connectionString: server.url });
    cleanups.push(() => third.end());
    expect(() => instrumentPool(third, { poolName: 'reads', registry })).toThrow(/already instrumented/);
    expect(() => instrumentPool(reads, { poolName: 'again', registry: new Registry() })).toThrow(/already instrumented/);
  });

  it('passes promtool check metrics', async () => {
    const registry = new Registry();
    const { pool } = makePool(registry, 'lint', { max: 2 });
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query('SELECT 1');
    await client.query('COMMIT');
    client.release();
    await pool.query('SELECT * FROM nowhere').catch(() => undefined);

    const text = await registry.metrics();
    for (const name of [dbClient.connectionCount, dbClient.operationDuration, dbClient.transactions, dbClient.timeouts]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    const promtool = (input: string) => {
      const result = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input, encoding: 'utf8' });
      expect(result.error).toBeUndefined();
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };

    // Everything but the connection-count family lints clean.
    const family = dbClient.connectionCount;
    const withoutCount = text
      .split('\n')
      .filter((line) => !line.startsWith(`# HELP ${family} `) && !line.startsWith(`# TYPE ${family} `) && !line.startsWith(`${family}{`))
      .join('\n');
    expect(promtool(withoutCount)).toEqual({ status: 0, output: '' });

    // KNOWN CONTRACT ISSUE: the contract's name db_client_connection_count (OTel db.client.connection.count)
    // trips promtool 2.42's lint rule against a "_count" suffix on a gauge, and promtool 2.42 cannot
    // switch lint off. That is the only problem promtool reports; the name belongs to metrics/index.ts.
    expect(promtool(text)).toEqual({
      status: 3,
      output: `${family} non-histogram and non-summary metrics should not have "_count" suffix\n`,
    });
  });

  it('survives a database outage and recovers', async () => {
    const registry = new Registry();
    const { pool } = makePool(registry, 'outage', { max: 2, connectionTimeoutMillis: 2_000 });
    const labels = poolLabels('outage');
    await pool.query('SELECT 1');

    await server.stopServer();
    try {
      const error = await pool.query('SELECT 1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
    } finally {
      await server.startServer();
    }
    expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    const ok = (summary: string) => ({ ...labels, [L.operation]: 'SELECT', [L.querySummary]: summary });
    expect(await sample(registry, dbClient.operationDuration, ok('SELECT ?'), `${dbClient.operationDuration}_count`)).toBe(1);
    expect(await sample(registry, dbClient.operationDuration, ok('SELECT ? AS two'), `${dbClient.operationDuration}_count`)).toBe(1);
    // the pool reconnected: a connection was created after the outage
    expect(await sample(registry, dbClient.createTime, labels, `${dbClient.createTime}_count`)).toBe(2);
  });
});
