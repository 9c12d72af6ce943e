// The Redis read cache against a real redis-server and a real PostgreSQL 15: hits and misses,
// TTL, invalidation on writes, and Redis killed, paused or never started mid-run.

import { createConnection, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from 'prom-client';
import type { TestPostgres } from '../../test/support/postgres.js';
import { startSeededPostgres } from '../../test/support/seeded-postgres.js';
import { waitUntil } from '../../test/support/wait.js';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { freePort } from '../../stack/index.js';
import { cache as cacheMetrics } from '../../metrics/index.js';
import type { PerfstackConfig } from '../../config/index.js';
import { startApp, type RunningApp } from '../index.js';
import { call, testConfig } from '../testing.js';
import { CACHE_KEY_PREFIX, SEARCH_GENERATION_KEY } from './index.js';

let db: TestPostgres;
let redis: TestRedis;
const apps: RunningApp[] = [];
const logs: string[] = [];

beforeAll(async () => {
  [db, redis] = await Promise.all([startSeededPostgres(), startRedis()]);
}, 120_000);

afterAll(async () => {
  for (const app of apps) await app.stop();
  await redis?.stop();
  await db?.stop();
});

/**
 * Redis timeout in these tests: generous, so a loaded CI machine never turns a healthy Redis round
 * trip into a timeout (the exact hit and miss counts below depend on it), yet far below how long a
 * paused Redis would hold a request.
 */
const TEST_TIMEOUT_MS = 500;

function configWith(cache: Partial<PerfstackConfig['cache']>): PerfstackConfig {
  const config = testConfig();
  return { ...config, cache: { ...config.cache, ...cache } };
}

async function start(options: { redisUrl?: string; cache?: boolean; config?: PerfstackConfig } = {}): Promise<RunningApp> {
  const app = await startApp({ databaseUrl: db.url, config: options.config ?? configWith({ timeoutMs: TEST_TIMEOUT_MS }), redisUrl: options.redisUrl ?? redis.url, cache: options.cache, log: (line) => logs.push(line) });
  apps.push(app);
  return app;
}

/** Sum of a metric's samples whose labels include `labels` (histograms: their _count). */
async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!found) return 0;
  const countName = found.type === ('histogram' as never) ? `${name}_count` : name;
  return found.values
    .filter((v) => (v as { metricName?: string }).metricName === undefined || (v as { metricName?: string }).metricName === countName)
    .filter((v) => Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value))
    .reduce((sum, v) => sum + v.value, 0);
}

const requests = (app: RunningApp, cache: string, result: string) => metric(app.registry, cacheMetrics.requests, { cache, result });
const errors = (app: RunningApp, labels: Record<string, string>) => metric(app.registry, cacheMetrics.errors, labels);
const cacheStatus = async (app: RunningApp) => (await call(app.url, 'GET', '/health/cache')).body.status as string;

