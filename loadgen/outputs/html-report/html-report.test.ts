import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BUCKETS, prepareTimeline, renderRunReport, writeRunReport, type ReportInput, type TimelinePoint } from './index.js';
import { sampleInput, sampleTimeline } from './test-fixture.js';

const CHART_IDS = ['vus', 'requests', 'latency', 'iterations', 'data'] as const;

/** The inner HTML of the element with this id (first match of its own closing tag). */
function section(html: string, tag: string, id: string): string {
  const m = html.match(new RegExp(`<${tag}[^>]*\\sid="${id}"[^>]*>([\\s\\S]*?)</${tag}>`));
  if (!m) throw new Error(`no <${tag} id="${id}">`);
  return m[1] ?? '';
}

function rowsOf(table: string): string[] {
  const body = table.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? '';
  return body.match(/<tr[\s\S]*?<\/tr>/g) ?? [];
}

function point(t: number, over: Partial<TimelinePoint> = {}): TimelinePoint {
  return {
    t,
    vus: 1,
    vusMax: 2,
    requests: 10,
    failedRequests: 0,
    iterations: 5,
    droppedIterations: 0,
    dataSentBytes: 100,
    dataReceivedBytes: 1000,
    latency: { p50: 10, p90: 20, p95: 30, p99: 40, max: 50 },
    ...over,
  };
}

