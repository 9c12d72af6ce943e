import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../metrics/index.js';
import { httpMetrics, metricsHandler, normaliseMethod, UNMATCHED_ROUTE } from './index.js';

const L = http.labels;
const registry = new Registry();
let server: Server;
let base: string;
let releaseSlow: (() => void) | undefined;

beforeAll(async () => {
  const app = express();
  app.use(httpMetrics({ service: 'entities-api', registry }));
  app.get('/metrics', metricsHandler(registry));

  const api = express.Router();
  api.get('/entities/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  api.post('/entities', (_req, res) => {
    res.status(201).json({ created: true });
  });
  api.get('/entities/:id/fail', () => {
    throw new Error('boom');
  });
  api.get('/slow', (_req, res) => {
    releaseSlow = () => res.json({ slow: true });
  });
  api.all('/anything', (_req, res) => {
    res.status(204).end();
  });
  app.use('/api', api);
  app.get('/', (_req, res) => {
    res.send('home');
  });
  // app-level error handler: express has left the /api router by now
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });

  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function count(labels: Record<string, string>): Promise<number> {
  const data = await registry.getSingleMetric(http.requestDuration)!.get();
  const match = data.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === `${http.requestDuration}_count` &&
      Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value),
  );
  return match?.value ?? 0;
}

const series = (method: string, route: string, status: number) => ({
  [L.service]: 'entities-api',
  [L.method]: method,
  [L.route]: route,
  [L.statusCode]: String(status),
});

describe('httpMetrics', () => {
  it('labels requests with the route template, never the raw path', async () => {
    for (const id of ['123', '456', 'secret-id-789']) {
      const response = await fetch(`${base}/api/entities/${id}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id });
    }
    expect((await fetch(`${base}/api/entities`, { method: 'POST' })).status).toBe(201);
    expect((await fetch(`${base}/`)).status).toBe(200);

    expect(await count(series('GET', '/api/entities/:id', 200))).toBe(3);
    expect(await count(series('POST', '/api/entities', 201))).toBe(1);
    expect(await count(series('GET', '/', 200))).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('http_route="/api/entities/:id"');
    // Raw ids never reach a label (sample values like 0.0123 may contain the digits, labels may not).
    const labelText = text.split('\n').map((line) => line.slice(0, line.lastIndexOf('}') + 1)).join('\n');
    expect(labelText).not.toContain('123');
    expect(text).not.toContain('secret-id-789');
  });

  it('keeps unmatched requests on one bounded label', async () => {
    for (const path of ['/nope', '/api/nope/1', '/api/entities', '/x/y/z?q=1']) {
      expect((await fetch(`${base}${path}`)).status).toBe(404);
    }
    expect(await count(series('GET', UNMATCHED_ROUTE, 404))).toBe(4);
    const text = await registry.metrics();
    expect(text).not.toContain('/nope');
    expect(text).not.toContain('/x/y/z');
  });

  it('keeps the mount path when an app-level error handler answers', async () => {
    expect((await fetch(`${base}/api/entities/42/fail`)).status).toBe(500);
    expect(await count(series('GET', '/api/entities/:id/fail', 500))).toBe(1);
  });

  it('maps unknown methods to _OTHER', async () => {
    expect((await fetch(`${base}/api/anything`, { method: 'PURGE' })).status).toBe(204);
    expect(await count(series('_OTHER', '/api/anything', 204))).toBe(1);
    expect(normaliseMethod('get')).toBe('GET');
    expect(normaliseMethod('PROPFIND')).toBe('_OTHER');
  });

  it('tracks requests in flight', async () => {
    const active = async () => (await registry.getSingleMetric(http.activeRequests)!.get()).values[0]?.value;
    const pending = fetch(`${base}/api/slow`);
    for (let i = 0; i < 100 && !releaseSlow; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await active()).toBe(1);
    releaseSlow!();
    expect((await pending).status).toBe(200);
    // the response may reach the client a moment before 'finish' fires on the server
    for (let i = 0; i < 50 && (await active()) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await active()).toBe(0);
  });

  it('serves /metrics that promtool accepts', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain(`# TYPE ${http.requestDuration} histogram`);
    const result = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
  });

  it('shares metric objects between services in one registry', () => {
    expect(() => httpMetrics({ service: 'another', registry })).not.toThrow();
    expect(() => httpMetrics({ service: '', registry })).toThrow(/service/);
  });
});
