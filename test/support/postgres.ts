// Test harness: a throwaway PostgreSQL 15 server on a loopback port, in a temporary folder.
//
//   const pg = await startPostgres();     // initdb, start, CREATE EXTENSION pg_stat_statements, pg_trgm
//   ... new pg.Pool({ connectionString: pg.url }) ...
//   await pg.stopServer(); await pg.startServer();   // simulate an outage, same port and data
//   await pg.stop();                      // pg_ctl stop -m fast, then remove the folder
//
// As root the binaries run as the `postgres` user (runuser), which owns the data and socket folders;
// as any other user they run as that user. See DESIGN.md, "The machines".

import { execFile, spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../stack/index.js';

export const DEFAULT_PG_BIN_DIR = '/usr/lib/postgresql/15/bin';

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

interface CommandResult {
  stdout: string;
  stderr: string;
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

function run(command: string, args: string[], cwd: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = [String(stdout).trim(), String(stderr).trim()].filter(Boolean).join('\n');
        reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}${detail ? `\n${detail}` : ''}`));
      } else {
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      }
    });
  });
}

async function checkExecutable(path: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(
      `PostgreSQL binary not found or not executable: ${path}. ` +
        'Install PostgreSQL 15 (Debian: apt-get install postgresql) or set PERFSTACK_PG_BIN to the folder holding initdb and pg_ctl.',
    );
  }
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = Number((await run('id', ['-u', 'postgres'], '/')).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'], '/')).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('unexpected output of id');
    return { uid, gid };
  } catch (error) {
    throw new Error(
      `Running as root, PostgreSQL must run as the "postgres" user, which was not found (${(error as Error).message}). ` +
        'Install the postgresql package, which creates it.',
    );
  }
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Starts a fresh PostgreSQL server for tests; call stop() in afterAll. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const binDir = options.binDir ?? process.env.PERFSTACK_PG_BIN ?? DEFAULT_PG_BIN_DIR;
  const database = options.database ?? 'perfstack';
  const timeout = String(options.timeoutSeconds ?? 30);
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) {
    throw new Error(`startPostgres: database name "${database}" must be a plain lower-case identifier`);
  }
  const initdb = join(binDir, 'initdb');
  const pgCtl = join(binDir, 'pg_ctl');
  await checkExecutable(initdb);
  await checkExecutable(pgCtl);
  await checkExecutable(join(binDir, 'postgres'));

  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? await postgresIds() : undefined;
  if (asRoot) {
    try {
      await access('/usr/sbin/runuser', constants.X_OK).catch(() => access('/sbin/runuser', constants.X_OK));
    } catch {
      throw new Error('Running as root needs runuser (util-linux) to start PostgreSQL as the postgres user');
    }
  }

  const rootDir = await mkdtemp(join(tmpdir(), 'perfstack-pg-'));
  const dataDir = join(rootDir, 'data');
  const socketDir = join(rootDir, 'socket');
  const logFile = join(rootDir, 'postgres.log');
  const user = 'postgres';
  let port = 0;
  let running = false;
  let removed = false;

  /** Runs a PostgreSQL binary as the owner of the data folder. */
  const asOwner = (binary: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', binary, ...args], rootDir) : run(binary, args, rootDir);

  const readLog = async () => {
    try {
      return tail(await readFile(logFile, 'utf8'));
    } catch {
      return '(no server log)';
    }
  };

  const emergency = {
    emergencyStop() {
      if (running) spawnSync(asRoot ? 'runuser' : pgCtl, asRoot ? ['-u', 'postgres', '--', pgCtl, '-D', dataDir, 'stop', '-m', 'immediate'] : ['-D', dataDir, 'stop', '-m', 'immediate'], { cwd: rootDir, stdio: 'ignore' });
      running = false;
      if (!removed) rmSync(rootDir, { recursive: true, force: true });
      removed = true;
    },
  };

  const startServer = async (): Promise<void> => {
    if (running) return;
    try {
      await asOwner(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', timeout, 'start']);
    } catch (error) {
      throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${(error as Error).message}\nserver log:\n${await readLog()}`);
    }
    running = true;
  };

  const stopServer = async (): Promise<void> => {
    if (!running) return;
    try {
      await asOwner(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', '-t', timeout, 'stop']);
    } catch (error) {
      throw new Error(`PostgreSQL did not stop: ${(error as Error).message}\nserver log:\n${await readLog()}`);
    }
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
    await mkdir(socketDir, { mode: 0o700 });
    await chmod(rootDir, 0o700);
    if (ids) {
      await chown(rootDir, ids.uid, ids.gid);
      await chown(socketDir, ids.uid, ids.gid);
    }
    // --no-sync: a test database does not need to survive a power cut, and initdb is much faster.
    await asOwner(initdb, ['-D', dataDir, '--auth=trust', '--username', user, '--encoding=UTF8', '--locale=C', '--no-sync']);

    const conf = join(dataDir, 'postgresql.conf');
    const baseSettings = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${socketDir}'`,
      "shared_preload_libraries = 'pg_stat_statements'",
      'pg_stat_statements.track = all',
      // Durability is irrelevant for throwaway test data; these make start-up and writes fast.
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      ...(options.settings ?? []),
    ];

    await appendFile(conf, `\n# perfstack test harness\n${baseSettings.join('\n')}\n`);

    // The port comes from freePort(); another process may grab it before postgres binds, so retry.
    // The last `port` line in postgresql.conf wins.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !running; attempt++) {
      port = await freePort();
      await appendFile(conf, `port = ${port}\n`);
      try {
        await startServer();
      } catch (error) {
        lastError = error;
      }
    }
    if (!running) throw lastError;

    const admin = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    const client = new pg.Client({ host: '127.0.0.1', port, user, database });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    } finally {
      await client.end();
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }

  return {
    url: `postgres://${user}@127.0.0.1:${port}/${database}`,
    host: '127.0.0.1',
    port,
    user,
    database,
    rootDir,
    dataDir,
    socketDir,
    logFile,
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
