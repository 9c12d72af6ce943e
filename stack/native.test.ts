// The whole native stack, as `perfstack start` runs it, in a temporary state folder on free ports
// (so a developer's running stack on the default ports is left alone).

import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAlertmanagerConfig } from '../alerts/index.js';
import { loadConfig, type PerfstackConfig } from '../config/index.js';
import { readStackState, startNativeStack, stopNativeStack, type NativeStack, type NativeStackOptions } from './index.js';

const CONFIG_FILE = join(import.meta.dirname, '..', 'perfstack.config.ts');

/** Gone, or a zombie waiting for its parent (this test process) to reap it. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('native stack', () => {
  let stateDir: string;
  let config: PerfstackConfig;
  let options: NativeStackOptions;
  let first: NativeStack;
  const lines: string[] = [];

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'perfstack-native-'));
    chmodSync(stateDir, 0o755); // the postgres user must reach state/postgres
    const loaded = await loadConfig(CONFIG_FILE);
    // Scrape every second so the targets turn up quickly.
    config = { ...loaded, scrape: { ...loaded.scrape, interval: '1s' } };
    options = {
      stateDir,
      ruleFiles: [],
      writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, config, { slackApiUrlFile }),
      configFile: CONFIG_FILE,
      ports: 'free',
      log: (line) => lines.push(line),
    };
    first = await startNativeStack(config, options);
  });

  afterAll(async () => {
    if (stateDir) {
      await stopNativeStack(stateDir, () => undefined).catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('starts every component, in order, each answering', async () => {
    expect(first.components.map((c) => c.name)).toEqual(['postgres', 'redis', 'app', 'pg-stats', 'node-exporter', 'blackbox', 'redis-exporter', 'slack-capture', 'alertmanager', 'prometheus']);
    expect(first.seeded).toBe(true);
    for (const c of first.components) expect(isGone(c.pid), c.name).toBe(false);
    // The app caches in the stack's Redis (loopback, started before it).
    const cacheState = (await (await fetch(`${first.urls.app}/health/cache`)).json()) as { status: string; redis: string };
    expect(cacheState).toMatchObject({ status: 'up', redis: first.urls.redis });

    expect((await fetch(`${first.urls.app}/health`)).status).toBe(200);
    expect((await fetch(`${first.urls.app}/health/database`)).status).toBe(200);
    expect(await (await fetch(`${first.urls.pgStats}/metrics`)).text()).toMatch(/^pg_up(\{[^}]*\})? 1$/m);
    // redis_exporter watches the stack's own Redis, on loopback only.
    const redisMetrics = await (await fetch(`${first.urls.redisExporter}/metrics`)).text();
    expect(redisMetrics).toMatch(/^redis_up 1$/m);
    expect(redisMetrics).toMatch(/^redis_instance_info\{[^}]*tcp_port="(\d+)"/m);
    expect(/tcp_port="(\d+)"/.exec(redisMetrics)?.[1]).toBe(new URL(first.urls.redis).port);
    expect(first.urls.redisExporter).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Seeded once with the small dataset, through the URL kept in the secrets folder.
    const client = new pg.Client({ connectionString: readFileSync(first.files.databaseUrl, 'utf8').trim() });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM entities');
      expect(Number(rows[0]?.n)).toBe(1000);
      const extensions = await client.query<{ extname: string }>('SELECT extname FROM pg_extension ORDER BY extname');
      expect(extensions.rows.map((r) => r.extname)).toEqual(expect.arrayContaining(['pg_stat_statements', 'pg_trgm']));
      // The service and the exporter log in with their own roles: no superuser, the exporter pg_monitor only.
      const roles = await client.query<{ usename: string; application_name: string }>(
        "SELECT DISTINCT usename, application_name FROM pg_stat_activity WHERE usename LIKE 'perfstack_%' ORDER BY usename",
      );
      expect([...new Set(roles.rows.map((r) => r.usename))]).toEqual(['perfstack_app', 'perfstack_exporter']);
      const attributes = await client.query<{ rolname: string; rolsuper: boolean; monitor: boolean }>(
        "SELECT rolname, rolsuper, pg_has_role(rolname, 'pg_monitor', 'member') AS monitor FROM pg_roles WHERE rolname LIKE 'perfstack_%' ORDER BY rolname",
      );
      expect(attributes.rows).toEqual([
        { rolname: 'perfstack_app', rolsuper: false, monitor: false },
        { rolname: 'perfstack_exporter', rolsuper: false, monitor: true },
        { rolname: 'perfstack_store', rolsuper: false, monitor: false },
      ]);
    } finally {
      await client.end();
    }
    // The baseline store has its own role and database: it can create its tables there, and cannot
    // read the service's data.
    const store = new pg.Client({ connectionString: readFileSync(first.files.storeUrl, 'utf8').trim() });
    await store.connect();
    try {
      const who = await store.query<{ user: string; db: string }>('SELECT current_user AS user, current_database() AS db');
      expect(who.rows[0]).toEqual({ user: 'perfstack_store', db: 'perfstack_baselines' });
      await store.query('CREATE TABLE IF NOT EXISTS store_probe (id int)');
      await store.query('DROP TABLE store_probe');
    } finally {
      await store.end();
    }
    const outsider = new pg.Client({ connectionString: readFileSync(first.files.storeUrl, 'utf8').trim().replace(/\/perfstack_baselines$/, '/perfstack') });
    await expect(outsider.connect().then(() => outsider.query('SELECT count(*) FROM entities'))).rejects.toThrow(/permission denied/);
    await outsider.end().catch(() => undefined);
  });

  it('points Prometheus at the real ports: the app, pg-stats, node, blackbox and redis targets come up', async () => {
    const wanted = ['perfstack-app', 'pg-stats', 'node', 'blackbox', 'redis'];
    let health: Record<string, string> = {};
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const body = (await (await fetch(`${first.urls.prometheus}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string }[] };
      };
      health = Object.fromEntries(body.data.activeTargets.map((t) => [t.labels.job, t.health]));
      if (wanted.every((job) => health[job] === 'up')) break;
      await sleep(500);
    }
    for (const job of wanted) expect(health[job], job).toBe('up');
  });

  it('reuses every running component on a second start', async () => {
    const second = await startNativeStack(config, options);
    expect(second.seeded).toBe(false);
    expect(second.components.map((c) => [c.name, c.pid])).toEqual(first.components.map((c) => [c.name, c.pid]));
    expect(second.urls).toEqual(first.urls);
    expect(lines.filter((line) => line.includes('already running'))).toHaveLength(first.components.length);
  });

  it('keeps secrets in mode-600 files and out of stack.json and the logs', () => {
    const secrets = join(stateDir, 'secrets');
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    const names = readdirSync(secrets);
    expect(names).toEqual(expect.arrayContaining(['admin_token', 'database_url', 'store_url', 'postgres_password', 'slack_api_url']));
    for (const name of names) expect(statSync(join(secrets, name)).mode & 0o777, name).toBe(0o600);

    const password = readFileSync(join(secrets, 'postgres_password'), 'utf8').trim();
    const databaseUrl = readFileSync(join(secrets, 'database_url'), 'utf8').trim();
    const adminToken = readFileSync(join(secrets, 'admin_token'), 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(databaseUrl).toContain(password);
    const logs = readdirSync(join(stateDir, 'logs')).map((name) => join(stateDir, 'logs', name));
    for (const file of [join(stateDir, 'stack.json'), ...logs]) {
      const text = readFileSync(file, 'utf8');
      expect(text.includes(password), file).toBe(false);
      expect(text.includes(databaseUrl), file).toBe(false);
      expect(text.includes(adminToken), file).toBe(false);
    }
    const printed = lines.join('\n');
    expect(printed.includes(password)).toBe(false);
    // Nor on any command line (ps shows them).
    for (const c of first.components) expect(readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').includes(password), c.name).toBe(false);
  });

  it('stops everything, PostgreSQL included', async () => {
    const stopped = await stopNativeStack(stateDir, () => undefined);
    expect(stopped).toBe(first.components.length);
    for (const c of first.components) expect(isGone(c.pid), `${c.name} pid ${c.pid}`).toBe(true);
    expect(readStackState(stateDir).components).toEqual([]);
    // A second down finds nothing to stop.
    expect(await stopNativeStack(stateDir, () => undefined)).toBe(0);
  });
});

describe('native stack failing half-way', () => {
  let stateDir: string;

  afterAll(async () => {
    if (stateDir) {
      await stopNativeStack(stateDir, () => undefined).catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('names the component that failed with its log, and keeps what started recorded for down', async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'perfstack-native-fail-'));
    chmodSync(stateDir, 0o755);
    const config = await loadConfig(CONFIG_FILE);
    const error = await startNativeStack(config, {
      stateDir,
      ruleFiles: [],
      writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, config, { slackApiUrlFile }),
      configFile: CONFIG_FILE,
      ports: 'free',
      // A capture "server" that exits at once: everything before it has started by then.
      captureCommand: [process.execPath, '-e', 'console.error("capture: cannot bind"); process.exit(3)', '--'],
      log: () => undefined,
    }).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toMatch(/^slack-capture failed: exited \(3\) before it was ready; last lines of .*slack-capture\.log:\ncapture: cannot bind/);

    const recorded = readStackState(stateDir).components;
    expect(recorded.map((c) => c.name)).toEqual(['postgres', 'redis', 'app', 'pg-stats', 'node-exporter', 'blackbox', 'redis-exporter']);
    expect(await stopNativeStack(stateDir, () => undefined)).toBe(7);
    for (const c of recorded) expect(isGone(c.pid), `${c.name} pid ${c.pid}`).toBe(true);
  });
});
