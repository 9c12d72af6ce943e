import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate, seed, type SeedSize } from '../app/index.js';
import { renderYaml, type GeneratedFile, type PerfstackConfig } from '../config/index.js';
import { freePort } from './process.js';
import { longTermStoreWriteUrl, prometheusConfig } from './prometheus-config.js';
import { alertmanagerLaunch, blackboxLaunch, nodeExporterLaunch, prometheusLaunch, redisExporterLaunch, victoriaMetricsLaunch, type BinaryLaunch } from './binaries.js';
import { blackboxConfig, HEALTH_PATH } from '../alerts/index.js';
import { POSTGRES_USER, postgresCluster, type PostgresCluster } from './postgres.js';
import { redisAnswers, redisLaunch, redisUrl } from './redis.js';

// The native stack: the same services docker-compose.yml runs, as Debian binaries (and perfstack's
// own node processes) on loopback, each detached with its own log, all state under one folder,
// stopped by the PIDs recorded here.
//
//   state/stack.json             what runs: name, pid, port, url, log (no secrets)
//   state/logs/<name>.log        every component's output
//   state/postgres/data|socket   the PostgreSQL cluster (owned by postgres, mode 700)
//   state/secrets/*              mode 600: postgres_password, database_url, store_url, role passwords, admin_token, slack_api_url

/** Start order; `down` stops in the reverse order. */
export const NATIVE_COMPONENTS = ['postgres', 'redis', 'app', 'pg-stats', 'node-exporter', 'blackbox', 'redis-exporter', 'slack-capture', 'alertmanager', 'victoria-metrics', 'prometheus'] as const;
export type ComponentName = (typeof NATIVE_COMPONENTS)[number];

/** Ports tried first; a taken one falls back to a free port (and the log says so). */
export const DEFAULT_NATIVE_PORTS: Readonly<Record<ComponentName, number>> = {
  postgres: 5432,
  redis: 6379,
  app: 8080,
  'pg-stats': 9187,
  'node-exporter': 9100,
  blackbox: 9115,
  'redis-exporter': 9121,
  'slack-capture': 9099,
  alertmanager: 9093,
  'victoria-metrics': 8428,
  prometheus: 9090,
};

/** The database the reference service and the pg-stats exporter use. */
const DATABASE = 'perfstack';
const EXTENSIONS = ['pg_stat_statements', 'pg_trgm'] as const;

export interface Component {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Answers 2xx while the component is healthy (for postgres: its address, checked with pg_isready). */
  readyUrl: string;
  command: string;
  log: string;
  /** Arguments that must appear in /proc/PID/cmdline besides the command (PIDs get reused, node runs many things). */
  match?: string[];
  /** How readiness is checked; absent means http. */
  kind?: 'http' | 'postgres' | 'redis';
  /** postgres: the cluster's data folder. */
  dataDir?: string;
  /** app and pg-stats: the PostgreSQL port they were started against. */
  databasePort?: number;
  /** app and redis-exporter: the Redis port they were started against. */
  redisPort?: number;
}

interface StackState {
  components: Component[];
}

export interface NativeStackOptions {
  stateDir: string;
  /** Rule files as generated (provisioning/prometheus/rules/*.yml). */
  ruleFiles: GeneratedFile[];
  /** Writes alertmanager.yml and templates into a folder; returns the config path. */
  writeAlertmanager: (folder: string, slackApiUrlFile: string) => Promise<string>;
  /** A real Slack webhook; without one a local capture server receives and prints the messages. */
  slackWebhookUrl?: string;
  /** The command that runs perfstack's CLI, [command, ...args]. Default: this node and bin/perfstack.js. */
  perfstackCommand?: string[];
  /** The command that runs the capture server, without the port. Default: perfstackCommand + slack-capture. */
  captureCommand?: string[];
  /** The config module the app and the pg-stats exporter load (--config). Default: theirs (perfstack.config.ts in their cwd). */
  configFile?: string;
  /** Ports tried first, per component, over DEFAULT_NATIVE_PORTS; 'free' picks every port free (tests). */
  ports?: Partial<Record<ComponentName, number>> | 'free';
  /** Folder with the PostgreSQL 15 binaries. Default: $PERFSTACK_PG_BIN or /usr/lib/postgresql/15/bin. */
  postgresBinDir?: string;
  /** Seed size loaded on the first start. Default: small. */
  seedSize?: SeedSize;
  /** Remote-write to the long-term store even when config.longTermStore.enabled is off (`perfstack start --long-term-store`). */
  longTermStore?: boolean;
  log?: (line: string) => void;
}

