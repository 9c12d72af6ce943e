// A PostgreSQL 15 cluster in a folder we choose, on a loopback port: initdb, pg_ctl start/stop, a
// database with its extensions. The native stack keeps one under its state folder; the test harness
// (test/support/postgres.ts) makes throwaway ones.
//
// As root the binaries run as the `postgres` user (runuser), which owns the data and socket folders
// (mode 700); as any other user they run as that user. See DESIGN.md, "The machines".

import { execFile, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

export const DEFAULT_PG_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** The superuser initdb creates; every connection perfstack makes uses it. */
export const POSTGRES_USER = 'postgres';

export type PostgresStopMode = 'smart' | 'fast' | 'immediate';

export interface PostgresClusterOptions {
  /** The cluster's data folder; created (owned by postgres, mode 700) by init(). */
  dataDir: string;
  /** Folder for the Unix socket, private to the server's user (mode 700). */
  socketDir: string;
  /** Server log (pg_ctl -l); created and handed to the server's user when needed. */
  logFile: string;
  /** Folder with initdb, pg_ctl, postgres and pg_isready. Default: $PERFSTACK_PG_BIN or /usr/lib/postgresql/15/bin. */
  binDir?: string;
  /** postgresql.conf lines added after perfstack's own, e.g. ["fsync = off"]. */
  settings?: string[];
  /** How long pg_ctl waits for start and stop, in seconds. Default: 30. */
  timeoutSeconds?: number;
  /**
   * Password of the postgres superuser for TCP connections (scram-sha-256); the Unix socket, in a
   * folder only the server's user can enter, stays trusted. Without a password every connection,
   * TCP included, is trusted: fine for a throwaway test cluster on 127.0.0.1, nothing else.
   */
  password?: string;
  /** initdb --no-sync: faster, for clusters that need not survive a power cut. */
  noSync?: boolean;
}

export interface PostgresCluster {
  readonly binDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly user: string;
  /** Whether the binaries run as the postgres user through runuser (we are root). */
  readonly asRoot: boolean;
  /** Whether initdb has run in dataDir. */
  isInitialised(): boolean;
  /** initdb and perfstack's postgresql.conf settings. Throws when the folder is already a cluster. */
  init(): Promise<void>;
  /** pg_ctl start on 127.0.0.1:port; resolves once the server accepts connections. */
  start(port: number): Promise<void>;
  /** pg_ctl stop (fast by default); resolves once the server is gone. */
  stop(mode?: PostgresStopMode): Promise<void>;
  /** pg_ctl stop, synchronously: for process exit hooks. Never throws. */
  stopSync(mode?: PostgresStopMode): void;
  /** The running postmaster from postmaster.pid, or undefined when none runs. */
  postmaster(): { pid: number; port: number } | undefined;
  /** pg_isready on 127.0.0.1:port. */
  isReady(port: number): Promise<boolean>;
  /** postgres://postgres[:password]@127.0.0.1:port/database: holds the password, never print it. */
  url(port: number, database: string): string;
  /** Creates the database when missing and the extensions in it; true when the database was new. */
  ensureDatabase(port: number, database: string, extensions?: readonly string[]): Promise<boolean>;
  /** The last lines of the server log, for error messages. */
  logTail(lines?: number): string;
}

interface CommandResult {
  stdout: string;
  stderr: string;
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

function checkExecutable(path: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `PostgreSQL binary not found or not executable: ${path}. ` +
        'Install PostgreSQL 15 (`perfstack bootstrap --group postgres`, or apt-get install postgresql) or set PERFSTACK_PG_BIN to the folder holding initdb and pg_ctl.',
    );
  }
}

let cachedIds: { uid: number; gid: number } | undefined;

/** uid and gid of the postgres user, which the Debian package creates. */
export function postgresIds(): { uid: number; gid: number } {
  if (cachedIds) return cachedIds;
  const id = (flag: string) => {
    const result = spawnSync('id', [flag, POSTGRES_USER], { encoding: 'utf8' });
    const value = Number(result.stdout.trim());
    if (result.status !== 0 || !Number.isInteger(value) || result.stdout.trim() === '') {
      throw new Error(
        `Running as root, PostgreSQL must run as the "${POSTGRES_USER}" user, which was not found. Install the postgresql package, which creates it.`,
      );
    }
    return value;
  };
  cachedIds = { uid: id('-u'), gid: id('-g') };
  return cachedIds;
}

