import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import defaults from '../../perfstack.config.js';
import { parseConfig } from '../../config/index.js';
import type { CheckContext } from './context.js';
import { linkProfile, renderAnalysisMarkdown, type AnalysisReport, type PrometheusClient } from './index.js';

// `analyze --profile`: linked when the service was CPU-bound, explained away when it was not;
// and how the report shows a profile and --explain's plans.

const config = parseConfig(defaults);
const top = [
  { name: 'hashPassword', location: '/srv/app/password.ts:10:3', selfMs: 900, selfShare: 0.6 },
  { name: 'stringify', location: '/srv/node_modules/express/lib/response.js:1026:20', selfMs: 100, selfShare: 0.07 },
];

function ctxWithCpu(cores: number | undefined): { ctx: CheckContext; queries: string[] } {
  const queries: string[] = [];
  const prometheus: PrometheusClient = {
    url: 'http://prometheus.test',
    instant: async (query) => {
      queries.push(query);
      return cores === undefined ? [] : [{ labels: {}, value: cores }];
    },
    raw: async () => [],
    ping: async () => undefined,
  };
  return { ctx: { prometheus, config, time: 1000, rangeSeconds: 60, window: '60s' }, queries };
}

describe('analyze --profile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'perfstack-profile-link-'));
    writeFileSync(join(dir, 'top-functions.json'), JSON.stringify({ totalMs: 1500, idleMs: 100, functions: top }));
    writeFileSync(join(dir, 'flamegraph.html'), '<!doctype html>');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('links the profile and its top functions when the service used a core', async () => {
    const { ctx, queries } = ctxWithCpu(0.97);
    const link = await linkProfile(ctx, dir);
    expect(link.cpuBound).toBe(true);
    expect(link.top.map((f) => f.name)).toEqual(['hashPassword', 'stringify']);
    expect(queries[0]).toMatch(/process_cpu_seconds_total|nodejs/);
    const markdown = renderAnalysisMarkdown(report({ profile: link }));
    expect(markdown).toContain('## CPU profile');
    expect(markdown).toContain(`flame graph [${join(dir, 'flamegraph.html')}]`);
    expect(markdown).toContain('| 900.0 ms | 60 % | hashPassword | /srv/app/password.ts:10:3 |');
  });

  it('says why the profile is not linked when the service was not CPU-bound', async () => {
    const link = await linkProfile(ctxWithCpu(0.2).ctx, dir);
    expect(link.cpuBound).toBe(false);
    expect(link.top).toEqual([]);
    expect(renderAnalysisMarkdown(report({ profile: link }))).toContain('not linked: the service used 0.20 cores at most, below 0.8');
    expect((await linkProfile(ctxWithCpu(undefined).ctx, dir)).note).toContain('not measured');
  });

  it('names the folder when it holds no profile', async () => {
    await expect(linkProfile(ctxWithCpu(1).ctx, join(dir, 'missing'))).rejects.toThrow(/--profile .*missing: no top-functions.json/);
  });

  it('renders --explain plans and skipped statements with their reasons', () => {
    const markdown = renderAnalysisMarkdown(
      report({
        explains: [
          { queryid: '1', query: 'SELECT sum(x) FROM t', calls: 3, meanSeconds: 0.2, totalSeconds: 0.6, mode: 'analyze', plan: 'Aggregate (actual time=1..2 rows=1 loops=1)\n  Buffers: shared hit=5', note: 'EXPLAIN (ANALYZE, BUFFERS), read-only, statement_timeout 5000 ms' },
          { queryid: '2', query: 'SELECT id FROM t WHERE id = $1 FOR UPDATE', calls: 1, meanSeconds: 0.1, totalSeconds: 0.1, mode: 'skipped', note: 'skipped: locks rows (FOR UPDATE/SHARE); only plain SELECTs are explained' },
        ],
      }),
    );
    expect(markdown).toContain('## Statement plans');
    expect(markdown).toContain('Buffers: shared hit=5');
    expect(markdown).toContain('skipped: locks rows (FOR UPDATE/SHARE); only plain SELECTs are explained.');
  });
});

function report(extra: Partial<AnalysisReport>): AnalysisReport {
  return {
    prometheusUrl: 'http://prometheus.test',
    start: '2024-05-01T12:00:00.000Z',
    end: '2024-05-01T12:01:00.000Z',
    rangeSeconds: 60,
    generatedAt: '2024-05-01T12:02:00.000Z',
    database: 'not given',
    routes: [],
    findings: [],
    sections: [],
    ...extra,
  };
}