/** Under the state folder: node_exporter's textfile collector reads *.prom files from here. */
export const TEXTFILE_FOLDER = 'textfile';

/** Where everything answers: the hook point for whatever runs against the stack (k6 scenarios). */
export interface NativeStackUrls {
  app: string;
  pgStats: string;
  nodeExporter: string;
  /** The blackbox exporter that probes each service's health endpoint. */
  blackbox: string;
  /** redis_exporter, watching the read cache's Redis server. */
  redisExporter: string;
  alertmanager: string;
  prometheus: string;
  /** Prometheus's remote-write receiver, where k6 pushes its results. */
  prometheusRemoteWrite: string;
  /** postgresql://127.0.0.1:PORT/perfstack: no credentials (they are in files.databaseUrl). */
  postgres: string;
  /** redis://127.0.0.1:PORT: the reference service's read cache. */
  redis: string;
  /** Only without a real Slack webhook. */
  slackCapture?: string;
  /** With the long-term store on: its Prometheus-compatible query API (the local VictoriaMetrics, or config.longTermStore.queryUrl). */
  longTermStore?: string;
}

export interface NativeStack {
  stateDir: string;
  /** In start order. */
  components: Component[];
  urls: NativeStackUrls;
  files: {
    /** PERFSTACK_ADMIN_TOKEN of the reference service (mode 600). */
    adminToken: string;
    /** The full PostgreSQL URL, password included (mode 600): DATABASE_URL_FILE for other commands. */
    databaseUrl: string;
    /** The baseline store's URL (role perfstack_store, database perfstack_baselines; mode 600). */
    storeUrl: string;
    postgresPassword: string;
    /** What Slack would have received (the capture server's log), when no real webhook is used. */
    slackCaptureLog?: string;
    /** node_exporter's textfile-collector folder: `perfstack compare` publishes verdicts here. */
    textfileDir: string;
  };
  /** True when this start seeded the database (its first start). */
  seeded: boolean;
}

function stateFile(stateDir: string): string {
  return join(stateDir, 'stack.json');
}

