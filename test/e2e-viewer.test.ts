// End to end: the dashboard viewer draws every generated dashboard in headless Chromium from a live
// Prometheus, after a k6 smoke run and a published regression verdict (viewer/e2e-support.ts).
//
// Checked here: every panel of every dashboard (the regressions dashboard included) is drawn with
// data, except the panels on the empty-panel check's allow-list (test/support/dashboard-queries.ts);
// nothing in the generated JSON is reported unsupported; thresholds are drawn where the JSON (and
// so the config) puts them, on the plot, in their colour; changing a variable changes the queries
// and reloads the variables chained to it; links carry the time and variables; auto-refresh runs
// the queries again; a deliberately broken dashboard shows its errors and unsupported parts.
// Set PERFSTACK_VIEWER_SCREENSHOTS=<dir> to keep a PNG of each dashboard.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_EXECUTABLE, browserArgs } from '../stack/index.js';
import { allPanels, listDashboards, provisionedDatasources, snapshotDashboards, startViewer, type Dashboard, type RenderedPage, type Viewer, type ViewerDatasource } from '../viewer/index.js';
import { startFedStack, type FedStack } from '../viewer/e2e-support.js';
import { config, trafficLoop, type TrafficLoop } from './support/e2e-stack.js';
import { loadPageAsUser } from '../app/rum/testing.js';
import { ALLOWED_EMPTY } from './support/dashboard-queries.js';
import { changedPanels, filesFromGenerated, generateAll, writePanelImages } from '../cli/index.js';

const DASHBOARDS_DIR = 'provisioning/grafana/dashboards';
const DATASOURCES_DIR = 'provisioning/grafana/datasources';

