import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import defaults from '../perfstack.config.js';
import { allPanels, findGrafana, listDashboards, provisionedDatasources, startUserGrafana, startViewer, startViewerProcess, stopViewerProcesses, readViewerState, type Dashboard, type Viewer } from './index.js';
import { checkAnnotation, checkPanel, checkVariable } from './shared/support.js';
import { formatValue } from './shared/units.js';
import { annotationEvents, organize, toTable } from './shared/data.js';
import { builtInVariables, formatVariable, interpolate, parseTime, parseVariableQuery, queryTiming, shapeOptions, type VariableValue } from './shared/template.js';
import { sections } from './shared/model.js';

const DASHBOARDS = 'provisioning/grafana/dashboards';

describe('the generated dashboards, read as the viewer reads them', () => {
  const entries = listDashboards(DASHBOARDS);

  it('lists every dashboard file with its uid and title', () => {
    expect(entries.length).toBeGreaterThanOrEqual(6);
    for (const entry of entries) {
      expect(entry.error).toBeUndefined();
      expect(entry.uid).toMatch(/^perfstack-/);
    }
  });

  it('uses nothing the viewer would have to report as unsupported', () => {
    const problems: string[] = [];
    for (const entry of entries) {
      const json = JSON.parse(readFileSync(entry.path, 'utf8')) as Dashboard;
      for (const panel of allPanels(json)) {
        const report = checkPanel(panel);
        if (!report.typeSupported) problems.push(`${entry.file} / ${panel.title}: type ${panel.type}`);
        for (const u of report.unsupported) problems.push(`${entry.file} / ${panel.title}: ${u}`);
      }
      for (const v of json.templating?.list ?? []) problems.push(...checkVariable(v).map((p) => `${entry.file}: ${p}`));
      for (const a of json.annotations?.list ?? []) problems.push(...checkAnnotation(a).map((p) => `${entry.file}: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it('lays rows out as sections, collapsed rows keeping their panels', () => {
    const dashboard: Dashboard = {
      uid: 'x',
      title: 'x',
      panels: [
        { type: 'stat', id: 1, gridPos: { x: 0, y: 0, w: 6, h: 4 } },
        { type: 'row', id: 2, title: 'open', collapsed: false, gridPos: { x: 0, y: 4, w: 24, h: 1 }, panels: [] },
        { type: 'timeseries', id: 3, gridPos: { x: 0, y: 5, w: 12, h: 8 } },
        { type: 'row', id: 4, title: 'closed', collapsed: true, gridPos: { x: 0, y: 13, w: 24, h: 1 }, panels: [{ type: 'gauge', id: 5, gridPos: { x: 0, y: 14, w: 6, h: 4 } }] },
      ],
    };
    const s = sections(dashboard);
    expect(s.map((x) => [x.row?.id, x.top, x.panels.map((p) => p.id)])).toEqual([
      [undefined, 0, [1]],
      [2, 5, [3]],
      [4, 14, [5]],
    ]);
    expect(allPanels(dashboard).map((p) => p.id)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('reports what it cannot draw', () => {
  it('names an unknown panel type, option, unit, override, transformation and variable type', () => {
    expect(checkPanel({ type: 'piechart' })).toEqual({ typeSupported: false, unsupported: [] });
    const report = checkPanel({
      type: 'timeseries',
      options: { legend: { displayMode: 'list' }, foo: true },
      fieldConfig: { defaults: { unit: 'furlongs', custom: { stacking: { mode: 'percent' } } }, overrides: [{}] },
      transformations: [{ id: 'reduce' }],
      repeat: 'job',
    });
    expect(report.unsupported).toEqual([
      'panel.repeat = "job"',
      'options.foo = true',
      'fieldConfig.defaults.unit = "furlongs"',
      'fieldConfig.defaults.custom.stacking.mode = "percent"',
      'fieldConfig.overrides (1)',
      'transformations: reduce',
    ]);
    expect(checkVariable({ name: 'f', type: 'adhoc' })).toEqual(['variable $f: type adhoc']);
  });
});

describe('template variables, as Grafana fills them in for Prometheus', () => {
  const v = (values: string[], extra: Partial<VariableValue> = {}): VariableValue => ({ values, isAll: false, multi: true, includeAll: true, ...extra });

  it('escapes values for regex matchers, uses allValue for All, and knows the format specifiers', () => {
    expect(interpolate('up{job=~"$job"}', { job: v(['api']) })).toBe('up{job=~"api"}');
    expect(interpolate('up{job=~"$job"}', { job: v(['a.b', 'c']) })).toBe('up{job=~"(a\\\\.b|c)"}');
    expect(interpolate('up{job=~"${job}"}', { job: v(['a', 'b'], { isAll: true, allValue: '.*' }) })).toBe('up{job=~".*"}');
    expect(interpolate('up{job=~"[[job]]"}', { job: v(['a', 'b'], { isAll: true, allValue: null }) })).toBe('up{job=~"(a|b)"}');
    expect(interpolate('${job:csv} ${job:pipe} ${job:regex} $__rate_interval $unknown', { job: v(['a', 'b']), __rate_interval: '1m' })).toBe('a,b a|b (a|b) 1m $unknown');
    expect(formatVariable(v(["it's"], { multi: false, includeAll: false }))).toBe("it\\\\'s");
  });

  it('reads label_values, query_result, metrics and label_names, then applies regex and sort', () => {
    expect(parseVariableQuery('label_values(up{job=~"$job"}, instance)')).toEqual({ kind: 'label_values', match: 'up{job=~"$job"}', label: 'instance' });
    expect(parseVariableQuery({ query: 'label_values(job)' })).toEqual({ kind: 'label_values', label: 'job' });
    expect(parseVariableQuery('query_result(topk(3, up))')).toEqual({ kind: 'query_result', expr: 'topk(3, up)' });
    expect(parseVariableQuery('something else')).toBeUndefined();
    expect(shapeOptions(['b', 'a', 'c', 'a'], undefined, 1)).toEqual(['a', 'b', 'c']);
    expect(shapeOptions(['run-1', 'run-2'], '/run-(\\d)/', 2)).toEqual(['2', '1']);
  });

  it('computes $__interval, $__rate_interval and $__range like Grafana, with aligned steps', () => {
    const range = { from: 1_700_000_000_000, to: 1_700_003_600_000 }; // one hour
    const timing = queryTiming(range, 1000, 15_000);
    expect(timing.intervalMs).toBe(15_000); // 3.6 s rounds to 5 s, below the 15 s scrape interval
    expect(timing.rateIntervalMs).toBe(60_000); // max(15 + 15, 4 × 15) s
    expect(timing.start % timing.step).toBe(0);
    expect(builtInVariables(range, timing)).toMatchObject({ __interval: '15s', __rate_interval: '1m', __range: '3600s', __range_s: '3600' });
    expect(queryTiming({ from: 0, to: 7 * 86_400_000 }, 1000, 15_000).intervalMs).toBe(600_000);
  });

  it('reads relative and absolute times', () => {
    const now = Date.UTC(2026, 0, 10, 12, 30);
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('now-1h', now)).toBe(now - 3_600_000);
    expect(parseTime('now-7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseTime('1700000000000', now)).toBe(1_700_000_000_000);
    expect(parseTime('2026-01-01T00:00:00Z', now)).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('yesterday', now)).toBeUndefined();
  });
});

describe('units, tables and annotations', () => {
  it('formats the units the dashboards use', () => {
    expect(formatValue(0.25, 's')).toBe('250 ms');
    expect(formatValue(2.5, 's')).toBe('2.5 s');
    expect(formatValue(0.999, 'percentunit', 1)).toBe('99.9%');
    expect(formatValue(1536, 'bytes')).toBe('1.5 KiB');
    expect(formatValue(2048, 'Bps')).toBe('2 KiB/s');
    expect(formatValue(12.34, 'reqps')).toBe('12.3 req/s');
    expect(formatValue(1500, 'short')).toBe('1.5 K');
    expect(formatValue(3, 'suffix:x')).toBe('3x');
    expect(formatValue(null, 's')).toBe('No data');
  });

  it("builds Grafana's table format and applies organize", () => {
    const series = [
      { refId: 'A', name: 'a', labels: { __name__: 'm', job: 'x', route: '/a' }, times: [10], values: [1] },
      { refId: 'A', name: 'b', labels: { __name__: 'm', job: 'x', route: '/b' }, times: [10], values: [2] },
    ];
    const table = organize(toTable(series, ['A']), { excludeByName: { Time: true, __name__: true }, renameByName: { Value: 'p95' } });
    expect(table.columns).toEqual(['job', 'route', 'p95']);
    expect(table.rows).toEqual([
      ['x', '/a', 1],
      ['x', '/b', 2],
    ]);
    expect(table.numeric).toEqual([false, false, true]);
  });

  it('turns runs of non-zero values into annotation events', () => {
    const events = annotationEvents([{ refId: 'A', name: '', labels: { kpi: 'p95' }, times: [60, 120, 180, 300, 360], values: [1, 1, 0, 1, 1] }], 60);
    expect(events.map((e) => e.time)).toEqual([60, 300]);
  });
});

describe('the viewer server', () => {
  let prometheus: Server;
  let viewer: Viewer;
  const requests: string[] = [];

  beforeAll(async () => {
    prometheus = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: ['api'] }));
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(prometheus.address() as { port: number }).port}`;
    viewer = await startViewer({ dashboardsDir: DASHBOARDS, datasources: provisionedDatasources('provisioning/grafana/datasources', url), port: 0, log: () => undefined });
  });

  afterAll(async () => {
    await viewer.stop();
    await new Promise((resolve) => prometheus.close(resolve));
  });

  it('binds to loopback and serves the page, its script, uPlot from node_modules, and the dashboards', async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await (await fetch(`${viewer.url}/d/perfstack-slos`)).text();
    expect(page).toContain('/static/uPlot.iife.min.js');
    const uplot = await fetch(`${viewer.url}/static/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect((await uplot.text()).length).toBeGreaterThan(30_000);
    expect((await fetch(`${viewer.url}/static/app.js`)).status).toBe(200);
    const list = (await (await fetch(`${viewer.url}/api/dashboards`)).json()) as { uid: string }[];
    expect(list.map((d) => d.uid)).toContain('perfstack-slos');
    const dashboard = (await (await fetch(`${viewer.url}/api/dashboards/uid/perfstack-slos`)).json()) as Dashboard;
    expect(dashboard.title).toContain('SLOs');
    const datasources = (await (await fetch(`${viewer.url}/api/datasources`)).json()) as Record<string, unknown>[];
    expect(datasources).toEqual([{ uid: 'perfstack-prometheus', name: 'Prometheus', type: 'prometheus', isDefault: true, scrapeIntervalSeconds: 15 }]);
  });

  it('proxies only GET query, query_range, series, labels and label values', async () => {
    const base = `${viewer.url}/api/datasources/proxy/uid/perfstack-prometheus`;
    expect((await fetch(`${base}/api/v1/label/job/values?match[]=up`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/query?query=up`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/query_range?query=up&start=1&end=2&step=1`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/admin/tsdb/delete_series?match[]=up`)).status).toBe(403);
    expect((await fetch(`${base}/-/quit`)).status).toBe(403);
    expect((await fetch(`${base}/api/v1/query?query=up`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${viewer.url}/api/datasources/proxy/uid/nope/api/v1/query?query=up`)).status).toBe(404);
    expect(requests).toEqual(['GET /api/v1/label/job/values?match[]=up', 'GET /api/v1/query?query=up', 'GET /api/v1/query_range?query=up&start=1&end=2&step=1']);
  });
});

describe("the user's own Grafana", () => {
  it('is looked for on PATH and never fetched: none here, nothing starts', async () => {
    expect(findGrafana('/nonexistent')).toBeUndefined();
    const state = mkdtempSync(join(tmpdir(), 'perfstack-grafana-none-'));
    try {
      const started = await startUserGrafana({ stateDir: state, config: parseConfig(defaults), prometheusUrl: 'http://127.0.0.1:9', provisioningDir: 'provisioning/grafana', path: '/nonexistent', log: () => undefined });
      expect(started).toBeUndefined();
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('runs one found on PATH, provisioned as compose does, recorded for `down`, stopped by PID', async () => {
    const root = mkdtempSync(join(tmpdir(), 'perfstack-grafana-fake-'));
    try {
      // A stand-in `grafana` that records its arguments and environment and answers /api/health.
      const bin = join(root, 'bin');
      const fake = join(bin, 'grafana');
      mkdirSync(bin);
      writeFileSync(
        fake,
        `#!${process.execPath}
const fs = require('node:fs');
fs.writeFileSync(${JSON.stringify(join(root, 'seen.json'))}, JSON.stringify({ argv: process.argv.slice(2), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GF_'))) }));
require('node:http').createServer((q, s) => s.end('{"database":"ok"}')).listen(Number(process.env.GF_SERVER_HTTP_PORT), process.env.GF_SERVER_HTTP_ADDR);
process.on('SIGTERM', () => process.exit(0));
`,
      );
      chmodSync(fake, 0o755);
      const stateDir = join(root, 'state');
      const started = await startUserGrafana({ stateDir, config: parseConfig(defaults), prometheusUrl: 'http://127.0.0.1:9999', provisioningDir: 'provisioning/grafana', path: bin, port: 0, log: () => undefined });
      expect(started?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const seen = JSON.parse(readFileSync(join(root, 'seen.json'), 'utf8')) as { argv: string[]; env: Record<string, string> };
      expect(seen.argv.slice(0, 2)).toEqual(['server', '--homepath']);
      expect(seen.env).toMatchObject({ GF_SECURITY_ADMIN_USER: 'admin', GF_USERS_ALLOW_SIGN_UP: 'false', GF_ANALYTICS_REPORTING_ENABLED: 'false', GF_SERVER_HTTP_ADDR: '127.0.0.1' });
      expect(seen.env.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe(join(stateDir, 'secrets', 'grafana_admin_password'));
      const provisioning = seen.env.GF_PATHS_PROVISIONING!;
      const datasource = parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: { uid: string; url: string }[] };
      expect(datasource.datasources[0]).toMatchObject({ uid: 'perfstack-prometheus', url: 'http://127.0.0.1:9999' });
      const provider = parse(readFileSync(join(provisioning, 'dashboards', 'perfstack.yml'), 'utf8')) as { providers: { options: { path: string; foldersFromFilesStructure: boolean } }[] };
      expect(provider.providers[0]!.options).toEqual({ path: join(provisioning, 'dashboards'), foldersFromFilesStructure: true });
      expect(readFileSync(join(provisioning, 'dashboards', 'slos', 'slos.json'), 'utf8')).toBe(readFileSync(join(DASHBOARDS, 'slos', 'slos.json'), 'utf8'));
      expect(readViewerState(stateDir).map((p) => p.name)).toEqual(['grafana']);
      expect(await stopViewerProcesses(stateDir, () => undefined)).toBe(1);
      expect(readViewerState(stateDir)).toEqual([]);
      await expect(fetch(`${started!.url}/api/health`)).rejects.toThrow();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('`perfstack start` runs the viewer as `perfstack dashboards serve`', () => {
  it('starts it detached, records it beside stack.json, reuses it, and `down` stops it by PID', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'perfstack-viewer-process-'));
    try {
      const options = { stateDir, prometheusUrl: 'http://127.0.0.1:9', perfstackCommand: [process.execPath, join(import.meta.dirname, '..', 'bin', 'perfstack.js')], dashboardsDir: DASHBOARDS, datasourcesDir: 'provisioning/grafana/datasources', port: 0, log: () => undefined };
      const started = await startViewerProcess(options);
      const list = (await (await fetch(`${started.url}/api/dashboards`)).json()) as unknown[];
      expect(list.length).toBeGreaterThanOrEqual(6);
      expect(readFileSync(started.log, 'utf8')).toContain(`perfstack dashboards: ${started.url}`);
      const again = await startViewerProcess(options);
      expect(again.pid).toBe(started.pid);
      expect(await stopViewerProcesses(stateDir, () => undefined)).toBe(1);
      await expect(fetch(`${started.url}/api/health`)).rejects.toThrow();
      expect(readFileSync(started.log, 'utf8')).toContain('viewer: SIGTERM, stopping');
    } finally {
      await stopViewerProcesses(stateDir, () => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