export function readStackState(stateDir: string): StackState {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return { components: [] };
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackState;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); stop the processes by hand and delete it`);
  }
}

function order(name: string): number {
  const index = (NATIVE_COMPONENTS as readonly string[]).indexOf(name);
  return index === -1 ? NATIVE_COMPONENTS.length : index;
}

function writeStackState(stateDir: string, state: StackState): void {
  const file = stateFile(stateDir);
  const components = [...state.components].sort((a, b) => order(a.name) - order(b.name));
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ components }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** True when the PID is alive and still runs the command we started (PIDs get reused). */
export function isOurProcess(component: Component): boolean {
  try {
    const cmdline = readFileSync(`/proc/${component.pid}/cmdline`, 'utf8');
    const args = cmdline.split('\0');
    return cmdline.includes(component.command) && (component.match ?? []).every((token) => args.includes(token));
  } catch {
    return false;
  }
}

async function isHttpReady(url: string): Promise<boolean> {
  // Redis speaks RESP, not HTTP: ready when it answers PING.
  if (url.startsWith('redis://')) return redisAnswers(Number(new URL(url).port));
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

function tailOf(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  } catch {
    return '(no log)';
  }
}

/** A secret file (mode 600) written atomically. */
function writeSecret(file: string, value: string): void {
  writeFileSync(`${file}.tmp`, `${value}\n`, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
}

/** Reads a generated secret, creating it the first time. */
function generatedSecret(file: string): string {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const value = readFileSync(file, 'utf8').trim();
    if (value) return value;
  }
  const value = randomBytes(24).toString('hex');
  writeSecret(file, value);
  return value;
}

interface LaunchSpec extends BinaryLaunch {
  name: string;
  port: number;
  env?: NodeJS.ProcessEnv;
  match?: string[];
  extra?: Partial<Component>;
}

async function launch(stateDir: string, spec: LaunchSpec): Promise<Component> {
  const logFile = join(stateDir, 'logs', `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', fd, fd], env: spec.env ?? process.env });
  closeSync(fd);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  child.unref();
  const url = spec.extra?.kind === 'redis' ? redisUrl(spec.port) : `http://127.0.0.1:${spec.port}`;
  const readyUrl = `${url}${spec.readyPath}`;
  const component: Component = {
    name: spec.name,
    pid: child.pid ?? -1,
    port: spec.port,
    url,
    readyUrl,
    command: spec.command,
    log: logFile,
    ...(spec.match ? { match: spec.match } : {}),
    ...spec.extra,
  };
  const deadline = Date.now() + 30_000;
  while (!(await isHttpReady(readyUrl))) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (spawnError || exited || Date.now() > deadline) {
      if (!exited && component.pid > 0) process.kill(component.pid, 'SIGTERM');
      const why = spawnError ? `could not run ${spec.command}: ${spawnError.message}` : exited ? `exited (${child.exitCode ?? child.signalCode}) before it was ready` : `was not ready at ${readyUrl} within 30 s`;
      throw new Error(`${spec.name} failed: ${why}; last lines of ${logFile}:\n${tailOf(logFile)}`);
    }
    await sleep(200);
  }
  return component;
}

async function waitForExit(isAlive: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive() && Date.now() < deadline) await sleep(100);
  return !isAlive();
}

/** Stops one http component by PID: SIGTERM, then SIGKILL after 10 s. */
async function stopByPid(component: Component): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(component.pid, name);
    } catch {
      // already gone
    }
  };
  if (!isOurProcess(component)) return;
  signal('SIGTERM');
  if (!(await waitForExit(() => isOurProcess(component), 10_000))) signal('SIGKILL');
}

/**
 * Where the PostgreSQL cluster lives. Normally state/postgres. As root, PostgreSQL runs as the
 * postgres user, which cannot enter a clone inside a home folder only its owner may enter (mode
 * 700, Debian's default since 12): then the cluster (data, socket, log) lives in
 * /var/lib/perfstack/postgres-<hash of the state folder> instead, owned by postgres, and the state
 * folder keeps a note saying where. PERFSTACK_PG_HOME overrides both.
 */
export function postgresHome(stateDir: string): string {
  if (process.env.PERFSTACK_PG_HOME) return resolve(process.env.PERFSTACK_PG_HOME);
  const inState = join(stateDir, 'postgres');
  if (process.getuid?.() !== 0) return inState;
  const reachable = spawnSync('runuser', ['-u', POSTGRES_USER, '--', 'test', '-x', stateDir], { stdio: 'ignore' }).status === 0;
  if (reachable) return inState;
  return join('/var/lib/perfstack', `postgres-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`);
}

function clusterFor(stateDir: string, binDir?: string, password?: string): PostgresCluster {
  const home = postgresHome(stateDir);
  if (home !== join(stateDir, 'postgres')) {
    mkdirSync(home, { recursive: true, mode: 0o755 });
    writeFileSync(join(stateDir, 'postgres', 'WHERE.txt'), `The postgres user cannot enter ${stateDir}, so the PostgreSQL cluster lives in ${home}.\n`);
  }
  return postgresCluster({
    binDir,
    dataDir: join(home, 'data'),
    socketDir: join(home, 'socket'),
    logFile: home === join(stateDir, 'postgres') ? join(stateDir, 'logs', 'postgres.log') : join(home, 'postgres.log'),
    password,
  });
}

