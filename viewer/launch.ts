// What `perfstack start` runs beside the native stack to show the dashboards: the viewer, and a
// Grafana the user installed themselves (never downloaded), provisioned from provisioning/ the way
// docker-compose.yml does it. Both are detached, logged under state/logs, recorded in
// state/viewers.json (stack.json belongs to stack/native.ts) and stopped by PID by `perfstack down`.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { renderYaml, type PerfstackConfig } from '../config/index.js';
import { freePort, generateGrafanaProvisioning, isOurProcess, type Component } from '../stack/index.js';
import { DEFAULT_VIEWER_PORT } from './server.js';

export const VIEWERS_STATE_FILE = 'viewers.json';
export const DEFAULT_GRAFANA_PORT = 3000;

export interface ViewerProcess {
  name: 'viewer' | 'grafana';
  pid: number;
  port: number;
  url: string;
  readyUrl: string;
  command: string;
  /** Arguments that must be in /proc/PID/cmdline (PIDs get reused). */
  match: string[];
  log: string;
}

function stateFile(stateDir: string): string {
  return join(resolve(stateDir), VIEWERS_STATE_FILE);
}

export function readViewerState(stateDir: string): ViewerProcess[] {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return [];
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { processes: ViewerProcess[] }).processes;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); stop the processes by hand and delete it`);
  }
}

function writeViewerState(stateDir: string, processes: ViewerProcess[]): void {
  const file = stateFile(stateDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ processes }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

function record(stateDir: string, process: ViewerProcess): void {
  writeViewerState(stateDir, [...readViewerState(stateDir).filter((p) => p.name !== process.name), process]);
}

function asComponent(p: ViewerProcess): Component {
  return { name: p.name, pid: p.pid, port: p.port, url: p.url, readyUrl: p.readyUrl, command: p.command, log: p.log, match: p.match };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

async function choosePort(name: string, preferred: number, log: (line: string) => void): Promise<number> {
  if (preferred > 0 && (await portIsFree(preferred))) return preferred;
  const port = await freePort();
  if (preferred > 0) log(`${name}: port ${preferred} is taken, using ${port}`);
  return port;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The recorded process when it still runs and answers; a recorded one that does not answer is stopped. */
async function reuse(stateDir: string, name: ViewerProcess['name'], log: (line: string) => void): Promise<ViewerProcess | undefined> {
  const previous = readViewerState(stateDir).find((p) => p.name === name);
  if (!previous || !isOurProcess(asComponent(previous))) return undefined;
  if (await answers(previous.readyUrl)) {
    log(`${name.padEnd(14)} already running, pid ${previous.pid}, ${previous.url}`);
    return previous;
  }
  log(`${name.padEnd(14)} not answering at ${previous.readyUrl}; stopping pid ${previous.pid} to start it afresh`);
  await stopProcess(previous);
  return undefined;
}

async function launch(stateDir: string, spec: Omit<ViewerProcess, 'pid' | 'log'> & { args: string[]; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ViewerProcess> {
  mkdirSync(join(resolve(stateDir), 'logs'), { recursive: true });
  const logFile = join(resolve(stateDir), 'logs', `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', fd, fd], env: spec.env ?? process.env });
  closeSync(fd);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  child.unref();
  const { args: _args, env: _env, timeoutMs, ...rest } = spec;
  const started: ViewerProcess = { ...rest, pid: child.pid ?? -1, log: logFile };
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(spec.readyUrl))) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (spawnError || exited || Date.now() > deadline) {
      if (!exited && started.pid > 0) process.kill(started.pid, 'SIGTERM');
      const why = spawnError ? `could not run ${spec.command}: ${spawnError.message}` : exited ? `exited (${child.exitCode ?? child.signalCode}) before it was ready` : `was not ready at ${spec.readyUrl} within ${timeoutMs / 1000} s`;
      throw new Error(`${spec.name} failed: ${why}; last lines of ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(200);
  }
  record(stateDir, started);
  return started;
}

export interface ViewerLaunchOptions {
  stateDir: string;
  prometheusUrl: string;
  /** [command, ...args] that runs perfstack's CLI. */
  perfstackCommand: string[];
  /** Folders of the dashboards and datasources to serve (absolute or relative to the cwd). */
  dashboardsDir: string;
  datasourcesDir: string;
  port?: number;
  log?: (line: string) => void;
}

/** `perfstack dashboards serve` as a detached process (reused when it already runs). */
export async function startViewerProcess(options: ViewerLaunchOptions): Promise<ViewerProcess> {
  const log = options.log ?? console.log;
  const running = await reuse(options.stateDir, 'viewer', log);
  if (running) return running;
  const port = await choosePort('viewer', options.port ?? DEFAULT_VIEWER_PORT, log);
  log(`${'viewer'.padEnd(14)} starting on 127.0.0.1:${port}`);
  const [command, ...base] = options.perfstackCommand;
  const url = `http://127.0.0.1:${port}`;
  return launch(options.stateDir, {
    name: 'viewer',
    port,
    url,
    readyUrl: `${url}/api/health`,
    command: command!,
    args: [...base, 'dashboards', 'serve', '--port', String(port), '--prometheus-url', options.prometheusUrl, '--dashboards', resolve(options.dashboardsDir), '--datasources', resolve(options.datasourcesDir)],
    match: ['dashboards', 'serve'],
    timeoutMs: 30_000,
  });
}

/** grafana (Grafana 10+, `grafana server`) or grafana-server on PATH; undefined when neither is installed. */
export function findGrafana(path = process.env.PATH ?? ''): { binary: string; args: string[]; homepath: string } | undefined {
  for (const name of ['grafana', 'grafana-server']) {
    for (const folder of path.split(':').filter(Boolean)) {
      const candidate = join(folder, name);
      if (!existsSync(candidate)) continue;
      const real = realpathSync(candidate);
      // Debian/RPM packages put the home in /usr/share/grafana; a tarball has bin/ inside it.
      const homepath = existsSync('/usr/share/grafana/conf/defaults.ini') ? '/usr/share/grafana' : dirname(dirname(real));
      return { binary: candidate, args: name === 'grafana' ? ['server', '--homepath', homepath] : ['--homepath', homepath], homepath };
    }
  }
  return undefined;
}

export interface GrafanaLaunchOptions {
  stateDir: string;
  config: PerfstackConfig;
  prometheusUrl: string;
  /** provisioning/grafana: its dashboards are copied, its datasource is pointed at prometheusUrl. */
  provisioningDir: string;
  port?: number;
  path?: string;
  log?: (line: string) => void;
}

/**
 * Writes the provisioning Grafana reads, as docker-compose.yml mounts it at /etc/grafana/provisioning:
 * the same dashboard files in the same folders and the same provider, and the Prometheus
 * datasource with its fixed uid, pointed at the native Prometheus. Returns the folder.
 */
export function writeGrafanaProvisioning(options: Pick<GrafanaLaunchOptions, 'stateDir' | 'config' | 'prometheusUrl' | 'provisioningDir'>): string {
  const root = join(resolve(options.stateDir), 'grafana', 'provisioning');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  cpSync(join(options.provisioningDir, 'dashboards'), join(root, 'dashboards'), { recursive: true });
  for (const file of generateGrafanaProvisioning(options.config, options.prometheusUrl)) {
    const target = join(root, file.path.replace(/^provisioning\/grafana\//, ''));
    mkdirSync(dirname(target), { recursive: true });
    let content = file.content;
    if (file.path.endsWith('dashboards/perfstack.yml')) {
      const provider = parse(content) as { providers: { options: { path: string } }[] };
      for (const p of provider.providers) p.options.path = join(root, 'dashboards');
      content = renderYaml(provider);
    }
    writeFileSync(target, content);
  }
  return root;
}

/**
 * Runs the user's own Grafana, provisioned as compose does, on loopback. Returns undefined when no
 * Grafana is installed: perfstack never downloads it (it is AGPL-licensed).
 */
export async function startUserGrafana(options: GrafanaLaunchOptions): Promise<ViewerProcess | undefined> {
  const log = options.log ?? console.log;
  const grafana = findGrafana(options.path);
  if (!grafana) return undefined;
  const running = await reuse(options.stateDir, 'grafana', log);
  if (running) return running;
  const stateDir = resolve(options.stateDir);
  const provisioning = writeGrafanaProvisioning(options);
  const secrets = join(stateDir, 'secrets');
  mkdirSync(secrets, { recursive: true });
  const passwordFile = join(secrets, 'grafana_admin_password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  const port = await choosePort('grafana', options.port ?? DEFAULT_GRAFANA_PORT, log);
  for (const folder of ['data', 'plugins', 'logs']) mkdirSync(join(stateDir, 'grafana', folder), { recursive: true });
  log(`${'grafana'.padEnd(14)} starting ${grafana.binary} on 127.0.0.1:${port}`);
  const url = `http://127.0.0.1:${port}`;
  return launch(stateDir, {
    name: 'grafana',
    port,
    url,
    readyUrl: `${url}/api/health`,
    command: grafana.binary,
    args: grafana.args,
    match: ['--homepath'],
    timeoutMs: 90_000,
    env: {
      ...process.env,
      // As docker-compose.yml sets them, plus the paths a container has built in.
      GF_SECURITY_ADMIN_USER: 'admin',
      GF_SECURITY_ADMIN_PASSWORD__FILE: passwordFile,
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      GF_PATHS_PROVISIONING: provisioning,
      GF_PATHS_DATA: join(stateDir, 'grafana', 'data'),
      GF_PATHS_PLUGINS: join(stateDir, 'grafana', 'plugins'),
      GF_PATHS_LOGS: join(stateDir, 'grafana', 'logs'),
      GF_SERVER_HTTP_ADDR: '127.0.0.1',
      GF_SERVER_HTTP_PORT: String(port),
    },
  });
}

async function stopProcess(p: ViewerProcess): Promise<boolean> {
  const component = asComponent(p);
  if (!isOurProcess(component)) return false;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + 10_000;
  while (isOurProcess(component) && Date.now() < deadline) await sleep(100);
  if (isOurProcess(component)) process.kill(p.pid, 'SIGKILL');
  return true;
}

/** Stops what state/viewers.json records, by PID; returns how many were running. */
export async function stopViewerProcesses(stateDir: string, log: (line: string) => void = console.log): Promise<number> {
  let stopped = 0;
  for (const p of readViewerState(stateDir).reverse()) {
    if (await stopProcess(p)) {
      log(`${p.name.padEnd(14)} stopped (pid ${p.pid})`);
      stopped++;
    } else log(`${p.name.padEnd(14)} not running (pid ${p.pid})`);
  }
  if (existsSync(stateFile(stateDir))) writeViewerState(stateDir, []);
  return stopped;
}
