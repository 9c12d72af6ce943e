// browser: real Chromium (k6's browser module, or perfstack's on playwright-core) loads the
// service's page and searches from it. The engine records the Web Vitals (browser_web_vital_lcp, _fcp, _cls, _inp, _ttfb) and pushes them to
// the same Prometheus as every other run. Budgets: FCP < 2 s, LCP < 3 s, page scripts < 1 MiB.
//
// Needs Chromium (Debian's /usr/bin/chromium). Under k6: K6_BROWSER_EXECUTABLE_PATH, K6_BROWSER_HEADLESS
// and, as root, K6_BROWSER_ARGS=no-sandbox,... (k6/run.ts sets them for `--engine k6`).
import { check } from 'k6';
import { browser } from 'k6/browser';
import http from 'k6/http';
import { Gauge } from 'k6/metrics';
import { baseUrl, duration, envInt, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { searchTerm } from './lib/data.ts';
import * as api from './lib/api.ts';
export { handleSummary } from './lib/summary.ts';

const BASE = baseUrl();
/** Bytes of JavaScript the page loads (all its scripts together). */
const bundleBytes = new Gauge('js_bundle_bytes');
const ONE_MIB = 1024 * 1024;

export const options = scenarioOptions({
  name: 'browser',
  scenario: {
    executor: 'shared-iterations',
    vus: vus(1),
    iterations: envInt('PERFSTACK_ITERATIONS', 3, 1, 1000),
    maxDuration: duration('1m'),
    options: { browser: { type: 'chromium' } },
  },
  thresholds: {
    browser_web_vital_fcp: ['p(95)<2000'],
    browser_web_vital_lcp: ['p(95)<3000'],
    js_bundle_bytes: [`value<${ONE_MIB}`],
  },
});

interface PageGlobals {
  document: { scripts: ArrayLike<{ src: string }>; getElementById(id: string): { textContent: string | null } | null };
}

export async function setup(): Promise<string[]> {
  // A few real names, so the page's search finds something.
  return (await api.listEntities(20, 0)).map((e) => e.name);
}

export default async function (names: string[]): Promise<void> {
  const page = await browser.newPage();
  try {
    const response = await page.goto(`${BASE}/`, { waitUntil: 'load' });
    check(response, { 'page loads': (r) => r !== null && r.status() === 200 }, { name: '/' });

    // An interaction, so INP is measured: type a search and wait for the answer.
    await page.locator('#q').pressSequentially(searchTerm(names), { delay: 50 });
    await page.waitForFunction(() => /match/.test((globalThis as unknown as PageGlobals).document.getElementById('status')?.textContent ?? ''), { timeout: 5000 });
    const status = await page.locator('#status').textContent();
    check(status, { 'search shows results': (s) => s !== null && /match/.test(s) }, { name: '/' });

    // The JavaScript budget: fetch every script the page references and add up the bytes.
    const scripts = await page.evaluate(() => Array.from((globalThis as unknown as PageGlobals).document.scripts, (s) => s.src).filter((src) => src !== ''));
    // Only same-origin scripts are fetched: load never leaves the loopback address.
    const local = scripts.filter((src) => src.startsWith(`${BASE}/`));
    let total = 0;
    for (const src of local) {
      const path = src.slice(BASE.length).replace(/[?#].*$/, '');
      const script = await http.asyncRequest('GET', src, null, { responseType: 'binary', tags: { name: path, url: path } });
      if (script.status === 200 && script.body instanceof ArrayBuffer) total += script.body.byteLength;
    }
    bundleBytes.add(total);
    check(scripts, { 'page has scripts': (s) => s.length > 0, 'page scripts are same-origin': (s) => s.length === local.length }, { name: '/' });
  } finally {
    await page.close();
  }
}
