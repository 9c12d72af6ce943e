// Migrations and seeding against a real PostgreSQL 15.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { loadMigrations, migrate } from './migrate.js';
import { DEMO_USER, SEED_SIZES, generateEntities, seed } from './seed.js';
import { verifyPassword } from './password.js';

let pg: TestPostgres;

beforeAll(async () => {
  pg = await startPostgres();
});

afterAll(async () => {
  await pg?.stop();
});

const checksum = async () =>
  (
    await pg.query<{ count: string; sum: string }>(
      `SELECT count(*) AS count,
              md5(string_agg(id || '|' || name || '|' || category || '|' || attributes::text || '|' || created_at::text || '|' || updated_at::text, E'\\n' ORDER BY id)) AS sum
         FROM entities`,
    )
  )[0];

describe('migrate', () => {
  it('applies every migration once and is idempotent', async () => {
    const all = (await loadMigrations()).map((m) => m.version);
    expect(all.length).toBeGreaterThanOrEqual(3);

    const first = await migrate(pg.url);
    expect(first.applied).toEqual(all);
    const second = await migrate(pg.url);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(all);

    const recorded = await pg.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(recorded.map((r) => r.version)).toEqual(all);
    const tables = await pg.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['entities', 'files', 'schema_migrations', 'sessions', 'users']));
    const indexes = await pg.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'entities_name_trgm_idx'");
    expect(indexes[0]?.indexdef).toMatch(/USING gin \(name gin_trgm_ops\)/);
  });

  it('runs concurrently without applying anything twice', async () => {
    const results = await Promise.all([migrate(pg.url), migrate(pg.url)]);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });
});

describe('seed', () => {
  it('generates the same rows every time', () => {
    const a = [...generateEntities(50)];
    const b = [...generateEntities(50)];
    expect(a).toEqual(b);
    expect(new Set(a.map((e) => e.name)).size).toBeGreaterThan(45);
  });

  it('seeds small deterministically (same checksum twice) with the demo user', async () => {
    const first = await seed(pg.url, 'small');
    expect(first.rows).toBe(SEED_SIZES.small);
    const a = await checksum();
    const second = await seed(pg.url, 'small');
    const b = await checksum();
    expect(a?.count).toBe(String(SEED_SIZES.small));
    expect(b).toEqual(a);
    console.log(`seed small: ${first.seconds.toFixed(2)} s, again ${second.seconds.toFixed(2)} s`);

    const users = await pg.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE username = $1', [DEMO_USER.username]);
    expect(users).toHaveLength(1);
    expect(await verifyPassword(DEMO_USER.password, users[0]!.password_hash)).toBe(true);
    expect(await verifyPassword('wrong', users[0]!.password_hash)).toBe(false);

    // The sequence continues after the seeded ids; the trigram index was rebuilt.
    const [next] = await pg.query<{ id: string }>("INSERT INTO entities (name, category) VALUES ('x', 'y') RETURNING id");
    expect(Number(next!.id)).toBe(SEED_SIZES.small + 1);
    const indexes = await pg.query("SELECT 1 FROM pg_indexes WHERE indexname IN ('entities_name_trgm_idx', 'entities_category_idx')");
    expect(indexes).toHaveLength(2);
  });

  it('seeds medium (100k entities) and the search plan uses the trigram GIN index', async () => {
    const result = await seed(pg.url, 'medium');
    console.log(`seed medium (100k): ${result.seconds.toFixed(2)} s`);
    expect(result.rows).toBe(100_000);
    expect((await checksum())?.count).toBe('100000');
    // The first 1k rows of every size are the small set.
    const small = [...generateEntities(3)];
    const rows = await pg.query<{ name: string }>('SELECT name FROM entities WHERE id <= 3 ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(small.map((e) => e.name));

    // With 100k analysed rows the planner picks the index by itself.
    const target = small[0]!.name;
    const plan = await pg.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id, name, similarity(name, $1) AS score FROM entities WHERE name % $1 ORDER BY score DESC, id LIMIT 10`,
      [target.slice(0, -1)],
    );
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('Bitmap Index Scan on entities_name_trgm_idx');
  });
});
