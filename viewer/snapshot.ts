// Dashboards and panels to PNG: Debian's Chromium (playwright-core) opens the viewer's page, waits
// until every panel has answered, and takes a screenshot of the page or of one panel.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { BROWSER_APT_PACKAGE, BROWSER_EXECUTABLE, browserArgs, browserAvailable } from '../stack/index.js';

/** What the page reports per panel (window.perfstackViewer.panels). */
export interface RenderedPanel {
  id: string;
  title: string;
  type: string;
  state: 'loading' | 'ok' | 'empty' | 'error' | 'unsupported' | 'collapsed';
  queries: { refId: string; expr: string; datasource: string; instant: boolean; step?: number }[];
  errors: string[];
  unsupported: string[];
  series: number;
  thresholds: { value: number; color: string; y?: number; canvasY?: number; inside: boolean }[];
}

export interface RenderedPage {
  dashboard?: string;
  settled: boolean;
  panels: Record<string, RenderedPanel>;
  variables: Record<string, { options: string[]; current: string[]; isAll: boolean; error?: string }>;
  annotations: { name: string; events: number; error?: string }[];
  notices: string[];
}

export interface Renderer {
  browser: Browser;
  /** Opens `url`, waits for every panel, writes a PNG (the page, or one panel's element); returns what the page reported. */
  shoot(url: string, file: string, options?: { panel?: string; width?: number; height?: number }): Promise<RenderedPage>;
  close(): Promise<void>;
}

/** Launches headless Chromium for screenshots. */
export async function openRenderer(timeoutMs = 60_000): Promise<Renderer> {
  if (!browserAvailable()) throw new Error(`Chromium is not installed at ${BROWSER_EXECUTABLE}: run \`perfstack bootstrap --group browser\` (Debian package ${BROWSER_APT_PACKAGE})`);
  const browser = await chromium.launch({
    executablePath: BROWSER_EXECUTABLE,
    headless: true,
    args: browserArgs().map((arg) => `--${arg}`),
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  return {
    browser,
    async shoot(url, file, options = {}) {
      const page = await browser.newPage({ viewport: { width: options.width ?? 1600, height: options.height ?? 1000 }, deviceScaleFactor: 1 });
      try {
        await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
        await page.waitForFunction(() => (window as unknown as { perfstackViewer?: { settled: boolean } }).perfstackViewer?.settled === true, undefined, { timeout: timeoutMs });
        const rendered = (await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { perfstackViewer: unknown }).perfstackViewer)))) as RenderedPage;
        if (options.panel) await page.locator(`section.panel[data-panel-id="${options.panel}"]`).screenshot({ path: file, timeout: timeoutMs });
        else await page.screenshot({ path: file, fullPage: true, timeout: timeoutMs });
        return rendered;
      } finally {
        await page.close();
      }
    },
    close: () => browser.close(),
  };
}

export interface SnapshotOptions {
  /** A running viewer, e.g. http://127.0.0.1:3001. */
  viewerUrl: string;
  outDir: string;
  /** Dashboard uids; default every dashboard the viewer lists. */
  dashboards?: string[];
  /** Panel ids ("12", or "uid:12" to name the dashboard); default the whole dashboard. */
  panels?: string[];
  from?: string;
  to?: string;
  width?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SnapshotFile {
  file: string;
  dashboard: string;
  panel?: string;
  /** Panels that answered with an error or drew nothing (id: title (state)). */
  problems: string[];
}

function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-|-$/g, '');
}

/** Query string for a screenshot: fixed time range, no auto-refresh. */
export function viewQuery(options: { from?: string; to?: string; panel?: string }): string {
  const p = new URLSearchParams();
  if (options.from) p.set('from', options.from);
  if (options.to) p.set('to', options.to);
  p.set('refresh', '');
  p.set('kiosk', '');
  if (options.panel) p.set('viewPanel', options.panel);
  return p.toString();
}

export function problemsOf(page: RenderedPage, only?: string): string[] {
  return Object.values(page.panels)
    .filter((p) => (only ? p.id === only : true))
    .filter((p) => p.type !== 'row' && (p.state === 'error' || p.state === 'unsupported' || p.unsupported.length > 0))
    .map((p) => `${p.id}: ${p.title} (${p.state}${p.errors.length ? `: ${p.errors.join('; ')}` : ''}${p.unsupported.length ? `; unsupported: ${p.unsupported.join(', ')}` : ''})`);
}

/** Renders each chosen dashboard (or panel) to a PNG under outDir. */
export async function snapshotDashboards(options: SnapshotOptions): Promise<SnapshotFile[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const base = options.viewerUrl.replace(/\/$/, '');
  const listed = (await (await fetch(`${base}/api/dashboards`)).json()) as { uid: string; title: string; error?: string }[];
  const uids = options.dashboards?.length ? options.dashboards : listed.filter((d) => !d.error).map((d) => d.uid);
  for (const uid of uids) if (!listed.some((d) => d.uid === uid)) throw new Error(`no dashboard with uid ${uid} (known: ${listed.map((d) => d.uid).join(', ')})`);
  mkdirSync(options.outDir, { recursive: true });
  const renderer = await openRenderer(options.timeoutMs);
  const files: SnapshotFile[] = [];
  try {
    for (const uid of uids) {
      const panels = (options.panels ?? []).map((p) => (p.includes(':') ? p.split(':') : [undefined, p])).filter(([d]) => d === undefined || d === uid).map(([, id]) => id!);
      if (options.panels?.length && panels.length === 0) continue;
      for (const panel of panels.length > 0 ? panels : [undefined]) {
        const file = join(options.outDir, `${fileSafe(uid)}${panel ? `-panel-${fileSafe(panel)}` : ''}.png`);
        const url = `${base}/d/${encodeURIComponent(uid)}?${viewQuery({ from: options.from, to: options.to, panel })}`;
        const page = await renderer.shoot(url, file, { panel, width: options.width });
        if (panel && !page.panels[panel]) throw new Error(`dashboard ${uid} has no panel ${panel}`);
        const problems = problemsOf(page, panel);
        files.push({ file, dashboard: uid, ...(panel ? { panel } : {}), problems });
        log(`wrote ${file}${problems.length ? ` (${problems.length} panel(s) with problems: ${problems.join('; ')})` : ''}`);
      }
    }
  } finally {
    await renderer.close();
  }
  return files;
}