function tailOf(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Describes a cluster in a folder; nothing happens on disk until init() or start(). */
export function postgresCluster(options: PostgresClusterOptions): PostgresCluster {
  const binDir = options.binDir ?? process.env.PERFSTACK_PG_BIN ?? DEFAULT_PG_BIN_DIR;
  const dataDir = resolve(options.dataDir);
  const socketDir = resolve(options.socketDir);
  const logFile = resolve(options.logFile);
  const timeout = String(options.timeoutSeconds ?? 30);
  const asRoot = process.getuid?.() === 0;
  const pgCtl = join(binDir, 'pg_ctl');

  /** Runs a PostgreSQL binary as the owner of the data folder. */
  const asOwner = (binary: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', POSTGRES_USER, '--', binary, ...args], '/') : run(binary, args, '/');

  /** A folder (or file) that only the server's user may use. */
  const ownPrivately = (path: string, mode: number) => {
    chmodSync(path, mode);
    if (asRoot) {
      const { uid, gid } = postgresIds();
      chownSync(path, uid, gid);
    }
  };

  const prepareFolders = () => {
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    ownPrivately(socketDir, 0o700);
    if (!existsSync(logFile)) writeFileSync(logFile, '', { mode: 0o600 });
    ownPrivately(logFile, 0o600);
  };

  /** As root, the postgres user must reach the folders: every folder above them needs o+x. */
  const checkReachable = (path: string) => {
    if (!asRoot) return;
    const result = spawnSync('runuser', ['-u', POSTGRES_USER, '--', 'test', '-w', path], { stdio: 'ignore' });
    if (result.error) throw new Error(`Running as root needs runuser (util-linux) to run PostgreSQL as the ${POSTGRES_USER} user: ${result.error.message}`);
    if (result.status !== 0) {
      throw new Error(
        `The ${POSTGRES_USER} user cannot write to ${path}: every folder above it must be searchable by others (chmod o+x), ` +
          'or choose a state folder outside private home folders.',
      );
    }
  };

  const logTail = (lines = 30) => {
    try {
      return tailOf(readFileSync(logFile, 'utf8'), lines) || '(the server log is empty)';
    } catch {
      return '(no server log)';
    }
  };

  const postmaster = (): { pid: number; port: number } | undefined => {
    let lines: string[];
    try {
      lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    } catch {
      return undefined;
    }
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      // A stale file after a crash may name a PID that is now something else.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmdline.includes(dataDir)) return undefined;
    } catch {
      return undefined;
    }
    return { pid, port };
  };

  const stopArgs = (mode: PostgresStopMode) => ['-D', dataDir, '-m', mode, '-w', '-t', timeout, 'stop'];

  const connect = async (port: number, database: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: POSTGRES_USER, password: options.password, database, application_name: 'perfstack-setup' });
    await client.connect();
    return client;
  };

  return {
    binDir,
    dataDir,
    socketDir,
    logFile,
    user: POSTGRES_USER,
    asRoot,
    isInitialised: () => existsSync(join(dataDir, 'PG_VERSION')),

    async init() {
      for (const binary of ['initdb', 'pg_ctl', 'postgres']) checkExecutable(join(binDir, binary));
      if (existsSync(join(dataDir, 'PG_VERSION'))) throw new Error(`${dataDir} already holds a PostgreSQL cluster`);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      ownPrivately(dataDir, 0o700);
      prepareFolders();
      checkReachable(dataDir);
      checkReachable(socketDir);

      // The password reaches initdb through a file in the private socket folder, never argv.
      const passwordFile = join(socketDir, '.initdb-password');
      const auth = options.password
        ? ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${passwordFile}`]
        : ['--auth=trust'];
      try {
        if (options.password) {
          writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
          ownPrivately(passwordFile, 0o600);
        }
        await asOwner(join(binDir, 'initdb'), [
          '-D', dataDir, ...auth, '--username', POSTGRES_USER, '--encoding=UTF8', '--locale=C', ...(options.noSync ? ['--no-sync'] : []),
        ]);
      } finally {
        rmSync(passwordFile, { force: true });
      }

      const settings = [
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${socketDir.replaceAll("'", "''")}'`,
        "shared_preload_libraries = 'pg_stat_statements'",
        'pg_stat_statements.track = all',
        ...(options.password ? ["password_encryption = 'scram-sha-256'"] : []),
        ...(options.settings ?? []),
      ];
      const conf = join(dataDir, 'postgresql.conf');
      writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n# perfstack\n${settings.join('\n')}\n`);
    },

    async start(port: number) {
      checkExecutable(pgCtl);
      prepareFolders();
      try {
        // -o: the port is a start-up option, so one data folder can move between ports.
        await asOwner(pgCtl, ['-D', dataDir, '-l', logFile, '-o', `-p ${port}`, '-w', '-t', timeout, 'start']);
      } catch (error) {
        throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${(error as Error).message}\nserver log (${logFile}):\n${logTail()}`);
      }
    },

    async stop(mode: PostgresStopMode = 'fast') {
      if (!postmaster()) return;
      try {
        await asOwner(pgCtl, stopArgs(mode));
      } catch (error) {
        throw new Error(`PostgreSQL did not stop: ${(error as Error).message}\nserver log (${logFile}):\n${logTail()}`);
      }
    },

    stopSync(mode: PostgresStopMode = 'immediate') {
      const [command, args] = asRoot ? ['runuser', ['-u', POSTGRES_USER, '--', pgCtl, ...stopArgs(mode)]] as const : [pgCtl, stopArgs(mode)] as const;
      spawnSync(command, [...args], { cwd: '/', stdio: 'ignore' });
    },

    postmaster,

    async isReady(port: number) {
      try {
        await run(join(binDir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '2'], '/');
        return true;
      } catch {
        return false;
      }
    },

    url(port: number, database: string) {
      const password = options.password ? `:${encodeURIComponent(options.password)}` : '';
      return `postgres://${POSTGRES_USER}${password}@127.0.0.1:${port}/${database}`;
    },

    async ensureDatabase(port: number, database: string, extensions: readonly string[] = []) {
      if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`database name "${database}" must be a plain lower-case identifier`);
      let created = false;
      const admin = await connect(port, 'postgres');
      try {
        const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (!rowCount) {
          await admin.query(`CREATE DATABASE ${database}`);
          created = true;
        }
      } finally {
        await admin.end();
      }
      if (extensions.length > 0) {
        const client = await connect(port, database);
        try {
          for (const extension of extensions) await client.query(`CREATE EXTENSION IF NOT EXISTS ${pg.escapeIdentifier(extension)}`);
        } finally {
          await client.end();
        }
      }
      return created;
    },

    logTail,
  };
}
