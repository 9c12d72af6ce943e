// Database outage and recovery, and graceful shutdown, against a real PostgreSQL 15.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPostgres } from '../test/support/postgres.js';
import { startSeededPostgres } from '../test/support/seeded-postgres.js';
import { startApp, type RunningApp } from './index.js';
import { call, testConfig } from './testing.js';

let db: TestPostgres;
let app: RunningApp;
const logs: string[] = [];

beforeAll(async () => {
  db = await startSeededPostgres();
  app = await startApp({ databaseUrl: db.url, config: testConfig(), log: (line) => logs.push(line) });
});

afterAll(async () => {
  await app?.stop();
  await db?.stop();
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('database outage', () => {
  it('answers 503 fast while the database is down, keeps running, and recovers', async () => {
    // Warm the pool: several idle connections that the outage will kill.
    await Promise.all(Array.from({ length: 8 }, () => call(app.url, 'GET', '/api/entities/1')));
    expect((await call(app.url, 'GET', '/api/entities/1')).status).toBe(200);

    await db.stopServer();
    let slowest = 0;
    for (const [method, path, json] of [
      ['GET', '/api/entities/1'],
      ['GET', '/api/entities/1'],
      ['GET', '/api/search?q=abc'],
      ['POST', '/api/entities', { name: 'x', category: 'y' }],
      ['POST', '/api/resolve', { candidates: ['abc'] }],
      ['POST', '/api/auth/login', { username: 'demo', password: 'x' }],
    ] as const) {
      const res = await call(app.url, method, path, json ? { json } : {});
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 503, body: { error: 'database unavailable' } });
      expect(res.ms).toBeLessThan(2000);
      slowest = Math.max(slowest, res.ms);
      expect(res.headers.get('retry-after')).toBe('1');
    }
    const down = await call(app.url, 'GET', '/health/database');
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('down');
    expect(down.ms).toBeLessThan(2000);
    const detailed = await call(app.url, 'GET', '/health/database/detailed');
    expect(detailed.status).toBe(503);
    expect(detailed.ms).toBeLessThan(2500);
    const metrics = await call(app.url, 'GET', '/health/database/metrics');
    expect(metrics.status).toBe(200);
    for (const body of [down.text, detailed.text, metrics.text]) {
      expect(body).not.toContain('SELECT');
      expect(body).not.toContain(String(db.port));
    }
    expect((await call(app.url, 'GET', '/health')).status).toBe(200);
    expect((await call(app.url, 'GET', '/metrics')).status).toBe(200);

    await db.startServer();
    const recovered = await waitFor(async () => (await call(app.url, 'GET', '/api/entities/1')).status === 200, 10_000);
    expect(recovered).toBeLessThan(5000);
    console.log(`outage: slowest 503 ${Math.round(slowest)} ms, /health/database ${Math.round(down.ms)} ms, recovered ${Math.round(recovered)} ms after restart`);
    expect((await call(app.url, 'GET', '/health/database')).status).toBe(200);
    expect((await call(app.url, 'GET', '/api/search?q=abc')).status).toBe(200);
    // Errors were answered, not crashed on, and not logged as internal errors.
    expect(logs.filter((l) => l.startsWith('error:'))).toEqual([]);
  });
});

describe('graceful shutdown', () => {
  it('completes an in-flight slow request before closing', async () => {
    const other = await startApp({ databaseUrl: db.url, config: testConfig(), log: () => undefined, fault: { latencyMs: 800, errorRate: 0, route: '/api/entities' } });
    // A keep-alive connection that is idle: it must not hold the shutdown up.
    expect((await call(other.url, 'GET', '/health')).status).toBe(200);

    const inFlight = call(other.url, 'GET', '/api/entities/2');
    await new Promise((r) => setTimeout(r, 200));
    const stopStarted = performance.now();
    let stoppedAt = 0;
    const stopped = other.stop().then(() => {
      stoppedAt = performance.now();
    });
    // New connections are refused while draining.
    await expect(fetch(`${other.url}/health`)).rejects.toThrow();

    const res = await inFlight;
    const answeredAt = performance.now();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 2 });
    await stopped;
    expect(stoppedAt).toBeGreaterThanOrEqual(answeredAt - 50);
    expect(stoppedAt - stopStarted).toBeGreaterThan(400);
    expect(stoppedAt - stopStarted).toBeLessThan(3000);
    await other.stop(); // twice is fine
  });
});