/** pg_ctl stop -m fast on the recorded data folder; signals to the recorded postmaster only if that fails. */
async function stopPostgres(cluster: PostgresCluster, component: Component, log: (line: string) => void): Promise<void> {
  try {
    await cluster.stop('fast');
  } catch (error) {
    log(`postgres: ${(error as Error).message.split('\n')[0]}; sending SIGINT (fast shutdown) to pid ${component.pid}`);
    if (isOurProcess(component)) process.kill(component.pid, 'SIGINT');
  }
  if (!(await waitForExit(() => isOurProcess(component), 15_000)) && isOurProcess(component)) {
    log(`postgres: still running; sending SIGQUIT (immediate shutdown) to pid ${component.pid}`);
    process.kill(component.pid, 'SIGQUIT');
    await waitForExit(() => isOurProcess(component), 10_000);
  }
}

/**
 * The roles the reference service and the pg-stats exporter log in with (as in compose's
 * provisioning/postgres/initdb/): perfstack_app may read and write the service's tables and nothing
 * else (migrations and seeding run as postgres, here); perfstack_exporter has pg_monitor only;
 * perfstack_store owns the perfstack_baselines database and nothing else.
 * Passwords are secret files (mode 600), set again on every start.
 */
async function ensureClientRoles(superuserUrl: string, port: number, secretsDir: string): Promise<{ app: string; exporter: string; store: string }> {
  const client = new pg.Client({ connectionString: superuserUrl, application_name: 'perfstack-setup' });
  await client.connect();
  try {
    const role = async (name: string, secretName: string) => {
      const password = generatedSecret(join(secretsDir, secretName));
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (!rowCount) await client.query(`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN`);
      await client.query(`ALTER ROLE ${pg.escapeIdentifier(name)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${client.escapeLiteral(password)}`);
      return `postgres://${name}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
    };
    const app = await role('perfstack_app', 'app_password');
    const exporter = await role('perfstack_exporter', 'exporter_password');
    const storeRole = await role('perfstack_store', 'store_password');
    const { rowCount: hasStoreDb } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [STORE_DATABASE]);
    if (!hasStoreDb) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(STORE_DATABASE)} OWNER perfstack_store`);
    await client.query(`REVOKE CONNECT ON DATABASE ${pg.escapeIdentifier(STORE_DATABASE)} FROM PUBLIC`);
    const store = storeRole.replace(new RegExp(`/${DATABASE}$`), `/${STORE_DATABASE}`);
    for (const statement of [
      `GRANT CONNECT ON DATABASE ${DATABASE} TO perfstack_app, perfstack_exporter`,
      'GRANT USAGE ON SCHEMA public TO perfstack_app',
      'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO perfstack_app',
      'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO perfstack_app',
      'GRANT pg_monitor TO perfstack_exporter',
    ]) {
      await client.query(statement);
    }
    return { app, exporter, store };
  } finally {
    await client.end();
  }
}

/** The baseline store's own database, owned by perfstack_store (as in compose). */
const STORE_DATABASE = 'perfstack_baselines';