describe('read cache on a live Redis', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await start();
    await redis.client().flushall();
  });

  it('answers an entity read from PostgreSQL first, then from Redis, and counts both', async () => {
    const first = await call(app.url, 'GET', '/api/entities/3');
    const second = await call(app.url, 'GET', '/api/entities/3');
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await requests(app, 'entity', 'miss')).toBe(1);
    expect(await requests(app, 'entity', 'hit')).toBe(1);
    expect(JSON.parse((await redis.client().get(`${CACHE_KEY_PREFIX}:entity:3`)) ?? 'null')).toEqual(first.body);
    expect(await metric(app.registry, cacheMetrics.operationDuration, { cache: 'entity', operation: 'get', result: 'hit' })).toBe(1);
    expect(await cacheStatus(app)).toBe('up');
  });

  it('stores entries with the TTL from the config and does not cache a 404', async () => {
    await call(app.url, 'GET', '/api/entities/4');
    const ttl = await redis.client().ttl(`${CACHE_KEY_PREFIX}:entity:4`);
    expect(ttl).toBeGreaterThan(testConfig().cache.entity.ttlSeconds - 5);
    expect(ttl).toBeLessThanOrEqual(testConfig().cache.entity.ttlSeconds);
    expect((await call(app.url, 'GET', '/api/entities/999999999')).status).toBe(404);
    expect(await redis.client().exists(`${CACHE_KEY_PREFIX}:entity:999999999`)).toBe(0);
  });

  it('caches a search by query and limit, and labels its duration by cache result', async () => {
    const first = await call(app.url, 'GET', '/api/search?q=alpha&limit=5');
    const second = await call(app.url, 'GET', '/api/search?q=alpha&limit=5');
    const otherLimit = await call(app.url, 'GET', '/api/search?q=alpha&limit=6');
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(otherLimit.status).toBe(200);
    expect(await requests(app, 'search', 'hit')).toBe(1);
    expect(await requests(app, 'search', 'miss')).toBe(2);
    expect(await metric(app.registry, cacheMetrics.searchDuration, { cache_result: 'hit' })).toBe(1);
    expect(await metric(app.registry, cacheMetrics.searchDuration, { cache_result: 'miss' })).toBe(2);
  });

  it('invalidates the entity and every cached search on a write', async () => {
    const created = await call(app.url, 'POST', '/api/entities', { json: { name: 'zebracache original', category: 'cache' } });
    const id = created.body.id as number;
    await call(app.url, 'GET', `/api/entities/${id}`);
    expect((await call(app.url, 'GET', `/api/entities/${id}`)).body.name).toBe('zebracache original');
    const before = await call(app.url, 'GET', '/api/search?q=zebracache%20renamed');
    expect(before.body.items.some((item: { id: number; name: string }) => item.id === id && item.name === 'zebracache renamed')).toBe(false);
    const generation = Number((await redis.client().get(SEARCH_GENERATION_KEY)) ?? 0);

    const updated = await call(app.url, 'PUT', `/api/entities/${id}`, { json: { name: 'zebracache renamed', category: 'cache' } });
    expect(updated.status).toBe(200);
    expect(Number(await redis.client().get(SEARCH_GENERATION_KEY))).toBe(generation + 1);
    const hitsBefore = await requests(app, 'entity', 'hit');
    expect((await call(app.url, 'GET', `/api/entities/${id}`)).body.name).toBe('zebracache renamed');
    expect(await requests(app, 'entity', 'hit')).toBe(hitsBefore); // a miss: the old entry is gone
    const after = await call(app.url, 'GET', '/api/search?q=zebracache%20renamed');
    expect(after.body.items.some((item: { id: number; name: string }) => item.id === id && item.name === 'zebracache renamed')).toBe(true);

    expect((await call(app.url, 'DELETE', `/api/entities/${id}`)).status).toBe(204);
    expect((await call(app.url, 'GET', `/api/entities/${id}`)).status).toBe(404);
  });

  it('expires entries after their TTL', async () => {
    const shortLived = await start({ config: configWith({ timeoutMs: TEST_TIMEOUT_MS, entity: { ttlSeconds: 1, minHitRatio: 0.5 } }) });
    await redis.client().del(`${CACHE_KEY_PREFIX}:entity:5`);
    await call(shortLived.url, 'GET', '/api/entities/5');
    await call(shortLived.url, 'GET', '/api/entities/5');
    expect(await requests(shortLived, 'entity', 'hit')).toBe(1);
    await waitUntil('entity 5 expired', async () => (await redis.client().exists(`${CACHE_KEY_PREFIX}:entity:5`)) === 0, 5000, 50);
    await call(shortLived.url, 'GET', '/api/entities/5');
    expect(await requests(shortLived, 'entity', 'miss')).toBe(2);
  });
});