describe('renderRunReport: structure', () => {
  let html = '';
  beforeAll(async () => {
    html = await renderRunReport(sampleInput(600));
  });

  it('is a complete HTML document with the header facts', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<h1>Checkout load test</h1>');
    const meta = section(html, 'dl', 'run-meta');
    expect(meta).toContain('<dt>Scenario</dt><dd><code>checkout-ramp</code></dd>');
    expect(meta).toContain('<dt>Test ID</dt><dd><code>checkout-pr-4711-run-1</code></dd>');
    expect(meta).toContain('<code title="3f9c2a7d1e8b4c6a9f0e2d1c3b5a7e9f1d2c4b6a">3f9c2a7d1e8b</code>');
    expect(meta).toContain('<dt>Started</dt><dd>2025-05-24 14:05:00 UTC</dd>');
    expect(meta).toContain('<dt>Duration</dt><dd>10m 00s</dd>');
    expect(section(html, 'ul', 'notes')).toBe('<li>3 of 120 remote-write pushes failed</li>');
  });

  it('shows the failing verdict naming the failed thresholds', () => {
    const v = html.match(/<div class="verdict (\w+)" id="verdict"[^>]*>([\s\S]*?)<\/div>/);
    expect(v?.[1]).toBe('fail');
    expect(v?.[2]).toContain('2 of 6 thresholds failed.');
    expect(v?.[2]).toContain('<code>http_req_duration</code>, <code>dropped_iterations</code>');
  });

  it('lists every threshold with ok/FAIL and the measured value in its unit', () => {
    const rows = rowsOf(section(html, 'table', 'thresholds-table'));
    expect(rows).toHaveLength(6);
    const cells = rows.map((r) => [...r.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, '')));
    expect(cells).toEqual([
      ['FAIL', 'http_req_duration', 'p(95)&lt;500', '612.4 ms'],
      ['ok', 'http_req_duration{name:checkout}', 'p(99)&lt;1500', '1.2 s'],
      ['ok', 'http_req_failed', 'rate&lt;0.01', '0.42%'],
      ['ok', 'checks', 'rate&gt;0.99', '99.57%'],
      ['ok', 'data_received', 'count&lt;10e9', '2.48 GB'],
      ['FAIL', 'dropped_iterations', 'count&lt;100', '212'],
    ]);
    expect(rows.filter((r) => r.startsWith('<tr class="fail">'))).toHaveLength(2);
  });

  it('draws every chart as an inline SVG with its caption', () => {
    expect(html.match(/<svg\b/g) ?? []).toHaveLength(CHART_IDS.length);
    for (const id of CHART_IDS) {
      const fig = section(html, 'figure', `chart-${id}`);
      expect(fig, id).toMatch(/^<h3>[^<]+<\/h3><svg [^>]*class="marks" width="\d+" height="\d+" viewBox="[^"]+">/);
      expect(fig, id).toContain('</svg><figcaption>');
      expect(fig, id).toContain('aria-roledescription="line mark"');
    }
    const latency = section(html, 'figure', 'chart-latency');
    expect(latency).toContain('not cumulative');
    for (const p of ['p50', 'p90', 'p95', 'p99']) expect(latency).toContain(`>${p}</text>`);
    expect(section(html, 'figure', 'chart-vus')).toContain('>vus_max</text>');
    expect(section(html, 'figure', 'chart-requests')).toContain('>failed/s</text>');
    expect(section(html, 'figure', 'chart-iterations')).toContain('>dropped/s</text>');
    expect(section(html, 'figure', 'chart-data')).toContain('>received</text>');
    // 600 one-second points: drawn as they are.
    expect(html).not.toContain('Downsampled');
  });

  it('has the checks and metrics tables', () => {
    const checks = rowsOf(section(html, 'table', 'checks-table'));
    expect(checks).toHaveLength(3);
    expect(checks[0]).toBe(
      '<tr class="fail"><td class="name">status is 200</td><td class="num">114,100</td><td class="num measured">475</td><td class="num">99.59%</td></tr>',
    );
    expect(checks[1]).toContain('<tr class="ok">');
    const metrics = section(html, 'table', 'metrics-table');
    expect(metrics).toContain(
      '<th>Metric</th><th class="num">count</th><th class="num">rate</th><th class="num">avg</th><th class="num">min</th>' +
        '<th class="num">med</th><th class="num">max</th><th class="num">p(90)</th><th class="num">p(95)</th><th class="num">value</th>' +
        '<th class="num">passes</th><th class="num">fails</th>',
    );
    const rows = rowsOf(metrics);
    expect(rows).toHaveLength(10);
    expect(rows[0]).toContain('<td class="num">231.5 ms</td>');
    expect(rows[0]).toContain('<td class="num">4.21 s</td>');
    expect(rows.find((r) => r.includes('<code>http_req_failed</code>'))).toContain('<td class="num">0.42%</td>');
    expect(rows.find((r) => r.includes('<code>data_received</code>'))).toContain('<td class="num">2.48 GB</td><td class="num">4.13 MB/s</td>');
  });

  it('shows a passing verdict, or says that there are no thresholds', async () => {
    const input = sampleInput(30);
    const pass = await renderRunReport({ ...input, thresholds: input.thresholds.map((t) => ({ ...t, ok: true })) });
    expect(pass).toMatch(/<div class="verdict pass" id="verdict" role="status">✔ All 6 thresholds passed\.<\/div>/);
    expect(pass).not.toContain('FAIL');
    const none = await renderRunReport({ ...input, thresholds: [] });
    expect(none).toContain('<div class="verdict none" id="verdict" role="status">No thresholds were defined for this run.</div>');
  });
});

describe('renderRunReport: safety', () => {
  const hostile = '<script>alert("x")</script>';
  const hostileInput = (): ReportInput => {
    const input = sampleInput(20);
    return {
      ...input,
      title: `Run ${hostile}`,
      testid: `id-${hostile}'"&`,
      scenario: `<img src=x onerror=alert(1)>`,
      gitSha: `"><script>alert(2)</script>`,
      startedAt: `<script>alert(3)</script>`,
      thresholds: [{ key: `http_req_duration{name:${hostile}}`, expression: `p(95)<500 ${hostile}`, ok: false, value: 1, unit: 'ms' }],
      checks: [{ name: `body has <script>alert(4)</script>`, passes: 1, fails: 1 }],
      summaryRows: [{ metric: `http_reqs{url:https://evil.example/${hostile}}`, values: { [`p(99)${hostile}`]: 1 } }],
      notes: [`note ${hostile}`],
    };
  };

  it('escapes every piece of user text', async () => {
    const html = await renderRunReport(hostileInput());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[a-z]+[^>]*\son[a-z]+=/i);
    expect(html).toContain('<code>id-&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&quot;&amp;</code>');
    expect(html).toContain('<td class="name">body has &lt;script&gt;alert(4)&lt;/script&gt;</td>');
    expect(html).toContain('<title>Run &lt;script&gt;');
    expect(html).toContain('<code>&lt;img src=x onerror=alert(1)&gt;</code>');
    expect(html).toContain('<code title="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;">');
    expect(html).toContain('<th class="num">p(99)&lt;script&gt;');
  });

  it('references no external resource and has no scripts', async () => {
    for (const html of [await renderRunReport(sampleInput(600)), await renderRunReport(sampleInput(3600))]) {
      expect(html).not.toMatch(/https?:\/\//i);
      expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
      expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
      expect(html).not.toMatch(/\b(src|srcset|xlink:href)=/i);
      expect(html).not.toMatch(/@import|@font-face/i);
      expect(html.match(/url\([^)]*\)/g)?.every((u) => u.startsWith('url(#')) ?? true).toBe(true);
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    }
  });
});

