import { describe, expect, it } from 'vitest';
import { describeStatement, normaliseStatement } from './index.js';

describe('normaliseStatement', () => {
  it.each([
    ["SELECT * FROM users WHERE email = 'a@b.c' AND id = 42", 'SELECT * FROM users WHERE email = ? AND id = ?'],
    ['select  a,b\n\t from t where x = $1', 'select a, b from t where x = ?'],
    ['SELECT * FROM t WHERE id IN (1, 2, 3, 4)', 'SELECT * FROM t WHERE id IN (?)'],
    ['SELECT * FROM t WHERE id IN ($1, $2)', 'SELECT * FROM t WHERE id IN (?)'],
    ['INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING id', 'INSERT INTO t(a, b) VALUES (?) RETURNING id'],
    ["SELECT tags FROM t WHERE tags @> ARRAY['x', 'y']", 'SELECT tags FROM t WHERE tags @> ARRAY[?]'],
    ["SELECT c::text FROM t WHERE d = '2024-01-01'::date;", 'SELECT c::text FROM t WHERE d = ?::date'],
    ['SELECT 1.5e-3, .5, 0x1F, 1_000', 'SELECT ?, ?, ?, ?'],
    ['SELECT "Odd ""Name""" FROM t1', 'SELECT "Odd ""Name""" FROM t1'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'WITH x AS (SELECT ?) SELECT * FROM x'],
  ])('%s', (sql, expected) => {
    expect(normaliseStatement(sql)).toBe(expected);
  });

  it('removes every kind of literal and comment', () => {
    const secret = 'S3CRET';
    const statements = [
      `SELECT '${secret}'`,
      `SELECT 'it''s ${secret}'`,
      `SELECT E'\\' ${secret}'`,
      `SELECT e'${secret}\\n'`,
      `SELECT $$${secret}$$`,
      `SELECT $body$ ${secret} $body$`,
      `SELECT U&'${secret}'`,
      `SELECT X'${secret}'`,
      `SELECT 1 -- ${secret}`,
      `SELECT /* outer /* ${secret} */ ${secret} */ 1`,
      `SELECT '${secret}`, // unterminated: fails closed
      `SELECT $$${secret}`,
      `SELECT /* ${secret}`,
      `SELECT 12345${secret}`,
    ];
    for (const sql of statements) expect(normaliseStatement(sql)).not.toContain(secret);
  });

  it('keeps summaries short', () => {
    const long = `SELECT ${Array.from({ length: 200 }, (_, i) => `c${i}`).join(', ')} FROM t`;
    const summary = normaliseStatement(long, 50);
    expect(summary.length).toBeLessThanOrEqual(50);
    expect(summary.endsWith('…')).toBe(true);
  });
});

describe('describeStatement', () => {
  it.each([
    ['select 1', 'SELECT', undefined],
    ['  INSERT INTO t VALUES (1)', 'INSERT', undefined],
    ['/* hi */ update t set a = 1', 'UPDATE', undefined],
    ['WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved', 'INSERT', undefined],
    ['BEGIN', 'BEGIN', 'begin'],
    ['start transaction isolation level serializable', 'START', 'begin'],
    ['COMMIT', 'COMMIT', 'commit'],
    ['END', 'END', 'commit'],
    ['ROLLBACK', 'ROLLBACK', 'rollback'],
    ['ABORT', 'ABORT', 'rollback'],
    ['ROLLBACK TO SAVEPOINT s1', 'ROLLBACK', undefined],
    ['ROLLBACK TRANSACTION TO s1', 'ROLLBACK', undefined],
    ["COMMIT PREPARED 'x'", 'COMMIT', undefined],
    ['BEGIN; SELECT 1; COMMIT', 'BEGIN', undefined],
    ['frobnicate the database', 'OTHER', undefined],
    ['', 'OTHER', undefined],
  ])('%s', (sql, operation, transaction) => {
    expect(describeStatement(sql)).toEqual({ operation, transaction });
  });
});