describe('caching off', () => {
  it('with cache: false every read goes to PostgreSQL and Redis stays untouched', async () => {
    const app = await start({ cache: false });
    await redis.client().del(`${CACHE_KEY_PREFIX}:entity:6`);
    expect((await call(app.url, 'GET', '/api/entities/6')).status).toBe(200);
    expect((await call(app.url, 'GET', '/api/search?q=beta')).status).toBe(200);
    expect(await redis.client().exists(`${CACHE_KEY_PREFIX}:entity:6`)).toBe(0);
    expect(await metric(app.registry, cacheMetrics.requests)).toBe(0);
    expect(await metric(app.registry, cacheMetrics.searchDuration, { cache_result: 'bypass' })).toBe(1);
    expect(await cacheStatus(app)).toBe('disabled');
    const exposition = await (await fetch(`${app.url}/metrics`)).text();
    expect(exposition).not.toMatch(new RegExp(`^${cacheMetrics.up} `, 'm'));
  });

  it('rejects a redisUrl that is not redis://, naming the option', async () => {
    await expect(startApp({ databaseUrl: db.url, config: testConfig(), redisUrl: 'http://127.0.0.1:6379' })).rejects.toThrow(/options\.redisUrl must be a redis:\/\//);
  });
});

describe('Redis failures', () => {
  it('Redis never started: the service answers from PostgreSQL, counts the errors, reports the cache down', async () => {
    const nobody = await freePort();
    const app = await start({ redisUrl: `redis://127.0.0.1:${nobody}` });
    const res = await call(app.url, 'GET', '/api/entities/7');
    expect(res.status, 'entity read without Redis must still answer from PostgreSQL').toBe(200);
    expect((await call(app.url, 'GET', '/api/search?q=gamma')).status).toBe(200);
    expect(await errors(app, { operation: 'get', error_type: 'unavailable' })).toBe(2);
    expect(await requests(app, 'entity', 'miss')).toBe(1);
    expect(await cacheStatus(app)).not.toBe('up');
    expect(await metric(app.registry, cacheMetrics.up)).toBe(0);
  });

  it('Redis killed mid-run: reads stay 200 from PostgreSQL, errors are counted, and caching resumes after a restart', async () => {
    const app = await start();
    expect((await call(app.url, 'GET', '/api/entities/8')).status).toBe(200);
    expect((await call(app.url, 'GET', '/api/entities/8')).status).toBe(200);
    expect(await requests(app, 'entity', 'hit')).toBe(1);

    await redis.kill();
    await waitUntil('app notices Redis is gone', async () => (await cacheStatus(app)) === 'down', 10_000, 50);
    for (let i = 0; i < 5; i++) {
      const res = await call(app.url, 'GET', '/api/entities/8');
      expect(res.status, `read ${i} with Redis killed: ${res.text}`).toBe(200);
      expect(res.body.id).toBe(8);
      expect((await call(app.url, 'GET', '/api/search?q=delta')).status).toBe(200);
    }
    expect(await errors(app, { cache: 'entity', operation: 'get' })).toBeGreaterThanOrEqual(5);
    expect(await errors(app, { cache: 'search', operation: 'get' })).toBeGreaterThanOrEqual(5);
    expect(await metric(app.registry, cacheMetrics.up)).toBe(0);
    expect(logs.some((line) => /cache: .*(unavailable|closed)/.test(line))).toBe(true);

    await redis.restart();
    await waitUntil('app reconnects to the restarted Redis', async () => (await cacheStatus(app)) === 'up', 15_000, 50);
    await call(app.url, 'GET', '/api/entities/8');
    const hits = await requests(app, 'entity', 'hit');
    await call(app.url, 'GET', '/api/entities/8');
    expect(await requests(app, 'entity', 'hit')).toBe(hits + 1);
  }, 60_000);

  it('Redis paused (SIGSTOP): reads give up on Redis after the timeout and are answered from PostgreSQL', async () => {
    const app = await start();
    await call(app.url, 'GET', '/api/entities/9');
    redis.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await call(app.url, 'GET', '/api/entities/9');
        expect(res.status, `read ${i} with Redis paused: ${res.text}`).toBe(200);
        // Generous bound: it proves the read does not wait for Redis, not how fast it is.
        expect(res.ms, 'a paused Redis must not hold the request beyond its timeout').toBeLessThan(TEST_TIMEOUT_MS + 2500);
      }
      expect(await errors(app, { cache: 'entity', operation: 'get', error_type: 'timeout' })).toBe(3);
    } finally {
      redis.resume();
    }
    await waitUntil('cache hits again after SIGCONT', async () => {
      const hits = await requests(app, 'entity', 'hit');
      await call(app.url, 'GET', '/api/entities/9');
      return (await requests(app, 'entity', 'hit')) > hits;
    }, 10_000, 50);
  }, 30_000);

  it('a write whose invalidation fails (connection cut) never lets the stale entry be read afterwards', async () => {
    // A TCP relay in front of Redis that can cut every connection: Redis keeps the old entry,
    // as after a network blip, which a killed (and so emptied) Redis cannot show.
    const relay = await startRelay(redis.port);
    try {
      const app = await start({ redisUrl: `redis://127.0.0.1:${relay.port}` });
      await call(app.url, 'GET', '/api/entities/10');
      expect((await call(app.url, 'GET', '/api/entities/10')).body.name).not.toBe('stale-check renamed');
      expect(await redis.client().exists(`${CACHE_KEY_PREFIX}:entity:10`)).toBe(1);
      relay.cut();
      await waitUntil('app notices the cut', async () => (await cacheStatus(app)) === 'down', 10_000, 50);
      const updated = await call(app.url, 'PUT', '/api/entities/10', { json: { name: 'stale-check renamed', category: 'cache' } });
      expect(updated.status, 'the write itself succeeds without Redis').toBe(200);
      expect(await errors(app, { operation: 'invalidate' })).toBeGreaterThanOrEqual(1);
      expect((await call(app.url, 'GET', '/health/cache')).body.flushPending).toBe(true);
      // The stale entry is still in Redis: only the flush can keep it from being served.
      expect(JSON.parse((await redis.client().get(`${CACHE_KEY_PREFIX}:entity:10`)) ?? '{}').name).not.toBe('stale-check renamed');
      relay.restore();
      await waitUntil('app reconnects through the relay', async () => (await cacheStatus(app)) === 'up', 15_000, 50);
      expect((await call(app.url, 'GET', '/api/entities/10')).body.name).toBe('stale-check renamed');
      expect((await call(app.url, 'GET', '/health/cache')).body.flushPending).toBe(false);
      expect((await call(app.url, 'GET', '/api/entities/10')).body.name).toBe('stale-check renamed');
    } finally {
      await relay.close();
    }
  }, 30_000);
});

/** A loopback TCP relay to Redis whose connections can be cut (and new ones refused) on demand. */
async function startRelay(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
