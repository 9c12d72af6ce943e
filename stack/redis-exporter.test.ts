// Debian's prometheus-redis-exporter as perfstack launches it (redisExporterLaunch), against a real
// redis-server, both on loopback ports picked here and stopped by PID at the end.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer } from '../metrics/index.js';
import { freePort, redisExporterLaunch, redisUrl, startLaunch, startRedisServer, type RunningProcess } from './index.js';

/** The value of an unlabelled sample in Prometheus's text format, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return line ? Number(line[1]) : undefined;
}

describe('redis_exporter (redisExporterLaunch)', () => {
  let dir: string;
  let redis: RunningProcess | undefined;
  let exporter: RunningProcess | undefined;
  let redisPort: number;
  let exporterPort: number;
  const metrics = async () => (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'perfstack-redis-exporter-'));
    redisPort = await freePort();
    redis = await startRedisServer({ port: redisPort, dir, maxMemory: '32mb' });
    exporterPort = await freePort();
    exporter = await startLaunch('redis-exporter', exporterPort, redisExporterLaunch({ port: exporterPort, redisUrl: redisUrl(redisPort) }));
  });

  afterAll(async () => {
    await exporter?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback only, with the flags perfstack relies on', () => {
    const args = readFileSync(`/proc/${exporter!.pid}/cmdline`, 'utf8').split('\0');
    expect(args[0]).toMatch(/prometheus-redis-exporter$/);
    expect(args).toContain(`-web.listen-address=127.0.0.1:${exporterPort}`);
    expect(args).toContain(`-redis.addr=redis://127.0.0.1:${redisPort}`);
  });

  it('reports redis_up 1 and the memory, client and keyspace series the dashboards and rules read', async () => {
    const text = await metrics();
    expect(sample(text, redisServer.up)).toBe(1);
    expect(sample(text, redisServer.memoryUsed)).toBeGreaterThan(0);
    expect(sample(text, redisServer.memoryMax)).toBe(32 * 1024 * 1024);
    for (const name of Object.values(redisServer)) expect(sample(text, name), name).toBeGreaterThanOrEqual(0);
    // Cheap to scrape: Redis's INFO only, no Go runtime series.
    expect(text).not.toMatch(/^go_/m);
  });

  it('rejects a Redis address that is not a redis:// URL, naming the option', () => {
    expect(() => redisExporterLaunch({ port: 9121, redisUrl: '127.0.0.1:6379' })).toThrow(/redisUrl must be redis:\/\/HOST:PORT.*"127\.0\.0\.1:6379"/);
  });

  it('reports redis_up 0, and keeps answering, once Redis is stopped', async () => {
    await redis!.stop();
    redis = undefined;
    const text = await metrics();
    expect(sample(text, redisServer.up)).toBe(0);
    expect(sample(text, redisServer.memoryUsed)).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${exporterPort}/health`)).ok).toBe(true);
  });
});