describe('the dashboard viewer draws every generated dashboard from live Prometheus', () => {
  let fed: FedStack | undefined;
  let viewer: Viewer | undefined;
  let brokenViewer: Viewer | undefined;
  let browser: Browser | undefined;
  let traffic: TrafficLoop | undefined;
  let brokenDir = '';
  let from = 0;
  const testid = `e2e-viewer-${randomBytes(3).toString('hex')}`;
  const entries = listDashboards(DASHBOARDS_DIR);
  const screenshots = process.env.PERFSTACK_VIEWER_SCREENSHOTS;

  /** The provisioned datasources, at the test's Prometheus, with its 1 s scrape interval (what Grafana's timeInterval would say for this stack). */
  const datasources = (url: string): ViewerDatasource[] => provisionedDatasources(DATASOURCES_DIR, url).map((d) => ({ ...d, scrapeIntervalSeconds: 1 }));

  beforeAll(async () => {
    fed = await startFedStack('e2e-viewer', testid);
    // A real page load in Chromium: the page's RUM beacon feeds the front-end dashboard's RUM panels.
    await loadPageAsUser(fed.stack.app.url);
    from = Math.floor(fed.startedAt * 1000) - 30_000;
    // Keep the service busy while the pages load, so the "now" panels (instant queries) have data.
    traffic = trafficLoop(fed.stack.app.url, ['/api/entities?limit=5', '/api/search?q=acme', '/health'], 2, 150_000);
    viewer = await startViewer({ dashboardsDir: DASHBOARDS_DIR, datasources: datasources(fed.stack.prometheusUrl), port: 0, log: () => undefined });
    browser = await chromium.launch({ executablePath: BROWSER_EXECUTABLE, headless: true, args: browserArgs().map((a) => `--${a}`) });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await viewer?.stop();
    await brokenViewer?.stop();
    await traffic?.stop();
    await fed?.stop();
    if (brokenDir) rmSync(brokenDir, { recursive: true, force: true });
  });

  async function open(url: string, width = 1600): Promise<{ page: Page; report: RenderedPage }> {
    const page = await browser!.newPage({ viewport: { width, height: 1000 } });
    await page.goto(url);
    const report = await settled(page);
    return { page, report };
  }

  async function settled(page: Page): Promise<RenderedPage> {
    await page.waitForFunction(() => (window as unknown as { perfstackViewer?: { settled: boolean } }).perfstackViewer?.settled === true, undefined, { timeout: 60_000 });
    return (await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { perfstackViewer: unknown }).perfstackViewer)))) as RenderedPage;
  }

  const dashboardUrl = (base: string, uid: string, extra = '') => `${base}/d/${uid}?from=${from}&to=now&refresh=${extra}`;

  it('lists every generated dashboard, by folder', async () => {
    const { page } = await open(viewer!.url);
    const uids = await page.locator('ul.dashboards li').evaluateAll((items) => items.map((li) => li.getAttribute('data-uid')));
    expect(uids.sort()).toEqual(entries.map((e) => e.uid).sort());
    expect(entries.length).toBeGreaterThanOrEqual(6);
    for (const entry of entries) await expect(page.getByRole('link', { name: entry.title, exact: true }).count()).resolves.toBe(1);
    await page.close();
  });

  it('draws every panel of every dashboard with data, the regressions dashboard included', async () => {
    const started = Date.now();
    let drawn = 0;
    let total = 0;
    const problems: string[] = [];
    const allowedEmpty: string[] = [];
    for (const entry of entries) {
      const json = JSON.parse(readFileSync(entry.path, 'utf8')) as Dashboard;
      const { page, report: first } = await open(dashboardUrl(viewer!.url, entry.uid));
      // Open collapsed rows (their panels are drawn on opening, as in Grafana).
      for (const row of await page.locator('h2[data-collapsed="true"]').all()) await row.click();
      const report = await settled(page);
      expect(first.dashboard).toBe(entry.uid);
      expect(report.notices, `${entry.file}: dashboard-level parts the viewer ignores`).toEqual([]);
      for (const [name, variable] of Object.entries(report.variables)) {
        expect(variable.error, `${entry.file}: $${name}`).toBeUndefined();
        expect(variable.options.length, `${entry.file}: $${name} has options`).toBeGreaterThan(0);
      }
      const panels = allPanels(json).filter((p) => p.type !== 'row');
      expect(Object.values(report.panels).filter((p) => p.type !== 'row').length, `${entry.file}: every panel has a place on the page`).toBe(panels.length);
      for (const panel of panels) {
        total++;
        const rendered = report.panels[String(panel.id)]!;
        const where = `${entry.file} / ${panel.title}`;
        if (rendered.unsupported.length > 0) problems.push(`${where}: unsupported ${rendered.unsupported.join(', ')}`);
        for (const q of rendered.queries) if (/\$\w|\[\[/.test(q.expr)) problems.push(`${where}: unresolved variable in ${q.expr}`);
        if (rendered.state === 'ok') drawn++;
        else if (rendered.state === 'empty' && ALLOWED_EMPTY.some((a) => a.dashboard === entry.file && a.panel === panel.title)) allowedEmpty.push(where);
        else problems.push(`${where}: ${rendered.state} ${rendered.errors.join('; ')} ${rendered.queries.map((q) => q.expr).join(' | ')}`);
      }
      if (entry.uid.includes('regression')) expect(report.annotations.find((a) => a.name === 'Regressions')?.events, 'the published regression shows as an annotation').toBeGreaterThan(0);
      if (screenshots) await page.screenshot({ path: join(screenshots, `${entry.uid}.png`), fullPage: true });
      await page.close();
    }
    console.log(`e2e-viewer: ${drawn} of ${total} panels drawn with data, ${allowedEmpty.length} empty on the allow-list, in ${Date.now() - started} ms`);
    expect(problems).toEqual([]);
    expect(drawn + allowedEmpty.length).toBe(total);
    expect(total).toBeGreaterThan(50);
  });

  it('draws thresholds where the config puts them: on the plot, at their value, in their colour', async () => {
    let checked = 0;
    for (const entry of entries) {
      const json = JSON.parse(readFileSync(entry.path, 'utf8')) as Dashboard;
      const { page, report } = await open(dashboardUrl(viewer!.url, entry.uid));
      for (const panel of allPanels(json)) {
        const steps = (panel.fieldConfig?.defaults?.thresholds?.steps ?? []).filter((s) => s.value !== null);
        if (steps.length === 0 || panel.fieldConfig?.defaults?.thresholds?.mode === 'percentage') continue;
        const rendered = report.panels[String(panel.id)]!;
        if (rendered.state !== 'ok') continue;
        const where = `${entry.file} / ${panel.title}`;
        expect(rendered.thresholds.map((t) => t.value), where).toEqual(steps.map((s) => s.value));
        const mode = ((panel.fieldConfig?.defaults?.custom ?? {}) as { thresholdsStyle?: { mode?: string } }).thresholdsStyle?.mode ?? 'off';
        if (panel.type === 'timeseries' && /line|dashed/.test(mode)) {
          for (const mark of rendered.thresholds) expect(mark.inside, `${where}: threshold ${mark.value} lies on the plot`).toBe(true);
          // The line is really there: its colour is on the canvas row the value maps to.
          const found = await page.evaluate(
            ({ id }) => {
              // The marks as last drawn (a resize after the report redraws the chart).
              const marks = (window as unknown as { perfstackViewer: RenderedPage }).perfstackViewer.panels[id]!.thresholds;
              const canvas = document.querySelector<HTMLCanvasElement>(`section.panel[data-panel-id="${id}"] canvas`)!;
              const ctx = canvas.getContext('2d')!;
              return marks.map((m) => {
                const y = m.canvasY ?? -10;
                const rgb = [1, 3, 5].map((i) => parseInt(m.color.slice(i, i + 2), 16));
                const seen = new Set<string>();
                for (const dy of [-1, 0, 1]) {
                  const row = ctx.getImageData(0, y + dy, canvas.width, 1).data;
                  for (let x = 0; x < canvas.width; x++) {
                    const [r, g, b] = [row[x * 4]!, row[x * 4 + 1]!, row[x * 4 + 2]!];
                    // Antialiasing pales a 1.5 px line: near the colour, and clearly not the grey of the grid and axes.
                    const near = Math.abs(r - rgb[0]!) + Math.abs(g - rgb[1]!) + Math.abs(b - rgb[2]!) < 120;
                    if (near && row[x * 4 + 3]! > 100 && Math.max(r, g, b) - Math.min(r, g, b) > 60) return 'drawn';
                    if (seen.size < 8) seen.add(`${r},${g},${b},${row[x * 4 + 3]}`);
                  }
                }
                return `not found on canvas row ${y} of ${canvas.width}x${canvas.height} (saw ${[...seen].join(' ')})`;
              });
            },
            { id: String(panel.id) },
          );
          expect(found, `${where}: threshold lines drawn in their colour`).toEqual(rendered.thresholds.map(() => 'drawn'));
        }
        checked++;
      }
      await page.close();
    }
    expect(checked).toBeGreaterThan(20);
    // One tie to the config itself: the first service's p95 latency SLA is a threshold on the service dashboard.
    const service = config.services.find((s) => s.sla?.latency?.p95Seconds !== undefined)!;
    const { page, report } = await open(dashboardUrl(viewer!.url, entries.find((e) => e.file === 'service-overview.json')!.uid));
    expect(Object.values(report.panels).some((p) => p.thresholds.some((t) => t.value === service.sla!.latency!.p95Seconds && t.inside))).toBe(true);
    await page.close();
  });

  it('changing a variable changes the queries and reloads the variables chained to it; links carry time and variables', async () => {
    const uid = entries.find((e) => e.file === 'service-overview.json')!.uid;
    const { page, report: before } = await open(dashboardUrl(viewer!.url, uid));
    const job = config.services[0]!.job;
    const jobQueries = (r: RenderedPage) => Object.values(r.panels).flatMap((p) => p.queries.map((q) => q.expr)).filter((e) => e.includes('job=~'));
    expect(jobQueries(before).length).toBeGreaterThan(5);
    expect(jobQueries(before).every((e) => e.includes('job=~".*"'))).toBe(true);
    expect(before.variables.job!.isAll).toBe(true);
    // Pick one job in the multi-select (All off, the job on).
    const control = page.locator('.variable[data-variable="job"]');
    await control.locator('button').click();
    await control.locator(`input[value="${job}"]`).check();
    const after = await settled(page);
    expect(after.variables.job!.current).toEqual([job]);
    expect(jobQueries(after).every((e) => e.includes(`job=~"${job}"`) && !e.includes('job=~".*"')), jobQueries(after).join('\n')).toBe(true);
    // $instance is chained to $job: reloaded, still offering the service's instance.
    expect(after.variables.instance!.options.length).toBeGreaterThan(0);
    expect(Object.values(after.panels).filter((p) => p.type !== 'row').every((p) => p.state === 'ok')).toBe(true);
    expect(page.url()).toContain(`var-job=${encodeURIComponent(job)}`);
    // The datasource variable: panels follow it where the JSON says ${datasource}, else keep their fixed uid.
    expect(after.variables.datasource?.current.length).toBe(1);
    // Links to the other dashboards keep the time range and the variables.
    const href = (await page.locator('nav.links a').first().getAttribute('href'))!;
    expect(href).toMatch(/^\/d\//);
    expect(href).toContain(`from=${from}`);
    expect(href).toContain(`var-job=${encodeURIComponent(job)}`);
    await page.locator('nav.links a').first().click();
    const linked = await settled(page);
    expect(linked.dashboard).not.toBe(uid);
    // A shorter time range changes $__range and the step.
    await page.close();
  });

  it('the time picker and auto-refresh run the queries again', async () => {
    const uid = entries.find((e) => e.file === 'host-process.json')!.uid;
    const { page, report } = await open(dashboardUrl(viewer!.url, uid));
    const firstStep = Object.values(report.panels).flatMap((p) => p.queries).find((q) => !q.instant)!.step;
    await page.selectOption('select[data-control="time-range"]', 'now-6h');
    const wider = await settled(page);
    const widerStep = Object.values(wider.panels).flatMap((p) => p.queries).find((q) => !q.instant)!.step;
    expect(widerStep).toBeGreaterThan(firstStep!);
    expect(page.url()).toContain('from=now-6h');
    // Auto-refresh every 5 s: the panels query again (the loading state comes back).
    await page.selectOption('select[data-control="refresh"]', '5s');
    await page.waitForFunction(() => document.querySelector('section.panel[data-state="loading"]') !== null, undefined, { timeout: 10_000 });
    await settled(page);
    await page.close();
  });

  it('reports a deliberately broken panel, an unknown panel type and an unsupported option instead of hiding them', async () => {
    brokenDir = mkdtempSync(join(tmpdir(), 'perfstack-viewer-broken-'));
    cpSync(DASHBOARDS_DIR, brokenDir, { recursive: true });
    const entry = entries.find((e) => e.file === 'host-process.json')!;
    const file = join(brokenDir, entry.folder, entry.file);
    const json = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
    const template = allPanels(json).find((p) => p.type === 'timeseries')!;
    const y = Math.max(...allPanels(json).map((p) => (p.gridPos?.y ?? 0) + (p.gridPos?.h ?? 0)));
    json.panels!.push(
      { ...structuredClone(template), id: 901, title: 'Broken query', gridPos: { x: 0, y, w: 8, h: 8 }, targets: [{ refId: 'A', expr: 'sum(rate(node_cpu_seconds_total[$__rate_interval])' }] },
      { type: 'piechart', id: 902, title: 'A pie', gridPos: { x: 8, y, w: 8, h: 8 }, targets: [{ refId: 'A', expr: 'up' }] },
      { ...structuredClone(template), id: 903, title: 'Odd options', gridPos: { x: 16, y, w: 8, h: 8 }, options: { ...template.options, foo: 1 }, fieldConfig: { defaults: { unit: 'furlongs' }, overrides: [{ matcher: {} }] } },
      { ...structuredClone(template), id: 904, title: 'Unknown variable', gridPos: { x: 0, y: y + 8, w: 8, h: 8 }, targets: [{ refId: 'A', expr: 'up{job=~"$nope"}' }] },
    );
    json.templating!.list!.push({ name: 'adhoc', type: 'adhoc' });
    writeFileSync(file, JSON.stringify(json));
    brokenViewer = await startViewer({ dashboardsDir: brokenDir, datasources: datasources(fed!.stack.prometheusUrl), port: 0, log: () => undefined });
    const { page, report } = await open(dashboardUrl(brokenViewer.url, entry.uid));
    const broken = report.panels['901']!;
    expect(broken.state).toBe('error');
    expect(broken.errors.join(' ')).toMatch(/parse error/);
    await expect(page.locator('section.panel[data-panel-id="901"] .box.error').isVisible()).resolves.toBe(true);
    expect(report.panels['902']!.state).toBe('unsupported');
    await expect(page.locator('section.panel[data-panel-id="902"]').innerText()).resolves.toContain('Panel type "piechart" is not supported');
    const odd = report.panels['903']!;
    expect(odd.state).toBe('ok'); // drawn anyway, with the box
    expect(odd.unsupported.join(' ')).toContain('options.foo');
    expect(odd.unsupported.join(' ')).toContain('furlongs');
    expect(odd.unsupported.join(' ')).toContain('fieldConfig.overrides');
    await expect(page.locator('section.panel[data-panel-id="903"] .box.unsupported').innerText()).resolves.toContain('options.foo');
    expect(report.panels['904']!.state).toBe('error');
    expect(report.panels['904']!.errors.join(' ')).toContain('$nope');
    expect(report.notices.join(' ')).toContain('adhoc');
    // The rest of the dashboard is unaffected.
    expect(Object.values(report.panels).filter((p) => Number(p.id) < 900 && p.type !== 'row').every((p) => p.state === 'ok')).toBe(true);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'broken.png'), fullPage: true });
    await page.close();
  });

  it('perfstack dashboards snapshot writes a PNG per dashboard and per chosen panel', async () => {
    const out = mkdtempSync(join(tmpdir(), 'perfstack-snapshots-'));
    try {
      const uid = entries.find((e) => e.file === 'service-overview.json')!.uid;
      const files = await snapshotDashboards({ viewerUrl: viewer!.url, outDir: out, dashboards: [uid], panels: [`${uid}:2`], from: String(from), to: 'now', log: () => undefined });
      const whole = await snapshotDashboards({ viewerUrl: viewer!.url, outDir: out, dashboards: [uid], from: String(from), to: 'now', log: () => undefined });
      expect(files.map((f) => f.file)).toEqual([join(out, `${uid}-panel-2.png`)]);
      expect(whole.map((f) => f.file)).toEqual([join(out, `${uid}.png`)]);
      for (const f of [...files, ...whole]) {
        expect(f.problems).toEqual([]);
        expect(readFileSync(f.file).subarray(1, 4).toString()).toBe('PNG');
        expect(statSync(f.file).size).toBeGreaterThan(5_000);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('perfstack summary --images writes before/after PNGs of each panel a change touches, from the same data', async () => {
    const out = mkdtempSync(join(tmpdir(), 'perfstack-summary-images-'));
    try {
      const before = filesFromGenerated(generateAll(config));
      const after = new Map(before);
      const path = [...after.keys()].find((p) => p.endsWith('/host-process.json'))!;
      const json = JSON.parse(after.get(path)!) as Dashboard;
      const panel = allPanels(json).find((p) => p.type === 'timeseries' && (p.fieldConfig?.defaults?.thresholds?.steps ?? []).length > 1)!;
      panel.fieldConfig!.defaults!.thresholds!.steps![1]!.value = 0.123;
      after.set(path, JSON.stringify(json));
      const changes = changedPanels(before, after);
      expect(changes).toEqual([expect.objectContaining({ panel: panel.title, change: 'changed', before: { uid: json.uid, id: String(panel.id) } })]);
      const markdown = await writePanelImages(before, after, { outDir: out, prometheusUrl: fed!.stack.prometheusUrl, from: String(from), baseLabel: 'test', log: () => undefined });
      const pngs = [...markdown.matchAll(/!\[(before|after)\]\(([^)]+)\)/g)].map((m) => join(out, m[2]!));
      expect(pngs).toHaveLength(2);
      for (const png of pngs) expect(statSync(png).size).toBeGreaterThan(5_000);
      expect(markdown).toContain(`thresholds`);
      expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe(markdown);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