/** Starts whatever is not already running; a second call reuses the running components. */
export async function startNativeStack(config: PerfstackConfig, options: NativeStackOptions): Promise<NativeStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const stateDir = resolve(options.stateDir);
  for (const folder of ['logs', 'prometheus/rules', 'prometheus/data', 'alertmanager/data', 'secrets', 'postgres', TEXTFILE_FOLDER]) {
    mkdirSync(join(stateDir, folder), { recursive: true });
  }
  chmodSync(join(stateDir, 'secrets'), 0o700);
  const perfstack = options.perfstackCommand ?? [process.execPath, fileURLToPath(new URL('../bin/perfstack.js', import.meta.url))];
  const configArgs = options.configFile ? ['--config', resolve(options.configFile)] : [];

  const previous = readStackState(stateDir);
  const previousPorts = new Map(previous.components.map((c) => [c.name, c.port]));
  const running = new Map<string, Component>();
  for (const component of previous.components) {
    if (component.kind === 'postgres') continue; // checked through its data folder below
    if (!isOurProcess(component)) continue;
    if (await isHttpReady(component.readyUrl)) {
      running.set(component.name, component);
    } else {
      // Ours but not answering: stop it rather than leave it running unrecorded next to a new one.
      log(`${component.name.padEnd(14)} not answering at ${component.readyUrl}; stopping pid ${component.pid} to start it afresh`);
      await stopByPid(component);
    }
  }
  const save = () => writeStackState(stateDir, { components: [...running.values()] });
  save(); // forget what no longer runs

  /** The port last used (stable URLs across restarts), else the preferred one, else any free one. */
  const choosePort = async (name: ComponentName): Promise<number> => {
    if (options.ports === 'free') return freePort();
    const preferred = previousPorts.get(name) ?? options.ports?.[name] ?? DEFAULT_NATIVE_PORTS[name];
    if (preferred > 0 && (await portIsFree(preferred))) return preferred;
    const port = await freePort();
    if (preferred > 0) log(`${name}: port ${preferred} is taken, using ${port}`);
    return port;
  };

  const ensure = async (
    name: ComponentName,
    build: (port: number) => Omit<LaunchSpec, 'name' | 'port'>,
    how: { stale?: (c: Component) => boolean; port?: number; moved?: string } = {},
  ) => {
    const { stale } = how;
    const existing = running.get(name);
    if (existing && stale?.(existing)) {
      log(`${name.padEnd(14)} restarting (pid ${existing.pid}): ${how.moved ?? 'the database'} moved`);
      await stopByPid(existing);
      running.delete(name);
      save();
    } else if (existing) {
      log(`${name.padEnd(14)} already running, pid ${existing.pid}, ${existing.url}`);
      return existing;
    }
    const port = how.port ?? (await choosePort(name));
    log(`${name.padEnd(14)} starting on 127.0.0.1:${port}`);
    const component = await launch(stateDir, { name, port, ...build(port) });
    running.set(name, component);
    save();
    return component;
  };

  const secrets = join(stateDir, 'secrets');
  const files = {
    adminToken: join(secrets, 'admin_token'),
    databaseUrl: join(secrets, 'database_url'),
    storeUrl: join(secrets, 'store_url'),
    postgresPassword: join(secrets, 'postgres_password'),
  };

  // 1. PostgreSQL, its database and the reference schema.
  if (clusterFor(stateDir, options.postgresBinDir).isInitialised() && !existsSync(files.postgresPassword)) {
    throw new Error(
      `postgres failed: ${files.postgresPassword} is missing but ${join(stateDir, 'postgres', 'data')} was initialised with it; ` +
        `restore the file, or stop the stack and delete ${join(stateDir, 'postgres')} to start afresh`,
    );
  }
  const password = generatedSecret(files.postgresPassword);
  const db = clusterFor(stateDir, options.postgresBinDir, password);
  const fresh = !db.isInitialised();
  if (fresh) {
    log(`${'postgres'.padEnd(14)} initdb in ${db.dataDir}`);
    try {
      await db.init();
    } catch (error) {
      throw new Error(`postgres failed: initdb: ${(error as Error).message}`);
    }
  }
  log(
    `${'postgres'.padEnd(14)} local-only: listens on 127.0.0.1 only; TCP logins as "${db.user}" need the password in ${files.postgresPassword} ` +
      `(scram-sha-256); the Unix socket in ${db.socketDir} (mode 700, owned by ${db.user}) is trusted without a password. For development and tests, not production.`,
  );
  let postmaster = db.postmaster();
  if (postmaster) {
    const { pid, port } = postmaster;
    // It may still be starting (or recovering) after a crash: give it a few seconds.
    const deadline = Date.now() + 10_000;
    while (!(await db.isReady(port)) && Date.now() < deadline) await sleep(500);
    if (!(await db.isReady(port))) throw new Error(`postgres failed: pid ${pid} runs ${db.dataDir} but does not answer on 127.0.0.1:${port}; last lines of ${db.logFile}:\n${db.logTail(15)}`);
    log(`${'postgres'.padEnd(14)} already running, pid ${pid}, 127.0.0.1:${port}`);
  } else {
    const port = await choosePort('postgres');
    log(`${'postgres'.padEnd(14)} starting on 127.0.0.1:${port}`);
    try {
      await db.start(port);
    } catch (error) {
      throw new Error(`postgres failed: ${(error as Error).message}`);
    }
    postmaster = db.postmaster();
    if (!postmaster) throw new Error(`postgres failed: pg_ctl reported a start but ${db.dataDir}/postmaster.pid names no running server; last lines of ${db.logFile}:\n${db.logTail(15)}`);
  }
  const pgPort = postmaster.port;
  const postgresUrl = `postgresql://127.0.0.1:${pgPort}/${DATABASE}`;
  running.set('postgres', {
    name: 'postgres',
    pid: postmaster.pid,
    port: pgPort,
    url: postgresUrl,
    readyUrl: postgresUrl,
    command: join(db.binDir, 'postgres'),
    match: [db.dataDir],
    log: db.logFile,
    kind: 'postgres',
    dataDir: db.dataDir,
  });
  save();

  const databaseUrl = db.url(pgPort, DATABASE);
  writeSecret(files.databaseUrl, databaseUrl);
  let seeded = false;
  try {
    await db.ensureDatabase(pgPort, DATABASE, EXTENSIONS);
    const result = await migrate(databaseUrl);
    log(`${'postgres'.padEnd(14)} migrations: ${result.applied.length} applied, ${result.skipped.length} already present`);
    const seededMarker = join(stateDir, 'postgres', 'seeded');
    if (!existsSync(seededMarker)) {
      const size = options.seedSize ?? 'small';
      const seedResult = await seed(databaseUrl, size);
      writeFileSync(seededMarker, `${size} ${new Date().toISOString()}\n`);
      log(`${'postgres'.padEnd(14)} seeded ${seedResult.rows} entities (${size}) in ${seedResult.seconds.toFixed(1)} s`);
      seeded = true;
    }
  } catch (error) {
    throw new Error(`postgres failed: preparing database "${DATABASE}": ${(error as Error).message}\nlast lines of ${db.logFile}:\n${db.logTail(15)}`);
  }

  // Least privilege: the service and the exporter connect with their own roles, never as postgres.
  let roleUrls: { app: string; exporter: string; store: string };
  try {
    roleUrls = await ensureClientRoles(databaseUrl, pgPort, secrets);
  } catch (error) {
    throw new Error(`postgres failed: creating the perfstack_app, perfstack_exporter and perfstack_store roles: ${(error as Error).message}`);
  }
  // `perfstack run`, import and compare find the store through this file (cli/options.ts findStoreUrl).
  writeSecret(files.storeUrl, roleUrls.store);

  // 2. The reference service and the pg-stats exporter; secrets only in their environment.
  const adminToken = generatedSecret(files.adminToken);
  const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    delete env.DATABASE_URL_FILE; // DATABASE_URL wins; the exporter refuses both
    return env;
  };
  const [node, ...nodeArgs] = perfstack;
  const movedDatabase = (c: Component) => c.databasePort !== pgPort;
  // The read cache: loopback, protected mode, no persistence (docs/caching.md).
  mkdirSync(join(stateDir, 'redis'), { recursive: true });
  const redis = await ensure('redis', (port) => ({ ...redisLaunch({ port, dir: join(stateDir, 'redis') }), readyPath: '', extra: { kind: 'redis' } }));
  const app = await ensure(
    'app',
    (port) => ({
      command: node!,
      args: [...nodeArgs, 'app', '--port', String(port), '--redis-url', redis.url, ...configArgs],
      readyPath: '/health',
      env: childEnv({ DATABASE_URL: roleUrls.app, PERFSTACK_ADMIN_TOKEN: adminToken }),
      match: ['app'],
      extra: { databasePort: pgPort, redisPort: redis.port },
    }),
    { stale: (c) => movedDatabase(c) || c.redisPort !== redis.port, moved: 'the database or Redis' },
  );
  const pgStats = await ensure(
    'pg-stats',
    (port) => ({
      command: node!,
      args: [...nodeArgs, 'exporter', 'pg', '--port', String(port), ...configArgs],
      readyPath: '/health',
      env: childEnv({ DATABASE_URL: roleUrls.exporter }),
      match: ['exporter', 'pg'],
      extra: { databasePort: pgPort },
    }),
    { stale: movedDatabase },
  );

  // 3. Infrastructure.
  const nodeExporter = await ensure('node-exporter', (port) => nodeExporterLaunch({ port, textfileDir: join(stateDir, TEXTFILE_FOLDER) }));
  const blackboxFile = join(stateDir, 'blackbox.yml');
  writeFileSync(`${blackboxFile}.tmp`, renderYaml(blackboxConfig()));
  renameSync(`${blackboxFile}.tmp`, blackboxFile);
  const blackbox = await ensure('blackbox', (port) => blackboxLaunch({ configFile: blackboxFile, port }));
  // The Redis server itself (memory, evictions, clients); follows Redis when its port changes.
  const redisExporter = await ensure(
    'redis-exporter',
    (port) => ({ ...redisExporterLaunch({ port, redisUrl: redis.url }), extra: { redisPort: redis.port } }),
    { stale: (c) => c.redisPort !== redis.port, moved: 'Redis' },
  );

  const slackUrlFile = join(secrets, 'slack_api_url');
  let slackUrl = options.slackWebhookUrl;
  let capture: Component | undefined;
  if (!slackUrl) {
    const [command, ...args] = options.captureCommand ?? [...perfstack, 'slack-capture'];
    capture = await ensure('slack-capture', (port) => ({ command: command!, args: [...args, '--port', String(port)], readyPath: '/health', match: ['slack-capture'] }));
    slackUrl = `${capture.url}/slack`;
  }
  writeSecret(slackUrlFile, slackUrl);

  const alertmanagerConfig = await options.writeAlertmanager(join(stateDir, 'alertmanager'), slackUrlFile);
  const alertmanager = await ensure('alertmanager', (port) =>
    alertmanagerLaunch({ configFile: alertmanagerConfig, dataDir: join(stateDir, 'alertmanager/data'), port }),
  );

  // The long-term store: VictoriaMetrics here, unless the config names a store of its own.
  const storeConfig = config.longTermStore;
  let longTermStore: { write: string; query: string } | undefined;
  if (options.longTermStore || storeConfig.enabled) {
    if (storeConfig.remoteWriteUrl) {
      longTermStore = { write: storeConfig.remoteWriteUrl, query: storeConfig.queryUrl ?? storeConfig.remoteWriteUrl };
      log(`${'long-term'.padEnd(14)} remote-write to ${storeConfig.remoteWriteUrl} (config.longTermStore.remoteWriteUrl); no local VictoriaMetrics`);
    } else {
      mkdirSync(join(stateDir, 'victoria-metrics'), { recursive: true });
      const victoriaMetrics = await ensure('victoria-metrics', (port) =>
        victoriaMetricsLaunch({ dataDir: join(stateDir, 'victoria-metrics'), port, retention: storeConfig.retention }),
      );
      longTermStore = { write: longTermStoreWriteUrl(config, victoriaMetrics.url), query: victoriaMetrics.url };
    }
  }

  for (const file of options.ruleFiles) {
    writeFileSync(join(stateDir, 'prometheus/rules', file.path.split('/').pop()!), file.content);
  }
  const prometheusPort = running.get('prometheus')?.port ?? (await choosePort('prometheus'));
  // Every service job is the reference service here (scrapeTarget is a compose address).
  const serviceTargets: Record<string, string> = {};
  for (const service of config.services) serviceTargets[service.job] ??= `127.0.0.1:${app.port}`;
  const targets = {
    serviceTargets,
    pgStats: `127.0.0.1:${pgStats.port}`,
    nodeExporter: `127.0.0.1:${nodeExporter.port}`,
    prometheus: `127.0.0.1:${prometheusPort}`,
    alertmanager: `127.0.0.1:${alertmanager.port}`,
    blackbox: `127.0.0.1:${blackbox.port}`,
    redisExporter: `127.0.0.1:${redisExporter.port}`,
    // Availability as clients see it: every service's health endpoint, probed over loopback.
    probeUrls: Object.fromEntries(config.services.map((s) => [s.name, `${app.url}${HEALTH_PATH}`])),
    ...(longTermStore ? { longTermStore: longTermStore.write } : {}),
  };
  const prometheusConfigFile = join(stateDir, 'prometheus/prometheus.yml');
  writeFileSync(`${prometheusConfigFile}.tmp`, renderYaml(prometheusConfig(config, targets)));
  renameSync(`${prometheusConfigFile}.tmp`, prometheusConfigFile);
  const prometheus = await ensure('prometheus', () =>
    prometheusLaunch({ configFile: prometheusConfigFile, dataDir: join(stateDir, 'prometheus/data'), port: prometheusPort, retention: config.retention }),
    { port: prometheusPort }, // its own address is in the config just written
  );
  // A reused Prometheus picks up regenerated rules and targets without a restart.
  await fetch(`${prometheus.url}/-/reload`, { method: 'POST' }).catch(() => undefined);
  await fetch(`${alertmanager.url}/-/reload`, { method: 'POST' }).catch(() => undefined);
  save();

  const components = [...running.values()].sort((a, b) => order(a.name) - order(b.name));
  return {
    stateDir,
    components,
    urls: {
      app: app.url,
      pgStats: pgStats.url,
      nodeExporter: nodeExporter.url,
      blackbox: blackbox.url,
      redisExporter: redisExporter.url,
      alertmanager: alertmanager.url,
      prometheus: prometheus.url,
      prometheusRemoteWrite: `${prometheus.url}/api/v1/write`,
      postgres: postgresUrl,
      redis: redis.url,
      ...(capture ? { slackCapture: capture.url } : {}),
      ...(longTermStore ? { longTermStore: longTermStore.query } : {}),
    },
    files: { ...files, textfileDir: join(stateDir, TEXTFILE_FOLDER), ...(capture ? { slackCaptureLog: capture.log } : {}) },
    seeded,
  };
}

