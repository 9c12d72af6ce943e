// The reference service's API against a real PostgreSQL 15 (seeded 'small').

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { DEMO_USER, MAX_FILE_BYTES, faultFromEnv, migrate, seed, startApp, type RunningApp } from './index.js';
import { call, testConfig } from './testing.js';

const PASSWORD = 's3cret-pw-8c1f';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let db: TestPostgres;
let app: RunningApp;
let databaseUrl: string;
const logs: string[] = [];

beforeAll(async () => {
  db = await startPostgres();
  // Trust authentication ignores the password, but it is part of the URL the service holds:
  // the health endpoints must never show it.
  databaseUrl = db.url.replace('postgres@', `postgres:${PASSWORD}@`);
  await migrate(databaseUrl);
  await seed(databaseUrl, 'small');
  app = await startApp({ databaseUrl, config: testConfig(), adminToken: ADMIN_TOKEN, log: (line) => logs.push(line) });
});

afterAll(async () => {
  await app?.stop();
  await db?.stop();
});

const api = <T = any>(method: string, path: string, options?: Parameters<typeof call>[3]) => call<T>(app.url, method, path, options);

describe('entities', () => {
  it('round-trips create, read, list, update and delete', async () => {
    const created = await api('POST', '/api/entities', { json: { name: 'Round Trip', category: 'device', attributes: { a: 1, nested: { b: [1, 2] } } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Round Trip', category: 'device', attributes: { a: 1, nested: { b: [1, 2] } } });
    const id = created.body.id as number;
    expect(created.headers.get('location')).toBe(`/api/entities/${id}`);

    const read = await api('GET', `/api/entities/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const updated = await api('PUT', `/api/entities/${id}`, { json: { name: 'Round Trip 2', category: 'service' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'Round Trip 2', category: 'service', attributes: {} });
    expect(Date.parse(updated.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));

    const list = await api('GET', '/api/entities?limit=5&offset=10');
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { id: number }) => e.id)).toEqual([11, 12, 13, 14, 15]);
    const byCategory = await api('GET', '/api/entities?limit=3&category=service');
    expect(byCategory.body.items.every((e: { category: string }) => e.category === 'service')).toBe(true);

    expect((await api('DELETE', `/api/entities/${id}`)).status).toBe(204);
    expect((await api('GET', `/api/entities/${id}`)).status).toBe(404);
    expect((await api('DELETE', `/api/entities/${id}`)).status).toBe(404);
    expect((await api('PUT', `/api/entities/${id}`, { json: { name: 'x', category: 'y' } })).status).toBe(404);
  });

  it('inserts in bulk with multi-row INSERT and with COPY', async () => {
    const before = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM entities'))[0]!.n);
    const make = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `${prefix} ${i}`, category: 'bulk', attributes: { i } }));

    const multirow = await api('POST', '/api/entities/bulk', { json: { mode: 'multirow', entities: make('Multirow', 500) } });
    expect(multirow.status).toBe(201);
    expect(multirow.body).toEqual({ mode: 'multirow', inserted: 500 });

    // COPY text format: tabs, newlines and backslashes must arrive unchanged.
    const tricky = [{ name: 'Tab\there\nnewline \\N back\\slash', category: 'bulk', attributes: { s: 'a\tb' } }];
    const copy = await api('POST', '/api/entities/bulk', { json: { mode: 'copy', entities: [...make('Copy', 499), ...tricky] } });
    expect(copy.status).toBe(201);
    expect(copy.body).toEqual({ mode: 'copy', inserted: 500 });

    const after = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM entities'))[0]!.n);
    expect(after - before).toBe(1000);
    const stored = await db.query<{ name: string; attributes: unknown }>("SELECT name, attributes FROM entities WHERE name LIKE 'Tab%'");
    expect(stored).toEqual([{ name: tricky[0]!.name, attributes: { s: 'a\tb' } }]);

    // Both modes are timed under their own bounded query summaries.
    const metrics = (await api('GET', '/metrics')).text;
    expect(metrics).toMatch(/db_client_operation_duration_seconds_count\{[^}]*db_query_summary="entities.bulk_multirow"[^}]*\} 1\n/);
    expect(metrics).toMatch(/db_client_operation_duration_seconds_count\{[^}]*db_query_summary="entities.bulk_copy"[^}]*\} 1\n/);

    const tooMany = await api('POST', '/api/entities/bulk', { json: { mode: 'copy', entities: make('X', 1001) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('entities');
  });
});

describe('search and resolve', () => {
  beforeAll(async () => {
    await api('POST', '/api/entities', { json: { name: 'Perfstack Observatory', category: 'project' } });
  });

  it('finds the fuzzy match first', async () => {
    const res = await api('GET', `/api/search?q=${encodeURIComponent('perfstak observatry')}&limit=5`);
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({ name: 'Perfstack Observatory', category: 'project' });
    expect(res.body.items[0].score).toBeGreaterThan(0.3);
    expect(res.body.items.length).toBeLessThanOrEqual(5);
    const none = await api('GET', '/api/search?q=qqqqzzzzxxxx');
    expect(none.body.items).toEqual([]);
  });

  it('plans name % $1 as a bitmap scan of the trigram GIN index', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('ANALYZE entities');
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query(
        'EXPLAIN SELECT id, name, similarity(name, $1) AS score FROM entities WHERE name % $1 ORDER BY score DESC, id LIMIT 10',
        ['perfstak observatry'],
      );
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('Bitmap Index Scan on entities_name_trgm_idx');
    } finally {
      await client.end();
    }
  });

  it('resolves a batch of candidates with scores and a threshold', async () => {
    const res = await api('POST', '/api/resolve', { json: { candidates: ['Perfstack Observatry', 'qqqqzzzz xxxx', 'Perfstack Observatory'] } });
    expect(res.status).toBe(200);
    expect(res.body.threshold).toBe(0.3);
    const [fuzzy, missing, exact] = res.body.results;
    expect(fuzzy.candidate).toBe('Perfstack Observatry');
    expect(fuzzy.match).toMatchObject({ name: 'Perfstack Observatory' });
    expect(fuzzy.match.score).toBeGreaterThan(0.5);
    expect(fuzzy.match.score).toBeLessThan(1);
    expect(missing).toEqual({ candidate: 'qqqqzzzz xxxx', match: null });
    expect(exact.match).toMatchObject({ name: 'Perfstack Observatory', score: 1 });

    const strict = await api('POST', '/api/resolve', { json: { candidates: ['Perfstack Observatry', 'Perfstack Observatory'], threshold: 0.99 } });
    expect(strict.body.results[0].match).toBeNull();
    expect(strict.body.results[1].match.score).toBe(1);

    // A low threshold (below pg_trgm's default 0.3) is honoured too.
    const loose = await api('POST', '/api/resolve', { json: { candidates: ['Observatory Perfstack Unit'], threshold: 0.1 } });
    expect(loose.body.results[0].match).toMatchObject({ name: 'Perfstack Observatory' });
  });
});

describe('auth', () => {
  it('logs in, logs out, and refuses bad credentials and tokens', async () => {
    const login = await api('POST', '/api/auth/login', { json: DEMO_USER });
    expect(login.status).toBe(200);
    expect(login.body.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(Date.parse(login.body.expiresAt)).toBeGreaterThan(Date.now());
    const stored = await db.query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE token_hash = sha256($1::bytea)', [Buffer.from(login.body.token)]);
    expect(stored[0]!.n).toBe('1');

    expect((await api('POST', '/api/auth/logout', { token: login.body.token })).status).toBe(204);
    expect((await api('POST', '/api/auth/logout', { token: login.body.token })).status).toBe(401);
    const invalid = await api('POST', '/api/auth/logout', { token: 'not-a-real-token' });
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get('www-authenticate')).toBe('Bearer');
    const missing = await api('POST', '/api/auth/logout');
    expect(missing.status).toBe(401);
    expect(missing.body.field).toBe('authorization');

    expect((await api('POST', '/api/auth/login', { json: { username: 'demo', password: 'wrong' } })).status).toBe(401);
    const unknown = await api('POST', '/api/auth/login', { json: { username: 'nobody', password: 'x' } });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('invalid username or password');
  });
});

describe('files', () => {
  it('round-trips an upload and refuses bodies beyond the bound', async () => {
    const content = randomBytes(5000);
    const up = await api('POST', '/api/files', { body: content, headers: { 'content-type': 'image/png' } });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ size: 5000, contentType: 'image/png' });

    const res = await fetch(`${app.url}/api/files/${up.body.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);

    // Without a content type the body is still stored, as application/octet-stream.
    const plain = await api('POST', '/api/files', { body: new Uint8Array([1, 2, 3]) });
    expect(plain.status).toBe(201);

    const max = await api('POST', '/api/files', { body: randomBytes(MAX_FILE_BYTES), headers: { 'content-type': 'application/octet-stream' } });
    expect(max.status).toBe(201);
    const tooBig = await api('POST', '/api/files', { body: randomBytes(MAX_FILE_BYTES + 1), headers: { 'content-type': 'application/octet-stream' } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toEqual({ error: 'request body is too large', field: 'body' });

    expect((await api('GET', '/api/files/999999')).status).toBe(404);
    const empty = await api('POST', '/api/files', { body: '', headers: { 'content-type': 'text/plain' } });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('body');
  });
});

describe('validation', () => {
  it('answers 400 naming the field', async () => {
    const cases: [string, string, Parameters<typeof call>[3] | undefined, string][] = [
      ['POST', '/api/entities', { json: { category: 'x' } }, 'name'],
      ['POST', '/api/entities', { json: { name: 'x', category: 'y', extra: 1 } }, 'extra'],
      ['POST', '/api/entities', { json: { name: 'x', category: 'y', attributes: [1] } }, 'attributes'],
      ['GET', '/api/entities?limit=1000', undefined, 'limit'],
      ['GET', '/api/entities?offset=-1', undefined, 'offset'],
      ['GET', '/api/entities/abc', undefined, 'id'],
      ['PUT', '/api/entities/1', { json: { name: '', category: 'y' } }, 'name'],
      ['POST', '/api/entities/bulk', { json: { mode: 'fast', entities: [{ name: 'a', category: 'b' }] } }, 'mode'],
      ['POST', '/api/entities/bulk', { json: { mode: 'copy', entities: [{ name: 'a', category: 'b' }, { name: 'a' }] } }, 'entities.1.category'],
      ['GET', '/api/search', undefined, 'q'],
      ['GET', '/api/search?q=abc&limit=0', undefined, 'limit'],
      ['POST', '/api/resolve', { json: { candidates: ['a'], threshold: 2 } }, 'threshold'],
      ['POST', '/api/resolve', { json: { candidates: [] } }, 'candidates'],
      ['POST', '/api/auth/login', { json: { username: 'demo' } }, 'password'],
      ['POST', '/api/entities', { body: '{"name": ', headers: { 'content-type': 'application/json' } }, 'body'],
      ['POST', '/api/entities', { body: 'name=x', headers: { 'content-type': 'text/plain' } }, 'body'],
      ['POST', '/api/files', { body: 'x', headers: { 'content-type': 'not a type' } }, 'content-type'],
      ['GET', '/api/entities/%E0%A4%A', undefined, 'path'],
    ];
    for (const [method, path, options, field] of cases) {
      const res = await api(method, path, options);
      expect({ method, path, status: res.status, field: res.body.field }).toEqual({ method, path, status: 400, field });
      expect(res.body.error).toContain(field === 'body' ? '' : field);
      expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
    }
    const big = await api('POST', '/api/entities', { json: { name: 'x', category: 'y', attributes: { pad: 'x'.repeat(120 * 1024) } } });
    expect(big.status).toBe(413);
    const nul = await api('POST', '/api/entities', { json: { name: 'a\u0000b', category: 'y' } });
    expect(nul.status).toBe(400);
    expect(nul.text).not.toMatch(/INSERT|invalid byte/);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await api('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not found' });
  });
});

describe('front-end', () => {
  it('serves the page and its script', async () => {
    const page = await api('GET', '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/static/app.js');
    const script = await api('GET', '/static/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.text).toContain('/api/search');
  });
});

describe('metrics and health', () => {
  it('exposes HTTP, pool and process metrics on /metrics', async () => {
    await api('GET', '/api/entities/1');
    const res = await api('GET', '/metrics');
    expect(res.status).toBe(200);
    const text = res.text;
    expect(text).toMatch(/http_server_request_duration_seconds_bucket\{[^}]*http_route="\/api\/entities\/:id"/);
    expect(text).toMatch(/service="perfstack-app"/);
    expect(text).toMatch(/db_client_operation_duration_seconds_bucket\{[^}]*db_client_connection_pool_name="perfstack-app"[^}]*db_query_summary="entities.get"/);
    expect(text).toContain('db_client_connection_count{');
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('reports health without leaking the connection string or SQL', async () => {
    const bodies: string[] = [];
    const health = await api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');

    const database = await api('GET', '/health/database');
    expect(database.status).toBe(200);
    expect(database.body.status).toBe('up');

    const metrics = await api('GET', '/health/database/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body.pool).toMatchObject({ name: 'perfstack-app', max: 10 });
    expect(metrics.body.pool.total).toBeGreaterThanOrEqual(metrics.body.pool.idle);
    expect(metrics.body.queries.count).toBeGreaterThan(10);
    expect(metrics.body.queries.averageSeconds).toBeGreaterThan(0);
    expect(metrics.body.queries.bySummary['entities.get'].count).toBeGreaterThan(0);
    expect(metrics.body.connections.acquisitions).toBeGreaterThan(0);

    const detailed = await api('GET', '/health/database/detailed');
    expect(detailed.status).toBe(200);
    const checks = detailed.body.checks;
    expect(Object.keys(checks).sort()).toEqual(['avgQuerySeconds', 'cacheHit', 'indexUsage', 'maxQuerySeconds', 'poolUtilisation']);
    expect(checks.poolUtilisation).toMatchObject({ threshold: 0.8, comparison: 'max', status: 'ok' });
    expect(checks.avgQuerySeconds.source).toBe('pg_stat_statements');
    expect(checks.avgQuerySeconds.value).toBeGreaterThan(0);
    expect(checks.maxQuerySeconds.value).toBeGreaterThan(0);
    expect(checks.cacheHit.value).toBeGreaterThan(0);
    expect(checks.indexUsage.value).toBeGreaterThan(0);
    expect(detailed.body.breached).toEqual(Object.keys(checks).filter((k) => checks[k].status === 'breached'));
    expect(['ok', 'degraded']).toContain(detailed.body.status);

    bodies.push(health.text, database.text, metrics.text, detailed.text);
    for (const body of bodies) {
      expect(body).not.toContain(PASSWORD);
      expect(body).not.toContain(String(db.port));
      expect(body).not.toContain('SELECT');
      expect(body).not.toContain('postgres://');
    }
  });

  it('lists a breached KPI', async () => {
    const strict = testConfig();
    strict.database.cacheHit = 1.01 as number; // unreachable on purpose
    strict.database.poolUtilisation = 0;
    const other = await startApp({ databaseUrl, config: strict, log: () => undefined });
    try {
      await call(other.url, 'GET', '/api/entities/1');
      const slow = call(other.url, 'GET', '/health/database/detailed');
      const res = await slow;
      expect(res.body.status).toBe('degraded');
      expect(res.body.breached).toContain('cacheHit');
    } finally {
      await other.stop();
    }
  });
});

describe('fault switch', () => {
  it('is driven by the admin endpoint, behind the bearer token', async () => {
    expect((await api('GET', '/admin/fault')).status).toBe(401);
    expect((await api('POST', '/admin/fault', { json: { errorRate: 1 }, token: 'wrong-token' })).status).toBe(401);
    const off = await api('GET', '/admin/fault', { token: ADMIN_TOKEN });
    expect(off.body).toEqual({ latencyMs: 0, errorRate: 0 });

    const set = await api('POST', '/admin/fault', { json: { errorRate: 1, route: '/api/search' }, token: ADMIN_TOKEN });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ latencyMs: 0, errorRate: 1, route: '/api/search' });
    expect((await api('GET', '/api/search?q=abc')).status).toBe(500);
    expect((await api('GET', '/api/entities/1')).status).toBe(200);
    expect((await api('GET', '/health')).status).toBe(200);

    await api('POST', '/admin/fault', { json: { latencyMs: 300 }, token: ADMIN_TOKEN });
    const slow = await api('GET', '/api/entities/1');
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(290);
    const metrics = await api('GET', '/metrics');
    expect(metrics.text).toMatch(/http_server_request_duration_seconds_count\{[^}]*http_route="\/api\/search",http_response_status_code="500"\} 1/);

    const bad = await api('POST', '/admin/fault', { json: { errorRate: 2 }, token: ADMIN_TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('errorRate');

    expect((await api('POST', '/admin/fault', { json: {}, token: ADMIN_TOKEN })).body).toEqual({ latencyMs: 0, errorRate: 0 });
    expect(app.fault.active).toBe(false);
    const fast = await api('GET', '/api/entities/1');
    expect(fast.ms).toBeLessThan(250);
  });

  it('is off by default and the admin endpoint is disabled without a token', async () => {
    const other = await startApp({ databaseUrl, config: testConfig(), log: () => undefined });
    try {
      expect(other.fault.get()).toEqual({ latencyMs: 0, errorRate: 0 });
      expect((await call(other.url, 'GET', '/admin/fault')).status).toBe(404);
      expect((await call(other.url, 'POST', '/admin/fault', { json: {}, token: ADMIN_TOKEN })).status).toBe(404);
    } finally {
      await other.stop();
    }
  });

  it('is read from the environment', async () => {
    expect(faultFromEnv({})).toEqual({ latencyMs: 0, errorRate: 0 });
    const settings = faultFromEnv({ PERFSTACK_FAULT_LATENCY_MS: '200', PERFSTACK_FAULT_ERROR_RATE: '0.5', PERFSTACK_FAULT_ROUTE: '/api/entities' });
    expect(settings).toEqual({ latencyMs: 200, errorRate: 0.5, route: '/api/entities' });
    expect(() => faultFromEnv({ PERFSTACK_FAULT_ERROR_RATE: '1.5' })).toThrow(/PERFSTACK_FAULT_ERROR_RATE/);
    expect(() => faultFromEnv({ PERFSTACK_FAULT_LATENCY_MS: 'slow' })).toThrow(/PERFSTACK_FAULT_LATENCY_MS/);
    expect(() => faultFromEnv({ PERFSTACK_FAULT_ROUTE: 'api' })).toThrow(/PERFSTACK_FAULT_ROUTE/);

    const other = await startApp({
      databaseUrl,
      config: testConfig(),
      log: () => undefined,
      fault: faultFromEnv({ PERFSTACK_FAULT_LATENCY_MS: '150', PERFSTACK_FAULT_ERROR_RATE: '0.5', PERFSTACK_FAULT_ROUTE: '/api/entities' }),
    });
    try {
      const results = await Promise.all(Array.from({ length: 40 }, () => call(other.url, 'GET', '/api/entities/1')));
      const errors = results.filter((r) => r.status === 500).length;
      expect(errors).toBeGreaterThan(5);
      expect(errors).toBeLessThan(35);
      expect(results.every((r) => r.status === 200 || r.status === 500)).toBe(true);
      expect(Math.min(...results.map((r) => r.ms))).toBeGreaterThanOrEqual(140);
      const search = await call(other.url, 'GET', '/api/search?q=abc');
      expect(search.status).toBe(200);
      expect(search.ms).toBeLessThan(140);
    } finally {
      await other.stop();
    }
  });
});

describe('log', () => {
  it('logged the start and no unexpected errors', () => {
    expect(logs.some((l) => l.startsWith(`perfstack-app listening on ${app.url}`))).toBe(true);
    expect(logs.filter((l) => l.startsWith('error:'))).toEqual([]);
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });
});
