// What each duration covers, on every path through the pool: pool.query shares clock reads between
// its steps (acquire = wait end = query start, query end = release), everything else reads the
// clock at each step. Only lower bounds built from sleeps and busy work are asserted, so a slow
// machine cannot fail these.

import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dbClient } from '../../metrics/index.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { instrumentPool } from './index.js';

let server: TestPostgres;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function makePool(config: pg.PoolConfig = {}): { pool: pg.Pool; registry: Registry } {
  const registry = new Registry();
  const pool = new pg.Pool({ connectionString: server.url, max: 2, ...config });
  pool.on('error', () => undefined);
  const handle = instrumentPool(pool, { poolName: 'timing', registry });
  cleanups.push(async () => {
    handle.uninstrument();
    await pool.end();
  });
  return { pool, registry };
}

/** _sum and _count of a histogram family, over all its series. */
async function totals(registry: Registry, family: string): Promise<{ sum: number; count: number }> {
  const metric = registry.getSingleMetric(family);
  if (!metric) throw new Error(`no metric ${family}`);
  let sum = 0;
  let count = 0;
  for (const value of (await metric.get()).values) {
    const name = (value as { metricName?: string }).metricName;
    if (name === `${family}_sum`) sum += value.value;
    if (name === `${family}_count`) count += value.value;
  }
  return { sum, count };
}

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the pool's connections first, so creation time stays out of the figures below. */
async function warm(pool: pg.Pool, registry: Registry) {
  await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')]);
  return {
    wait: await totals(registry, dbClient.waitTime),
    use: await totals(registry, dbClient.useTime),
    operation: await totals(registry, dbClient.operationDuration),
  };
}

async function since(registry: Registry, before: Awaited<ReturnType<typeof warm>>) {
  const delta = (now: { sum: number; count: number }, then: { sum: number; count: number }) => ({ sum: now.sum - then.sum, count: now.count - then.count });
  return {
    wait: delta(await totals(registry, dbClient.waitTime), before.wait),
    use: delta(await totals(registry, dbClient.useTime), before.use),
    operation: delta(await totals(registry, dbClient.operationDuration), before.operation),
  };
}

describe('instrumentPool durations', () => {
  it('pool.query: the operation and the use both cover the query, and use is never shorter', async () => {
    const { pool, registry } = makePool();
    const before = await warm(pool, registry);
    await pool.query('SELECT pg_sleep(0.05)');
    await new Promise<void>((resolve, reject) => pool.query('SELECT pg_sleep(0.03)', (error) => (error ? reject(error) : resolve())));
    const d = await since(registry, before);
    expect(d.operation.count).toBe(2);
    expect(d.use.count).toBe(2);
    expect(d.wait.count).toBe(2);
    expect(d.operation.sum).toBeGreaterThanOrEqual(0.08);
    expect(d.use.sum).toBeGreaterThanOrEqual(d.operation.sum);
  });

  it('pool.query behind a busy pool: the wait covers the time the only connection was held', async () => {
    const { pool, registry } = makePool({ max: 1 });
    await pool.query('SELECT 1');
    const before = await since(registry, { wait: { sum: 0, count: 0 }, use: { sum: 0, count: 0 }, operation: { sum: 0, count: 0 } });
    const held = await pool.connect();
    const queued = pool.query('SELECT 1');
    await sleep(60);
    held.release();
    await queued;
    const d = await since(registry, before);
    expect(d.wait.count).toBe(2);
    expect(d.wait.sum).toBeGreaterThanOrEqual(0.055);
    expect(d.use.sum).toBeGreaterThanOrEqual(0.055); // the held connection
  });

  it('pool.connect with a callback: work before the first query is use time, not operation time', async () => {
    const { pool, registry } = makePool();
    const before = await warm(pool, registry);
    await new Promise<void>((resolve, reject) => {
      pool.connect((error, client, release) => {
        if (error || !client) return reject(error);
        busy(40);
        client.query('SELECT 1', (queryError) => {
          busy(30); // still holding the connection: use time
          release();
          if (queryError) reject(queryError);
          else resolve();
        });
      });
    });
    const d = await since(registry, before);
    expect(d.operation.count).toBe(1);
    expect(d.use.count).toBe(1);
    expect(d.use.sum - d.operation.sum).toBeGreaterThanOrEqual(0.065);
  });

  it('a checked-out client with promises: each step reads its own time', async () => {
    const { pool, registry } = makePool();
    const before = await warm(pool, registry);
    const client = await pool.connect();
    await sleep(30);
    await client.query('SELECT pg_sleep(0.02)');
    await sleep(30);
    client.release();
    const d = await since(registry, before);
    expect(d.operation.sum).toBeGreaterThanOrEqual(0.02);
    expect(d.use.sum - d.operation.sum).toBeGreaterThanOrEqual(0.055);
  });

  it('options.verify: the wait includes the verification', async () => {
    const { pool, registry } = makePool({
      verify: (_client: unknown, done: (error?: Error) => void) => {
        setTimeout(() => done(), 50);
      },
    } as pg.PoolConfig);
    await pool.query('SELECT 1');
    const wait = await totals(registry, dbClient.waitTime);
    expect(wait.count).toBe(1);
    expect(wait.sum).toBeGreaterThanOrEqual(0.045);
    const operation = await totals(registry, dbClient.operationDuration);
    // the operation starts after the verification, not at the hand-over
    expect(wait.sum - operation.sum).toBeGreaterThanOrEqual(0.04);
  });
});
