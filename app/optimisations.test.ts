// Compression and keyset pagination of the reference service, on a real PostgreSQL 15 (seeded 'small').

import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPostgres } from '../test/support/postgres.js';
import { startSeededPostgres } from '../test/support/seeded-postgres.js';
import { startApp, type RunningApp } from './index.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { call, testConfig } from './testing.js';

let db: TestPostgres;
let compressed: RunningApp;
let plain: RunningApp;

beforeAll(async () => {
  db = await startSeededPostgres();
  const log = () => undefined;
  compressed = await startApp({ databaseUrl: db.url, config: testConfig(), log });
  plain = await startApp({ databaseUrl: db.url, config: testConfig(), log, compression: false });
}, 120_000);

afterAll(async () => {
  await compressed?.stop();
  await plain?.stop();
  await db?.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET that shows the bytes on the wire (fetch would decode them silently). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const LARGE_PAGE = '/api/entities?limit=100';

describe('compression', () => {
  it('answers Accept-Encoding br with brotli, gzip with gzip, and no header with identity; the body is the same', async () => {
    const identity = await rawGet(compressed.url, LARGE_PAGE);
    expect(identity.status).toBe(200);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.length).toBeGreaterThan(1024);
    const expected = JSON.parse(identity.body.toString('utf8'));

    const br = await rawGet(compressed.url, LARGE_PAGE, { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.body.length).toBeLessThan(identity.body.length / 2);
    expect(JSON.parse(brotliDecompressSync(br.body).toString('utf8'))).toEqual(expected);

    const gzip = await rawGet(compressed.url, LARGE_PAGE, { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.body.length).toBeLessThan(identity.body.length / 2);
    expect(JSON.parse(gunzipSync(gzip.body).toString('utf8'))).toEqual(expected);

    // Both offered: brotli is preferred.
    const both = await rawGet(compressed.url, LARGE_PAGE, { 'accept-encoding': 'gzip, deflate, br' });
    expect(both.headers['content-encoding']).toBe('br');
  });

  it('says Vary: Accept-Encoding so caches keep the encodings apart', async () => {
    for (const encoding of ['br', 'gzip', 'identity']) {
      const response = await rawGet(compressed.url, LARGE_PAGE, { 'accept-encoding': encoding });
      expect(String(response.headers.vary ?? '').toLowerCase()).toContain('accept-encoding');
    }
  });

  it('leaves bodies under the threshold uncompressed', async () => {
    const small = await rawGet(compressed.url, '/api/entities/1', { 'accept-encoding': 'br, gzip' });
    expect(small.status).toBe(200);
    expect(small.body.length).toBeLessThan(testConfig().compression.thresholdBytes);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString('utf8'))).toMatchObject({ id: 1 });
  });

  it('compresses nothing when switched off (startApp compression: false)', async () => {
    const response = await rawGet(plain.url, LARGE_PAGE, { 'accept-encoding': 'br, gzip' });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(response.body.toString('utf8')).items).toHaveLength(100);
  });

  it('keeps /metrics correct: gzip-encoded exposition that still counts the compressed requests', async () => {
    await rawGet(compressed.url, LARGE_PAGE, { 'accept-encoding': 'gzip' });
    const metrics = await rawGet(compressed.url, '/metrics', { 'accept-encoding': 'gzip' });
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-encoding']).toBe('gzip');
    expect(String(metrics.headers['content-type'])).toContain('text/plain');
    const text = gunzipSync(metrics.body).toString('utf8');
    const line = text.split('\n').find((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('http_route="/api/entities"') && l.includes('http_response_status_code="200"'));
    expect(line, 'the compressed list requests are counted').toBeDefined();
    expect(Number(line!.split(' ').pop())).toBeGreaterThanOrEqual(4);
  });
});

describe('keyset pagination', () => {
  const api = <T = any>(path: string) => call<T>(compressed.url, 'GET', path);

  it('walks every entity once, in (created_at, id) order, and says where the end is', async () => {
    const seen: number[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await api(`/api/entities?limit=100&${next ? `after=${next}` : 'paging=keyset'}`);
      expect(page.status).toBe(200);
      expect(page.body.limit).toBe(100);
      expect(page.body).not.toHaveProperty('offset');
      seen.push(...page.body.items.map((e: { id: number }) => e.id));
      next = page.body.next;
      pages++;
    } while (next && pages < 50);
    const total = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM entities'))[0]!.n);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const ordered = await db.query<{ id: string }>('SELECT id FROM entities ORDER BY created_at, id');
    expect(seen).toEqual(ordered.map((r) => Number(r.id)));
  });

  it('neither skips nor repeats rows that share a created_at (same transaction) at page boundaries', async () => {
    const bulk = await call(compressed.url, 'POST', '/api/entities/bulk', {
      json: { mode: 'copy', entities: ['Tie A', 'Tie B', 'Tie C', 'Tie D'].map((name) => ({ name, category: 'tiebreak' })) },
    });
    expect(bulk.status).toBe(201);
    const ids: number[] = [];
    let next: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: { status: number; body: any } = await api(`/api/entities?limit=1&category=tiebreak&${next ? `after=${next}` : 'paging=keyset'}`);
      expect(page.status).toBe(200);
      ids.push(...page.body.items.map((e: { id: number }) => e.id));
      next = page.body.next;
      if (!next) break;
    }
    const expected = await db.query<{ id: string }>("SELECT id FROM entities WHERE category = 'tiebreak' ORDER BY id");
    expect(ids).toEqual(expected.map((r) => Number(r.id)));
    expect(next).toBeNull();
  });

  it('keeps offset paging as the default, unchanged', async () => {
    const page = await api('/api/entities?limit=5&offset=10');
    expect(page.status).toBe(200);
    expect(page.body.items.map((e: { id: number }) => e.id)).toEqual([11, 12, 13, 14, 15]);
    expect(page.body).toMatchObject({ limit: 5, offset: 10 });
    expect(page.body).not.toHaveProperty('next');
    expect((await api('/api/entities')).body).toMatchObject({ limit: 20, offset: 0 });
  });

  it('answers a bad cursor or limit with a 400 that names the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['/api/entities?after=not*base64', 'after'],
      [`/api/entities?after=${Buffer.from('{"x":1}').toString('base64url')}`, 'after'],
      [`/api/entities?after=${Buffer.from('["12", "0"]').toString('base64url')}`, 'after'],
      [`/api/entities?after=${'A'.repeat(300)}`, 'after'],
      ['/api/entities?paging=keyset&limit=0', 'limit'],
      ['/api/entities?paging=keyset&limit=101', 'limit'],
      ['/api/entities?paging=keyset&limit=ten', 'limit'],
      ['/api/entities?paging=sideways', 'paging'],
      ['/api/entities?paging=keyset&offset=5', 'offset'],
      [`/api/entities?paging=offset&after=${encodeCursor({ createdMicros: '1', id: '1' })}`, 'after'],
    ];
    for (const [path, field] of cases) {
      const response = await api(path);
      expect(response.status, path).toBe(400);
      expect(response.body.field, path).toBe(field);
      expect(response.body.error, path).toContain(field);
    }
  });

  it('has an index for each keyset ordering (migration 004)', async () => {
    const rows = await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'entities' ORDER BY indexname");
    expect(rows.map((r) => r.indexname)).toEqual(expect.arrayContaining(['entities_created_at_id_idx', 'entities_category_created_at_id_idx']));
  });
});

describe('cursor encoding', () => {
  it('round-trips and stays opaque (base64url)', () => {
    const cursor = { createdMicros: '1704067200123456', id: '42' };
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
    expect(() => decodeCursor('')).toThrow(/after: is not a valid cursor/);
  });
});
