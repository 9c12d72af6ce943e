import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { captureExplains, notPlainSelect, type ExplainCapture } from './index.js';

// `analyze --explain` on a real PostgreSQL 15 with pg_stat_statements: statements of every kind run
// first, then the capture must explain the plain SELECTs and never let anything write.

describe('EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECT statements', () => {
  let postgres: TestPostgres;
  let captures: ExplainCapture[];
  const find = (pattern: RegExp) => captures.find((c) => pattern.test(c.query));

  beforeAll(async () => {
    postgres = await startPostgres();
    const setup = [
      'CREATE TABLE items (id int PRIMARY KEY, k int NOT NULL, v text NOT NULL)',
      "INSERT INTO items SELECT g, g % 100, md5(g::text) FROM generate_series(1, 20000) g",
      'CREATE TABLE side_effects (at timestamptz NOT NULL DEFAULT now())',
      // A SELECT that writes: EXPLAIN ANALYZE would run it, the read-only transaction must refuse.
      "CREATE FUNCTION sneaky_write() RETURNS int LANGUAGE sql AS 'INSERT INTO side_effects DEFAULT VALUES RETURNING 1'",
      'CREATE TABLE grid (n int NOT NULL)',
      'INSERT INTO grid SELECT generate_series(1, 300)',
      'ANALYZE items',
      'SELECT pg_stat_statements_reset()',
    ];
    for (const statement of setup) await postgres.query(statement);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      for (let i = 0; i < 5; i++) {
        await client.query('SELECT sum(length(v)) FROM items'); // no constants: runs as it is
        await client.query('SELECT id, v FROM items WHERE k = $1 ORDER BY id LIMIT 10', [i]); // parameters
        await client.query('SELECT sneaky_write()');
        await client.query('BEGIN');
        await client.query('SELECT id FROM items WHERE id = $1 FOR UPDATE', [i + 1]);
        await client.query('COMMIT');
        await client.query('UPDATE items SET v = v WHERE id = $1', [i + 1]);
      }
      // Fast now, slow later: the cross join grows 300² → 3000² × 3000 rows after the insert below.
      await client.query('SELECT count(*) FROM grid a, grid b, grid c');
    } finally {
      await client.end();
    }
    await postgres.query('INSERT INTO grid SELECT generate_series(1, 2700)');
    await postgres.query('TRUNCATE side_effects');
    captures = await captureExplains(postgres.url, { limit: 10, statementTimeoutMs: 1000 });
  }, 120_000);

  afterAll(async () => {
    await postgres?.stop();
  });

  it('runs EXPLAIN (ANALYZE, BUFFERS) on a SELECT without parameters', () => {
    const plain = find(/sum\(length\(v\)\)/);
    expect(plain?.mode).toBe('analyze');
    expect(plain?.plan).toMatch(/actual time=/);
    expect(plain?.plan).toMatch(/Buffers: shared/);
  });

  it('gives a parameterised statement a generic plan, planned but not run', () => {
    const generic = find(/WHERE k = \$1 ORDER BY id/);
    expect(generic?.mode).toBe('generic-plan');
    expect(generic?.plan).toMatch(/items/);
    expect(generic?.plan).not.toMatch(/actual time=/);
    expect(generic?.note).toMatch(/planned, not run/);
  });

  it('never lets a SELECT write: the read-only transaction refuses it', async () => {
    const sneaky = find(/sneaky_write/);
    expect(sneaky?.mode).toBe('skipped');
    expect(sneaky?.note).toMatch(/read-only transaction/);
    expect(await postgres.query('SELECT count(*)::int AS n FROM side_effects')).toEqual([{ n: 0 }]);
  });

  it('skips what is not a plain SELECT, and leaves writes out entirely', () => {
    expect(find(/FOR UPDATE/)?.note).toMatch(/skipped: locks rows/);
    expect(find(/^\s*UPDATE/)).toBeUndefined();
    expect(notPlainSelect('WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x')).toBe('not a SELECT');
    expect(notPlainSelect('SELECT 1; DROP TABLE t')).toBe('more than one statement');
    expect(notPlainSelect('SELECT * INTO copy FROM t')).toBe('SELECT INTO creates a table');
    expect(notPlainSelect('SELECT id FROM t WHERE k = $1')).toBeUndefined();
  });

  it('cancels a statement that runs past the statement timeout', () => {
    const slow = find(/grid a, grid b, grid c/);
    expect(slow?.mode).toBe('skipped');
    expect(slow?.note).toBe('skipped: cancelled by statement_timeout after 1000 ms');
  });
});
