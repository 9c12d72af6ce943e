import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderYaml, type GeneratedFile, type PerfstackConfig } from '../config/index.js';
import { freePort } from './process.js';
import { prometheusConfig } from './prometheus-config.js';
import { alertmanagerLaunch, nodeExporterLaunch, prometheusLaunch, type BinaryLaunch } from './binaries.js';

// The native stack: the same services docker-compose.yml runs, as Debian binaries on loopback,
// each detached with its own log, all state under one folder, stopped by the PIDs recorded here.

export interface Component {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Answers 2xx while the component is healthy. */
  readyUrl: string;
  command: string;
  log: string;
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
  /** The command that runs the capture server: [command, ...args] without the port. */
  captureCommand: string[];
  log?: (line: string) => void;
}

const PREFERRED_PORTS = { 'slack-capture': 9099, 'node-exporter': 9100, alertmanager: 9093, prometheus: 9090 } as const;

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

function writeStackState(stateDir: string, state: StackState): void {
  const file = stateFile(stateDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** True when the PID is alive and still runs the command we started (PIDs get reused). */
export function isOurProcess(component: Component): boolean {
  try {
    const cmdline = readFileSync(`/proc/${component.pid}/cmdline`, 'utf8');
    return cmdline.includes(component.command);
  } catch {
    return false;
  }
}

async function isReady(url: string): Promise<boolean> {
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

async function choosePort(name: keyof typeof PREFERRED_PORTS, log: (line: string) => void): Promise<number> {
  const preferred = PREFERRED_PORTS[name];
  if (await portIsFree(preferred)) return preferred;
  const port = await freePort();
  log(`${name}: port ${preferred} is taken, using ${port}`);
  return port;
}

async function launch(
  stateDir: string,
  spec: BinaryLaunch & { name: string; port: number },
): Promise<Component> {
  const logFile = join(stateDir, 'logs', `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const url = `http://127.0.0.1:${spec.port}`;
  const readyUrl = `${url}${spec.readyPath}`;
  const component: Component = { name: spec.name, pid: child.pid ?? -1, port: spec.port, url, readyUrl, command: spec.command, log: logFile };
  const deadline = Date.now() + 30_000;
  while (!(await isReady(readyUrl))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      if (child.exitCode === null) process.kill(component.pid, 'SIGTERM');
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`${spec.name} did not become ready at ${readyUrl}; last lines of ${logFile}:\n${tail}`);
    }
    await sleep(200);
  }
  return component;
}

/** Starts whatever is not already running; a second call reuses the running components. */
export async function startNativeStack(config: PerfstackConfig, options: NativeStackOptions): Promise<Component[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const stateDir = resolve(options.stateDir);
  for (const folder of ['logs', 'prometheus/rules', 'prometheus/data', 'alertmanager/data', 'secrets']) {
    mkdirSync(join(stateDir, folder), { recursive: true });
  }
  const state = readStackState(stateDir);
  const running = new Map<string, Component>();
  for (const component of state.components) {
    if (isOurProcess(component) && (await isReady(component.readyUrl))) running.set(component.name, component);
  }
  const save = () => writeStackState(stateDir, { components: [...running.values()] });
  const ensure = async (name: keyof typeof PREFERRED_PORTS, build: (port: number) => Omit<Parameters<typeof launch>[1], 'name' | 'port'>) => {
    const existing = running.get(name);
    if (existing) {
      log(`${name.padEnd(14)} already running, pid ${existing.pid}, ${existing.url}`);
      return existing;
    }
    const port = await choosePort(name, log);
    log(`${name.padEnd(14)} starting on 127.0.0.1:${port}`);
    const component = await launch(stateDir, { name, port, ...build(port) });
    running.set(name, component);
    save();
    return component;
  };

  const slackUrlFile = join(stateDir, 'secrets', 'slack_api_url');
  let slackUrl = options.slackWebhookUrl;
  if (!slackUrl) {
    const [command, ...args] = options.captureCommand;
    const capture = await ensure('slack-capture', (port) => ({ command: command!, args: [...args, '--port', String(port)], readyPath: '/health' }));
    slackUrl = `${capture.url}/slack`;
  }
  writeFileSync(slackUrlFile, `${slackUrl}\n`, { mode: 0o600 });

  const nodeExporter = await ensure('node-exporter', (port) => nodeExporterLaunch({ port }));

  const alertmanagerConfig = await options.writeAlertmanager(join(stateDir, 'alertmanager'), slackUrlFile);
  const alertmanager = await ensure('alertmanager', (port) =>
    alertmanagerLaunch({ configFile: alertmanagerConfig, dataDir: join(stateDir, 'alertmanager/data'), port }),
  );

  for (const file of options.ruleFiles) {
    writeFileSync(join(stateDir, 'prometheus/rules', file.path.split('/').pop()!), file.content);
  }
  const prometheusPort = running.get('prometheus')?.port ?? (await choosePort('prometheus', log));
  const serviceTargets: Record<string, string> = {};
  const targets = {
    serviceTargets,
    pgStats: '127.0.0.1:9187',
    nodeExporter: `127.0.0.1:${nodeExporter.port}`,
    prometheus: `127.0.0.1:${prometheusPort}`,
    alertmanager: `127.0.0.1:${alertmanager.port}`,
  };
  for (const service of config.services) serviceTargets[service.job] ??= '127.0.0.1:8080';
  const prometheusConfigFile = join(stateDir, 'prometheus/prometheus.yml');
  writeFileSync(prometheusConfigFile, renderYaml(prometheusConfig(config, targets)));
  const prometheus = await ensure('prometheus', () =>
    prometheusLaunch({ configFile: prometheusConfigFile, dataDir: join(stateDir, 'prometheus/data'), port: prometheusPort }),
  );
  // A reused Prometheus picks up regenerated rules and targets without a restart.
  await fetch(`${prometheus.url}/-/reload`, { method: 'POST' }).catch(() => undefined);
  await fetch(`${alertmanager.url}/-/reload`, { method: 'POST' }).catch(() => undefined);
  save();
  return [...running.values()];
}

/** Stops every component this state folder recorded, by PID, newest first. */
export async function stopNativeStack(stateDir: string, log: (line: string) => void = console.log): Promise<number> {
  const state = readStackState(resolve(stateDir));
  let stopped = 0;
  for (const component of [...state.components].reverse()) {
    if (!isOurProcess(component)) {
      log(`${component.name.padEnd(14)} not running (pid ${component.pid})`);
      continue;
    }
    process.kill(component.pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (isOurProcess(component) && Date.now() < deadline) await sleep(100);
    if (isOurProcess(component)) process.kill(component.pid, 'SIGKILL');
    log(`${component.name.padEnd(14)} stopped (pid ${component.pid})`);
    stopped += 1;
  }
  if (existsSync(stateFile(resolve(stateDir)))) writeStackState(resolve(stateDir), { components: [] });
  return stopped;
}
