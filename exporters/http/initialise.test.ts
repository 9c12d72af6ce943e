import express from 'express';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { http } from '../../metrics/index.js';
import { expressRoutes, httpMetrics, initialiseRoutes, UNMATCHED_ROUTE } from './index.js';

const L = http.labels;

function sampleApp() {
  const app = express();
  app.get('/api/items', (_req, res) => void res.json([]));
  app.post('/api/items', (_req, res) => void res.status(201).json({}));
  app.route('/api/items/:id').get((_req, res) => void res.json({})).delete((_req, res) => void res.status(204).end());
  app.get(/^\/regex$/, (_req, res) => void res.end());
  app.all('/any', (_req, res) => void res.end());
  return app;
}

async function countSeries(registry: Registry): Promise<Map<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === http.requestDuration);
  const counts = new Map<string, number>();
  for (const value of (metric?.values ?? []) as { metricName?: string; labels: Record<string, string | number>; value: number }[]) {
    if (value.metricName !== `${http.requestDuration}_count`) continue;
    counts.set(`${value.labels[L.method]} ${value.labels[L.route]} ${value.labels[L.statusCode]}`, value.value);
  }
  return counts;
}

describe('initialiseRoutes', () => {
  it('reads the routes registered on an express app, skipping regular expressions and app.all', () => {
    expect(expressRoutes(sampleApp())).toEqual([
      { method: 'GET', route: '/api/items' },
      { method: 'POST', route: '/api/items' },
      { method: 'GET', route: '/api/items/:id' },
      { method: 'DELETE', route: '/api/items/:id' },
    ]);
  });

  it('creates every route, method and success status at zero before any request', async () => {
    const registry = new Registry();
    const app = sampleApp();
    app.use(httpMetrics({ service: 'svc', registry }));
    const created = initialiseRoutes(app, { service: 'svc', registry, routes: [{ method: 'get', route: '/mounted/:x' }] });
    expect(created.map((r) => `${r.method} ${r.route}`)).toEqual([
      'GET /api/items',
      'POST /api/items',
      'DELETE /api/items/:id',
      'GET /api/items/:id',
      'GET /mounted/:x',
      `GET ${UNMATCHED_ROUTE}`,
    ]);
    const counts = await countSeries(registry);
    expect([...counts.keys()].sort()).toEqual([
      'DELETE /api/items/:id 200',
      'DELETE /api/items/:id 204',
      'GET /api/items 200',
      'GET /api/items/:id 200',
      'GET /mounted/:x 200',
      `GET ${UNMATCHED_ROUTE} 200`,
      'POST /api/items 200',
      'POST /api/items 201',
      'POST /api/items 204',
    ]);
    expect([...counts.values()].every((v) => v === 0)).toBe(true);
  });

  it('names the bad route it was given', () => {
    expect(() => initialiseRoutes(express(), { service: 'svc', registry: new Registry(), routes: [{ method: 'GET', route: '' }] })).toThrow(/non-empty route template/);
    expect(() => initialiseRoutes(express(), { service: '', registry: new Registry() })).toThrow(/options.service/);
  });
});
