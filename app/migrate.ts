// Schema migrations: numbered SQL files in app/migrations/ (NNN_name.sql), applied in order, each in
// its own transaction, recorded in schema_migrations with a checksum. Running migrate() again
// applies only what is new; an applied file that has since changed is an error (write a new one).

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Any fixed number: the advisory lock that keeps two migrate() runs from interleaving. */
const MIGRATION_LOCK_ID = 7_402_113_019;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** Versions applied by this run, in order. */
  applied: number[];
  /** Versions that were already there. */
  skipped: number[];
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Reads the migration files, sorted by version; rejects gaps in naming and duplicate versions. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file "${file}" must be named NNN_lower_case_name.sql`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`migration version ${version} is used twice (${file})`);
    migrations.push({ version, name: match[2] as string, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Applies the pending migrations to the database at databaseUrl. Safe to run any number of times. */
export async function migrate(databaseUrl: string, options: { log?: (line: string) => void; dir?: string } = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(options.dir);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'perfstack-migrate' });
  await client.connect();
  const result: MigrateResult = { applied: [], skipped: [] };
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      for (const migration of migrations) {
        const label = `${String(migration.version).padStart(3, '0')}_${migration.name}`;
        const checksum = done.get(migration.version);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) {
            throw new Error(`migration ${label} was changed after it was applied; add a new migration instead`);
          }
          result.skipped.push(migration.version);
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${label} failed: ${(error as Error).message}`);
        }
        result.applied.push(migration.version);
        options.log?.(`migrate: applied ${label}`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return result;
}
