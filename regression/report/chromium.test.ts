// Opens the HTML report in headless Chromium (Debian's /usr/bin/chromium, driven directly):
// the dumped DOM must hold the headline, the KPI titles and every chart, and a screenshot must
// show a page with content. Skipped where Chromium is not installed.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReports } from './index.js';
import { buildReport } from './test-fixture.js';

const CHROMIUM = process.env.PERFSTACK_CHROMIUM ?? '/usr/bin/chromium';

/** Runs Chromium headless with a throwaway profile; resolves with stdout. */
function chromium(dir: string, profile: string, args: string[]): Promise<string> {
  const base = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${join(dir, profile)}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, [...base, ...args], { timeout: 45_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** Width and height from a PNG's IHDR chunk, or undefined if it is not a PNG. */
function pngSize(png: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe.skipIf(!existsSync(CHROMIUM))('the HTML report in headless Chromium', () => {
  let dir = '';
  let url = '';
  let dom = '';
  let screenshot = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'perfstack-report-chromium-'));
    const { htmlPath } = await writeReports(buildReport(), join(dir, 'out'));
    url = pathToFileURL(htmlPath).href;
    screenshot = join(dir, 'report.png');
    // Both at once: separate profiles, separate processes.
    [dom] = await Promise.all([
      chromium(dir, 'profile-dom', ['--dump-dom', url]),
      chromium(dir, 'profile-shot', [`--screenshot=${screenshot}`, '--window-size=1200,2000', url]),
    ]);
  }, 90_000);

  afterAll(async () => {
    if (dir && !process.env.PERFSTACK_KEEP_SCREENSHOT) await rm(dir, { recursive: true, force: true });
    else if (dir) console.log(`screenshot kept: ${screenshot}`);
  });

  it('shows the headline, the worst regression and the tables', () => {
    expect(dom).toContain('<h1>Performance regression report</h1>');
    expect(dom).toContain('<span class="status fail">FAIL</span>2 regressed, 1 improved, 5 unchanged');
    expect(dom).toContain('<strong>Worst regression:</strong> p95 latency of <code>GET /api/orders/:id</code>');
    expect(dom.match(/<table>/g) ?? []).toHaveLength(3);
  });

  it('parses every chart as an SVG element under its KPI title', () => {
    // Chromium re-serialises the parsed DOM: a mis-nested SVG would come back changed.
    const sections = [...dom.matchAll(/<section class="kpi (\w+)" id="kpi-\d+">([\s\S]*?)<\/section>/g)];
    expect(sections).toHaveLength(8);
    const titles = sections.map((s) => (s[2] ?? '').match(/<h3>.*?<\/span> (.*?)<\/h3>/)?.[1]);
    expect(titles).toEqual([
      'p95 latency · GET /api/orders/:id',
      'error rate · whole run',
      'p50 latency · GET /api/products',
      'checks passed · whole run',
      'DB query p95 · orders.by_id',
      'p99 latency · POST /api/cart/items',
      'pool wait p95 · whole run',
      'throughput · whole run',
    ]);
    for (const [, , body = ''] of sections) {
      const svgs = body.match(/<svg version="1.1" class="marks" width="\d+" height="\d+" viewBox="[^"]+">/g) ?? [];
      expect(svgs).toHaveLength(2);
      expect(body.match(/<\/svg>/g) ?? []).toHaveLength(2);
      expect(body).toContain('aria-roledescription="point"');
      expect(body).toMatch(/<figcaption>History: 24 runs/);
    }
    expect(dom.match(/<svg\b/g) ?? []).toHaveLength(16);
  });

  it('takes a screenshot with content', async () => {
    const png = await readFile(screenshot);
    expect((await stat(screenshot)).size).toBeGreaterThan(10 * 1024);
    expect(pngSize(png)).toEqual({ width: 1200, height: 2000 });
  });
});
