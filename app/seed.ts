// Deterministic seeding: the same size always gives the same entity rows (a seeded PRNG, fixed
// timestamps), written with COPY in batches inside one transaction, so a failed seed leaves the
// previous data in place. Secondary indexes of entities are dropped before the load and rebuilt
// after it (from their own definitions in pg_indexes), which is much faster than maintaining them
// row by row. Also creates (or resets the password of) the demo user.

import cliProgress from 'cli-progress';
import pg from 'pg';
import { copyIn, copyLine } from './database.js';
import { migrate } from './migrate.js';
import { hashPassword } from './password.js';

export type SeedSize = 'small' | 'medium' | 'large';

/** Entity rows per seed size. */
export const SEED_SIZES: Readonly<Record<SeedSize, number>> = { small: 1_000, medium: 100_000, large: 1_000_000 };

/** The demo account seeded for load tests and the front-end page (not a secret: test data). */
export const DEMO_USER = { username: 'demo', password: 'perfstack-demo' } as const;

export const ENTITY_CATEGORIES = [
  'hardware', 'software', 'service', 'supplier', 'customer', 'location',
  'project', 'document', 'device', 'account', 'product', 'contract',
] as const;

const SYLLABLES = [
  'ka', 'lo', 'mi', 'ra', 'ven', 'tor', 'sel', 'dra', 'mon', 'qui', 'zan', 'pe', 'lux', 'bor', 'fin', 'gal',
  'hen', 'is', 'jor', 'kel', 'lim', 'nor', 'ost', 'pra', 'rin', 'sta', 'tul', 'umb', 'vor', 'wen', 'xil', 'yra',
  'cor', 'dex', 'el', 'fal', 'gri', 'hal', 'ith', 'mar', 'nex', 'ori', 'pol', 'quo', 'ser', 'tan', 'ul', 'zer',
] as const;
const COLORS = ['red', 'green', 'blue', 'amber', 'violet', 'teal', 'grey', 'black', 'white', 'orange'] as const;
const TAGS = ['alpha', 'beta', 'stable', 'legacy', 'critical', 'internal', 'external', 'eu', 'us', 'apac', 'archived', 'new'] as const;

/** Base of the generated timestamps: row i is created 37·i seconds after it. */
const BASE_TIME_MS = Date.UTC(2024, 0, 1);
const PRNG_SEED = 0x5eed_2024;

/** sfc32: a small, fast, seedable PRNG with good statistical quality; returns [0, 1). */
export function createRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next(); // mix the seed in
  return next;
}

export interface SeedEntity {
  id: number;
  name: string;
  category: string;
  attributes: Record<string, unknown>;
  createdAt: string;
}

/** The generator behind seed(): entity rows 1..count, the same every time. */
export function* generateEntities(count: number): Generator<SeedEntity> {
  const random = createRandom(PRNG_SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const word = () => {
    let w = pick(SYLLABLES) + pick(SYLLABLES);
    if (random() < 0.5) w += pick(SYLLABLES);
    return w.charAt(0).toUpperCase() + w.slice(1);
  };
  for (let id = 1; id <= count; id++) {
    const tagCount = Math.floor(random() * 3);
    const tags: string[] = [];
    for (let t = 0; t < tagCount; t++) tags.push(pick(TAGS));
    yield {
      id,
      name: `${word()} ${word()}`,
      category: pick(ENTITY_CATEGORIES),
      attributes: {
        color: pick(COLORS),
        weight: Math.round(random() * 100_000) / 100,
        rank: Math.floor(random() * 1000),
        active: random() < 0.8,
        tags,
      },
      createdAt: new Date(BASE_TIME_MS + id * 37_000).toISOString(),
    };
  }
}

export interface SeedOptions {
  /** Show a cli-progress bar on stderr. */
  progress?: boolean;
  /** Rows per COPY statement. Default 50 000. */
  batchSize?: number;
  /** Password of the demo user. Default DEMO_USER.password. */
  demoPassword?: string;
  log?: (line: string) => void;
}

export interface SeedResult {
  size: SeedSize;
  rows: number;
  seconds: number;
}

const CHUNK_ROWS = 1000;

/** Replaces the entities with the deterministic set for `size` and ensures the demo user. */
export async function seed(databaseUrl: string, size: SeedSize, options: SeedOptions = {}): Promise<SeedResult> {
  const rows = SEED_SIZES[size];
  if (rows === undefined) throw new Error(`seed: size must be one of ${Object.keys(SEED_SIZES).join(', ')}, got "${String(size)}"`);
  const batchSize = options.batchSize ?? 50_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`seed: batchSize must be a positive whole number, got ${batchSize}`);
  const started = performance.now();
  await migrate(databaseUrl, { log: options.log });
  const passwordHash = await hashPassword(options.demoPassword ?? DEMO_USER.password);

  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: `seed ${size} [{bar}] {percentage}% | {value}/{total} rows | {stage}`, hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(rows, 0, { stage: 'loading' });

  // A pg.Pool of one, so the COPY helper (which takes a PoolClient) can be shared with the API.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, application_name: 'perfstack-seed' });
  pool.on('error', () => undefined);
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL maintenance_work_mem = '256MB'");
    await client.query('LOCK TABLE entities IN ACCESS EXCLUSIVE MODE');
    // Secondary indexes (not the primary key or other constraints), rebuilt after the load.
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT i.indexname AS name, i.indexdef AS definition
         FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = 'entities'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = 'entities'::regclass AND c.conname = i.indexname)
        ORDER BY i.indexname`,
    );
    for (const index of indexes) await client.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
    await client.query('TRUNCATE entities RESTART IDENTITY');

    const entities = generateEntities(rows);
    let loaded = 0;
    while (loaded < rows) {
      const batchEnd = Math.min(rows, loaded + batchSize);
      function* chunks(): Generator<string> {
        let chunk = '';
        let inChunk = 0;
        for (let n = loaded; n < batchEnd; n++) {
          const e = entities.next().value as SeedEntity;
          chunk += copyLine([String(e.id), e.name, e.category, JSON.stringify(e.attributes), e.createdAt, e.createdAt]);
          if (++inChunk === CHUNK_ROWS) {
            yield chunk;
            bar?.increment(inChunk);
            chunk = '';
            inChunk = 0;
          }
        }
        if (chunk) {
          yield chunk;
          bar?.increment(inChunk);
        }
      }
      // FREEZE: the table was truncated in this transaction, so rows can be written frozen.
      await copyIn(client, 'seed.copy', 'COPY entities (id, name, category, attributes, created_at, updated_at) FROM STDIN WITH (FREEZE)', chunks());
      loaded = batchEnd;
    }
    await client.query("SELECT setval('entities_id_seq', $1)", [rows]);

    bar?.update(rows, { stage: `building ${indexes.length} index(es)` });
    for (const index of indexes) await client.query(index.definition);

    await client.query(
      `INSERT INTO users (username, password_hash) VALUES ($1, $2)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash`,
      [DEMO_USER.username, passwordHash],
    );
    await client.query('COMMIT');
    bar?.update(rows, { stage: 'analyze' });
    await client.query('ANALYZE entities');
    bar?.update(rows, { stage: 'done' });
  } catch (error) {
    failed = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    bar?.stop();
    client.release(failed);
    await pool.end().catch(() => undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  options.log?.(`seed: ${size} (${rows} entities) in ${seconds.toFixed(1)} s`);
  return { size, rows, seconds };
}