describe('renderRunReport: edge cases', () => {
  it('renders a run without timeline points, saying there is no data', async () => {
    const input = { ...sampleInput(10), timeline: { points: [] }, durationMs: 12, checks: [], summaryRows: [], thresholds: [] };
    const html = await renderRunReport(input);
    expect(html).toContain('<p class="empty" id="no-timeline">No timeline data');
    expect(html).not.toContain('<svg');
    expect(html).toContain('No checks were run.');
    expect(html).toContain('No metrics were recorded.');
    expect(html).toContain('<dt>Duration</dt><dd>12 ms</dd>');
  });

  it('renders one point, intervals without latency and garbage values without throwing', async () => {
    const one = await renderRunReport({ ...sampleInput(10), timeline: { points: [point(1000)] } });
    expect(one.match(/<svg\b/g) ?? []).toHaveLength(5);

    const noLatency = await renderRunReport({
      ...sampleInput(10),
      timeline: { points: [point(1000, { requests: 0, latency: null }), point(2000, { requests: 0, latency: null })] },
    });
    expect(noLatency.match(/<svg\b/g) ?? []).toHaveLength(4);
    expect(section(noLatency, 'figure', 'chart-latency')).toContain('<p class="empty">No request completed during the run');

    const garbage = await renderRunReport({
      ...sampleInput(10),
      durationMs: Number.NaN,
      timeline: { points: [point(Number.NaN), point(2000, { vus: Number.NaN, requests: Infinity }), point(1000, { latency: { p50: NaN, p90: 1, p95: 2, p99: 3, max: 4 } })] },
    });
    expect(garbage).not.toMatch(/NaN|Infinity/);
    expect(garbage.match(/<svg\b/g) ?? []).toHaveLength(5);
  });

  it('aggregates downsampled buckets: rates averaged, VUs and percentiles maxed, gaps kept', () => {
    const points = [
      point(1000, { vus: 3, requests: 10, failedRequests: 2, latency: { p50: 5, p90: 9, p95: 10, p99: 20, max: 30 } }),
      point(2000, { vus: 7, requests: 30, failedRequests: 0, latency: null }),
      point(3000, { vus: 1, requests: 0, latency: null }),
      point(4000, { vus: 1, requests: 0, latency: null }),
    ];
    const prep = prepareTimeline({ points: [...points].reverse() }, 2);
    expect(prep).toMatchObject({ sourcePoints: 4, intervalMs: 1000, bucketSize: 2, hasLatency: true, endMs: 4000 });
    expect(prep.buckets).toHaveLength(2);
    expect(prep.buckets[0]).toMatchObject({ t: 1500, vus: 7, requestsPerSec: 20, failedPerSec: 1, p50: 5, p99: 20 });
    expect(prep.buckets[1]).toMatchObject({ t: 3500, vus: 1, requestsPerSec: 0, p50: null, p99: null });
    expect(prepareTimeline({ points, intervalMs: 500 }).buckets[1]?.requestsPerSec).toBe(60);
  });

  it('renders an hour of 1 s points quickly, downsampled and saying so', async () => {
    const input = sampleInput(3600);
    const started = performance.now();
    const html = await renderRunReport(input);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    expect(prepareTimeline(input.timeline).buckets.length).toBeLessThanOrEqual(MAX_BUCKETS);
    for (const id of CHART_IDS) {
      expect(section(html, 'figure', `chart-${id}`)).toContain('Downsampled for drawing: 3,600 intervals of 1 s shown as 600 buckets of 6 s;');
    }
    expect(section(html, 'figure', 'chart-latency')).toContain('highest per-interval percentile in its bucket');
    expect(html).toContain('elapsed (min)');
    expect(html.length).toBeLessThan(1_000_000);
  });
});

