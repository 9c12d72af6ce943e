// Test harness: a throwaway PostgreSQL 15 server on a loopback port, in a temporary folder.
//
//   const pg = await startPostgres();     // initdb, start, CREATE EXTENSION pg_stat_statements, pg_trgm
//   ... new pg.Pool({ connectionString: pg.url }) ...
//   await pg.stopServer(); await pg.startServer();   // simulate an outage, same port and data
//   await pg.stop();                      // pg_ctl stop -m fast, then remove the folder
//
// The cluster itself (initdb, pg_ctl, runuser as root) is stack/postgres.ts; this file adds the
// temporary folder, the port-race retry and the exit hook. See DESIGN.md, "The machines".

import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_PG_BIN_DIR, freePort, postgresCluster, postgresIds } from '../../stack/index.js';

export { DEFAULT_PG_BIN_DIR };

export interface StartPostgresOptions {
  /** Folder with initdb, pg_ctl and postgres. Default: $PERFSTACK_PG_BIN or /usr/lib/postgresql/15/bin. */
  binDir?: string;
  /** Database created for the test (extensions are created in it). Default: "perfstack". */
  database?: string;
  /** Extra postgresql.conf lines, e.g. ["log_min_duration_statement = 0"]. */
  settings?: string[];
  /** How long pg_ctl waits for start and stop, in seconds. Default: 30. */
  timeoutSeconds?: number;
}

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/DATABASE (trust authentication, no password). */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** The temporary folder holding data/, socket/ and postgres.log. */
  rootDir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  /** Runs one statement on a fresh connection and returns the rows. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  /** Stops the server (pg_ctl stop -m fast) but keeps the data: an outage. */
  stopServer(): Promise<void>;
  /** Starts the server again on the same port with the same data. */
  startServer(): Promise<void>;
  /** stopServer() then startServer(). */
  restart(): Promise<void>;
  /** Whether the server is running right now, as far as this harness knows. */
  readonly running: boolean;
  /** Stops the server and removes the temporary folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Servers still running, stopped synchronously if the test process exits without stop(). */
const live = new Set<{ emergencyStop(): void }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of live) server.emergencyStop();
  });
}

/** Starts a fresh PostgreSQL server for tests; call stop() in afterAll. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const database = options.database ?? 'perfstack';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) {
    throw new Error(`startPostgres: database name "${database}" must be a plain lower-case identifier`);
  }
  const rootDir = await mkdtemp(join(tmpdir(), 'perfstack-pg-'));
  const cluster = postgresCluster({
    binDir: options.binDir,
    dataDir: join(rootDir, 'data'),
    socketDir: join(rootDir, 'socket'),
    logFile: join(rootDir, 'postgres.log'),
    timeoutSeconds: options.timeoutSeconds,
    noSync: true, // a test database does not need to survive a power cut, and initdb is much faster
    settings: [
      // Durability is irrelevant for throwaway test data; these make start-up and writes fast.
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      ...(options.settings ?? []),
    ],
  });
  const user = cluster.user;
  let port = 0;
  let running = false;
  let removed = false;

  const emergency = {
    emergencyStop() {
      if (running) cluster.stopSync('immediate');
      running = false;
      if (!removed) rmSync(rootDir, { recursive: true, force: true });
      removed = true;
    },
  };

  const startServer = async (): Promise<void> => {
    if (running) return;
    await cluster.start(port);
    running = true;
  };

  const stopServer = async (): Promise<void> => {
    if (!running) return;
    await cluster.stop('fast');
    running = false;
  };

  const stop = async (): Promise<void> => {
    try {
      await stopServer();
    } finally {
      live.delete(emergency);
      if (!removed) await rm(rootDir, { recursive: true, force: true });
      removed = true;
    }
  };

  live.add(emergency);
  installExitHook();

  try {
    await chmod(rootDir, 0o700);
    if (cluster.asRoot) {
      const { uid, gid } = postgresIds();
      await chown(rootDir, uid, gid);
    }
    await cluster.init();

    // The port comes from freePort(); another process may grab it before postgres binds, so retry.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !running; attempt++) {
      port = await freePort();
      try {
        await startServer();
      } catch (error) {
        lastError = error;
      }
    }
    if (!running) throw lastError;
    await cluster.ensureDatabase(port, database, ['pg_stat_statements', 'pg_trgm']);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }

  return {
    url: cluster.url(port, database),
    host: '127.0.0.1',
    port,
    user,
    database,
    rootDir,
    dataDir: cluster.dataDir,
    socketDir: cluster.socketDir,
    logFile: cluster.logFile,
    async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]) {
      const client = new pg.Client({ host: '127.0.0.1', port, user, database });
      await client.connect();
      try {
        return (await client.query<R>(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    stopServer,
    startServer,
    async restart() {
      await stopServer();
      await startServer();
    },
    get running() {
      return running;
    },
    stop,
  };
}
