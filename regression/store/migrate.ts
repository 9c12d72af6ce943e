// Schema migrations of the baseline store: numbered SQL files in regression/migrations/
// (NNN_name.sql), applied in order, each in its own transaction, recorded with a checksum in
// perfstack_regression_migrations. A session advisory lock keeps two migrate() calls (two CI jobs)
// from interleaving. Running it again applies only what is new; an applied file that has changed
// since is an error (write a new migration instead).

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { BaselineStoreError } from './errors.js';

export const REGRESSION_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
export const MIGRATIONS_TABLE = 'perfstack_regression_migrations';

/** Any fixed number, distinct from the app's migration lock. */
const LOCK_ID = 7_402_113_020;
const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export interface StoreMigration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface StoreMigrateResult {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** Versions that were already applied. */
  skipped: number[];
}

export async function loadStoreMigrations(dir: string = REGRESSION_MIGRATIONS_DIR): Promise<StoreMigration[]> {
  const migrations: StoreMigration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new BaselineStoreError('migration', file, `migration file "${file}" must be named NNN_lower_case_name.sql`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new BaselineStoreError('migration', file, `migration version ${version} is used twice (${file})`);
    }
    const sql = await readFile(join(dir, file), 'utf8');
    migrations.push({ version, name: match[2] as string, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Applies the pending migrations over one client of the pool. */
export async function migrateStore(
  pool: pg.Pool,
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<StoreMigrateResult> {
  const migrations = await loadStoreMigrations(options.dir);
  const client = await pool.connect();
  const result: StoreMigrateResult = { applied: [], skipped: [] };
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM ${MIGRATIONS_TABLE}`);
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      const known = new Set(migrations.map((m) => m.version));
      const newer = [...done.keys()].filter((v) => !known.has(v));
      if (newer.length > 0) {
        throw new BaselineStoreError(
          'migration',
          MIGRATIONS_TABLE,
          `the database has baseline-store migration(s) ${newer.join(', ')} that this code does not know; it was migrated by a newer perfstack`,
        );
      }
      for (const migration of migrations) {
        const label = `${String(migration.version).padStart(3, '0')}_${migration.name}`;
        const checksum = done.get(migration.version);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) {
            throw new BaselineStoreError('migration', `${label}.sql`, `migration ${label} was changed after it was applied; add a new migration instead`);
          }
          result.skipped.push(migration.version);
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new BaselineStoreError('migration', `${label}.sql`, `migration ${label} failed: ${(error as Error).message}`, { cause: error });
        }
        result.applied.push(migration.version);
        options.log?.(`regression store: applied migration ${label}`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
  return result;
}