describe('determinism', () => {
  it('gives byte-identical output for the same input, whatever was rendered before', async () => {
    const a = await renderRunReport(sampleInput(300));
    await renderRunReport(sampleInput(50));
    const [b, c] = await Promise.all([renderRunReport(sampleInput(300)), renderRunReport(sampleInput(300))]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    const ids = [...a.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('writeRunReport', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'perfstack-run-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the rendered document, replaces an old one and leaves no temporary file', async () => {
    const out = join(dir, 'ok', 'report.html');
    await mkdir(join(dir, 'ok'));
    await writeFile(out, 'old report');
    const input = sampleInput(60);
    await writeRunReport(out, input);
    expect(await readFile(out, 'utf8')).toBe(await renderRunReport(input));
    await writeRunReport(out, input);
    expect(await readdir(join(dir, 'ok'))).toEqual(['report.html']);
  });

  it('fails naming the path when the folder cannot be written, leaving nothing behind', async () => {
    // A regular file where the folder should be: fails even for root, unlike chmod.
    await writeFile(join(dir, 'not-a-dir'), 'x');
    const bad = join(dir, 'not-a-dir', 'report.html');
    await expect(writeRunReport(bad, sampleInput(5))).rejects.toThrow(`cannot write run report to ${bad}`);

    // The target is a directory: the temporary file is written, the rename fails, and is cleaned up.
    const target = join(dir, 'taken', 'report.html');
    await mkdir(join(target, 'inner'), { recursive: true });
    await expect(writeRunReport(target, sampleInput(5))).rejects.toThrow(`cannot write run report to ${target}`);
    expect((await readdir(join(dir, 'taken'))).sort()).toEqual(['report.html']);
    expect((await stat(target)).isDirectory()).toBe(true);

    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'read-only');
      await mkdir(ro, { mode: 0o555 });
      await expect(writeRunReport(join(ro, 'r.html'), sampleInput(5))).rejects.toThrow(join(ro, 'r.html'));
      expect(await readdir(ro)).toEqual([]);
    }
  });
});

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/run-report.png';

describe('in headless Chromium', () => {
  const have = existsSync(CHROMIUM);
  it.skipIf(!have)('opens without console errors or requests, every chart has a size', async () => {
    const { chromium } = await import('playwright-core');
    const dir = await mkdtemp(join(tmpdir(), 'perfstack-run-report-chromium-'));
    const path = join(dir, 'run-report.html');
    await writeRunReport(path, sampleInput(600));
    await writeFile('/tmp/run-report-sample.html', await readFile(path));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });

      const sizes = await page.$$eval('figure.chart', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector(':scope > svg');
          const box = svg?.getBoundingClientRect();
          return { id: f.id, w: box?.width ?? 0, h: box?.height ?? 0, paths: svg?.querySelectorAll('path').length ?? 0 };
        }),
      );
      expect(sizes.map((s) => s.id)).toEqual(CHART_IDS.map((id) => `chart-${id}`));
      for (const s of sizes) {
        expect(s.w, s.id).toBeGreaterThan(300);
        expect(s.h, s.id).toBeGreaterThan(150);
        expect(s.paths, s.id).toBeGreaterThan(2);
      }
      expect(await page.locator('#verdict').innerText()).toContain('2 of 6 thresholds failed');
      expect(await page.locator('#thresholds-table tbody tr').count()).toBe(6);
      // Nothing but the document itself was requested.
      expect(requests).toEqual([pathToFileURL(path).href]);
      expect(errors).toEqual([]);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect((await stat(SCREENSHOT)).size).toBeGreaterThan(30 * 1024);
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
  it.skipIf(have)(`skipped: ${CHROMIUM} is not installed`, () => undefined);
});
