// The publishable packages, as a user outside this repository gets them: build (npm run
// build:packages), `npm pack` each package, install the tarballs with pg, express and prom-client
// into a throwaway plain-JavaScript project in the OS temp folder, then
// - run a plain .js service there that instruments a real pg.Pool and a real express app, drive it
//   and scrape its /metrics for the contract's names;
// - type-check a small TypeScript consumer against the packages' declarations;
// - start the exporter through its installed bin against the same PostgreSQL and scrape pg_up 1.
// Every process started here is stopped by PID; the temp folder is removed.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbClient, http, pgServer } from '../metrics/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const INSTRUMENTATION = { dir: 'pg-instrumentation', name: '@perfstack/pg-instrumentation' };
const EXPORTER = { dir: 'pg-stats-exporter', name: '@perfstack/pg-stats-exporter', bin: 'pg-stats-exporter' };

/** The environment for child processes: no npm_* settings from an outer `npm test`, no loader in NODE_OPTIONS. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (never throws on a non-zero exit; the caller asserts). */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = childEnv(), timeout = 90_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function runOk(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

interface Started {
  child: ChildProcess;
  match: RegExpExecArray;
  output(): string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Spawns a long-running process and resolves once its output matches `ready`. */
function start(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 30_000): Promise<Started> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited ${code} before it was ready:\n${output}`));
    });
  });
}

/** Sends SIGTERM to the process by PID and waits for it to exit; returns the exit code. */
async function stop(started: Started): Promise<number | null> {
  if (started.child.exitCode === null && started.child.pid !== undefined) process.kill(started.child.pid, 'SIGTERM');
  return started.exited;
}

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one series name in a text exposition. */
function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

function value(text: string, name: string, labels: Record<string, string>): number {
  const found = samples(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length} in:\n${text}`);
  return found[0]!.value;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

// The plain-JavaScript service a user would write: nothing here is TypeScript, nothing runs tsx.
const SERVICE_JS = `import express from 'express';
import pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { httpMetrics, instrumentPool, withQuerySummary } from '@perfstack/pg-instrumentation';
import { metricsHandler } from '@perfstack/pg-instrumentation/http';

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const { pool } = instrumentPool(new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 }), { poolName: 'main', registry });

const app = express().use(httpMetrics({ service: 'plain-js', registry }));
app.get('/metrics', metricsHandler(registry));
app.get('/items/:id', async (req, res) => {
  const { rows } = await pool.query(withQuerySummary('load item', 'SELECT $1::int AS id', [Number(req.params.id)]));
  res.json(rows[0]);
});
app.get('/fail', async (_req, res) => {
  try {
    await pool.query('SELECT * FROM no_such_table');
    res.status(200).end();
  } catch (error) {
    res.status(500).json({ code: error.code });
  }
});
app.post('/tx', async (_req, res) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT 1');
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  res.status(204).end();
});

const server = app.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
process.once('SIGTERM', () => {
  server.close(() => pool.end().then(() => console.log('service stopped')));
});
`;

// A TypeScript consumer: the declarations resolve through the exports maps' "types" conditions.
const CONSUMER_TS = `import pg from 'pg';
import { Registry } from 'prom-client';
import { httpMetrics, instrumentPool, type InstrumentedPool, type HttpMetricsOptions } from '@perfstack/pg-instrumentation';
import { instrumentPool as fromSubpath } from '@perfstack/pg-instrumentation/pg-pool';
import { metricsHandler } from '@perfstack/pg-instrumentation/http';
import { startPgStatsExporter, type PgStatsExporter } from '@perfstack/pg-stats-exporter';

const registry = new Registry();
const instrumented: InstrumentedPool = instrumentPool(new pg.Pool(), { poolName: 'main', registry });
const pool: pg.Pool = instrumented.pool;
const options: HttpMetricsOptions = { service: 'ts', registry };
httpMetrics(options);
void fromSubpath;
void metricsHandler(registry);
void pool;
const started: Promise<PgStatsExporter> = startPgStatsExporter({ databaseUrl: 'postgres://x@127.0.0.1/x', port: 0 });
void started;
// @ts-expect-error: poolName is required, so the declarations are real (not any)
instrumentPool(new pg.Pool(), {});
`;

describe('installable packages (npm pack, plain-JavaScript project outside the repository)', () => {
  let root = '';
  let project = '';
  let postgres: TestPostgres | undefined;
  let postgresStarting: Promise<unknown> = Promise.resolve();
  const packed = new Map<string, { tarball: string; files: string[] }>();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'perfstack-packages-'));
    project = join(root, 'service');
    const tarballs = join(root, 'tarballs');
    await mkdir(project);
    await mkdir(tarballs);
    // PostgreSQL starts while the packages build and install.
    const pgStarted = startPostgres().then((started) => (postgres = started));
    postgresStarting = pgStarted.catch(() => undefined);

    await runOk('npm', ['run', '--silent', 'build:packages'], REPO);
    for (const { dir, name } of [INSTRUMENTATION, EXPORTER]) {
      const json = await runOk('npm', ['pack', '--json', '--pack-destination', tarballs], join(REPO, 'packages', dir));
      const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
      packed.set(name, { tarball: join(tarballs, info!.filename), files: info!.files.map((f) => f.path) });
    }

    const rootManifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const versions = { ...rootManifest.dependencies, ...rootManifest.devDependencies };
    const pinned = ['pg', 'express', 'prom-client', '@types/pg', '@types/express'].map((name) => `${name}@${versions[name]}`);
    await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'plain-js-service', private: true, type: 'module' }, null, 2)}\n`);
    await runOk(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-update-notifier', '--loglevel=error', ...[...packed.values()].map((p) => p.tarball), ...pinned],
      project,
    );
    await pgStarted;
  }, 150_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    await postgresStarting;
    await postgres?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('packs compiled JavaScript with declarations, and no TypeScript sources or tests', () => {
    const instrumentation = packed.get(INSTRUMENTATION.name)!.files;
    const exporter = packed.get(EXPORTER.name)!.files;
    for (const file of ['dist/packages/pg-instrumentation/index.js', 'dist/packages/pg-instrumentation/index.d.ts', 'dist/exporters/pg-pool/instrument.js', 'dist/exporters/http/middleware.d.ts', 'package.json']) {
      expect(instrumentation).toContain(file);
    }
    for (const file of ['dist/packages/pg-stats-exporter/cli.js', 'dist/packages/pg-stats-exporter/index.d.ts', 'dist/exporters/pg-stats/server.js', 'package.json']) {
      expect(exporter).toContain(file);
    }
    for (const file of [...instrumentation, ...exporter]) {
      expect(file, file).not.toMatch(/(?<!\.d)\.ts$|\.test\.|tsconfig/);
    }
    // Each package carries only its own rooms.
    expect(instrumentation.some((f) => f.includes('pg-stats'))).toBe(false);
    expect(exporter.some((f) => f.includes('pg-pool') || f.includes('/http/'))).toBe(false);
  });

  it('a plain-JavaScript service instruments a real pg.Pool and express app and serves the contract', async () => {
    await writeFile(join(project, 'service.js'), SERVICE_JS);
    const service = await start(process.execPath, ['service.js'], project, childEnv({ DATABASE_URL: postgres!.url }), /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const base = service.match[1]!;
    try {
      for (const id of [1, 2, 3]) {
        const item = await get(`${base}/items/${id}`);
        expect(item.status).toBe(200);
        expect(JSON.parse(item.body)).toEqual({ id });
      }
      const failed = await get(`${base}/fail`);
      expect(failed.status).toBe(500);
      expect(JSON.parse(failed.body)).toEqual({ code: '42P01' });
      expect((await fetch(`${base}/tx`, { method: 'POST' })).status).toBe(204);
      expect((await get(`${base}/nowhere`)).status).toBe(404);

      const scrape = await get(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      const text = scrape.body;
      const pool = { db_system_name: 'postgresql', db_client_connection_pool_name: 'main' };

      expect(value(text, `${dbClient.operationDuration}_count`, { ...pool, db_query_summary: 'load item', db_operation_name: 'SELECT' })).toBe(3);
      expect(value(text, `${dbClient.operationDuration}_count`, { ...pool, error_type: '42P01', db_query_summary: 'SELECT * FROM no_such_table' })).toBe(1);
      expect(value(text, dbClient.connectionMax, pool)).toBe(4);
      const connections = samples(text, dbClient.connectionCount).filter((s) => s.labels.db_client_connection_pool_name === 'main');
      expect(connections.map((s) => s.labels.db_client_connection_state).sort()).toEqual(['idle', 'used']);
      expect(connections.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThanOrEqual(1);
      expect(value(text, dbClient.pendingRequests, pool)).toBe(0);
      expect(value(text, dbClient.transactions, { ...pool, outcome: 'commit' })).toBe(1);
      expect(value(text, `${dbClient.useTime}_count`, pool)).toBeGreaterThanOrEqual(1);
      expect(value(text, `${dbClient.waitTime}_count`, pool)).toBeGreaterThanOrEqual(5);
      expect(value(text, `${dbClient.createTime}_count`, pool)).toBeGreaterThanOrEqual(1);
      for (const name of [dbClient.connectionIdleMin, dbClient.timeouts]) expect(text).toContain(`# TYPE ${name} `);

      const route = (r: string, code: string) => ({ service: 'plain-js', http_request_method: r.split(' ')[0]!, http_route: r.split(' ')[1]!, http_response_status_code: code });
      expect(value(text, `${http.requestDuration}_count`, route('GET /items/:id', '200'))).toBe(3);
      expect(value(text, `${http.requestDuration}_count`, route('GET /fail', '500'))).toBe(1);
      expect(value(text, `${http.requestDuration}_count`, route('POST /tx', '204'))).toBe(1);
      expect(value(text, `${http.requestDuration}_count`, route('GET unmatched', '404'))).toBe(1);
      expect(value(text, http.activeRequests, { service: 'plain-js' })).toBeGreaterThanOrEqual(0);
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    } finally {
      expect(await stop(service)).toBe(0);
      expect(service.output()).toContain('service stopped');
    }
  });

  it('TypeScript consumers get the declarations through the exports maps', async () => {
    await writeFile(join(project, 'consumer.ts'), CONSUMER_TS);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, esModuleInterop: true }, files: ['consumer.ts'] }),
    );
    const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.code).toBe(0);
  });

  it('the exporter runs from its installed bin and reports pg_up 1', async () => {
    const bin = join(project, 'node_modules', '.bin', EXPORTER.bin);
    const env = childEnv({ DATABASE_URL: postgres!.url });
    const exporter = await start(bin, ['--port', '0', '--top-statements', '10'], project, env, /listening on (http:\/\/127\.0\.0\.1:\d+)\/metrics/);
    try {
      const base = exporter.match[1]!;
      const scrape = await get(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.body).toMatch(new RegExp(`^${pgServer.up} 1$`, 'm'));
      expect(value(scrape.body, 'pg_exporter_collector_success', { collector: 'database' })).toBe(1);
      expect(samples(scrape.body, pgServer.xactCommit).some((s) => s.labels.datname === postgres!.database)).toBe(true);
      expect((await get(`${base}/health`)).body).toBe('ok\n');
      expect(exporter.output()).not.toContain(postgres!.url);
    } finally {
      expect(await stop(exporter)).toBe(0);
    }
    expect(exporter.output()).toContain('pg-stats: stopped');
  });

  it('the bin explains itself and names bad flags', async () => {
    const bin = join(project, 'node_modules', '.bin', EXPORTER.bin);
    const noDatabase = childEnv();
    delete noDatabase.DATABASE_URL;
    delete noDatabase.DATABASE_URL_FILE;

    const help = await run(bin, ['--help'], project, noDatabase);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pg-stats-exporter [options]');
    expect(help.stdout).toContain('--scrape-timeout-ms <ms>');

    const version = await run(bin, ['--version'], project, noDatabase);
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' });

    const unknown = await run(bin, ['--bogus-flag'], project, noDatabase);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option --bogus-flag');

    const port = await run(bin, ['--port', '70000'], project, noDatabase);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port must be an integer from 0 to 65535, got "70000"');

    const missingValue = await run(bin, ['--top-statements'], project, noDatabase);
    expect(missingValue.code).toBe(2);
    expect(missingValue.stderr).toContain('--top-statements');

    const lonelyUser = await run(bin, ['--basic-auth-user', 'prom'], project, noDatabase);
    expect(lonelyUser.code).toBe(2);
    expect(lonelyUser.stderr).toContain('--basic-auth-user needs --basic-auth-password-file');

    const noUrl = await run(bin, ['--port', '0'], project, noDatabase);
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toContain('set DATABASE_URL');
  });
});