/** Stops every component this state folder recorded, by PID, in reverse start order; PostgreSQL with pg_ctl. */
export async function stopNativeStack(stateDir: string, log: (line: string) => void = console.log): Promise<number> {
  const root = resolve(stateDir);
  const state = readStackState(root);
  const components = [...state.components].sort((a, b) => order(b.name) - order(a.name));
  let stopped = 0;
  for (const component of components) {
    if (!isOurProcess(component)) {
      log(`${component.name.padEnd(14)} not running (pid ${component.pid})`);
      continue;
    }
    if (component.kind === 'postgres' && component.dataDir) {
      const cluster = postgresCluster({
        binDir: dirname(component.command),
        dataDir: component.dataDir,
        socketDir: join(dirname(component.dataDir), 'socket'),
        logFile: component.log,
      });
      await stopPostgres(cluster, component, log);
    } else {
      await stopByPid(component);
    }
    log(`${component.name.padEnd(14)} stopped (pid ${component.pid})`);
    stopped += 1;
  }
  // A server left from a start that failed before stack.json named it (or a lost stack.json).
  const cluster = clusterFor(root);
  const orphan = cluster.isInitialised() ? cluster.postmaster() : undefined;
  if (orphan) {
    const component: Component = {
      name: 'postgres', pid: orphan.pid, port: orphan.port, url: '', readyUrl: '', command: join(cluster.binDir, 'postgres'), match: [cluster.dataDir], log: cluster.logFile,
    };
    await stopPostgres(cluster, component, log);
    log(`${'postgres'.padEnd(14)} stopped (pid ${orphan.pid}, not recorded in stack.json)`);
    stopped += 1;
  }
  if (existsSync(stateFile(root))) writeStackState(root, { components: [] });
  return stopped;
}
