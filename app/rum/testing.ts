// A real user, for tests: Debian's Chromium (playwright-core) loads the service's page, types a
// search (an interaction, so INP is measured) and leaves the page, which makes the page send its
// Web Vitals beacon. Used by the RUM tests and the end-to-end dashboard tests.

import { chromium } from 'playwright-core';
import { rum } from '../../metrics/index.js';
import { BROWSER_EXECUTABLE, browserArgs, browserAvailable } from '../../stack/index.js';

export { browserAvailable };

/** The RUM histograms' observation counts on the service's /metrics, by `metric{page}`. */
export async function rumCounts(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const counts = new Map<string, number>();
  const names = [rum.lcp, rum.fcp, rum.inp, rum.ttfb, rum.cls];
  for (const line of text.split('\n')) {
    const match = /^(\w+)_count\{page="([^"]*)"\} (\S+)$/.exec(line);
    if (match && names.includes(match[1] as (typeof names)[number])) counts.set(`${match[1]}{${match[2]}}`, Number(match[3]));
  }
  return counts;
}

export interface PageLoadResult {
  /** rumCounts() after the beacons arrived. */
  counts: Map<string, number>;
}

/**
 * Loads `${baseUrl}/` `loads` times in one Chromium, each time typing `search` and then leaving the
 * page; resolves once the service has counted an LCP for each load (or throws after `timeoutMs`).
 */
export async function loadPageAsUser(baseUrl: string, options: { search?: string; loads?: number; timeoutMs?: number } = {}): Promise<PageLoadResult> {
  const loads = options.loads ?? 1;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const before = (await rumCounts(baseUrl)).get(`${rum.lcp}{search}`) ?? 0;
  const browser = await chromium.launch({ executablePath: BROWSER_EXECUTABLE, headless: true, args: browserArgs().map((a) => `--${a}`) });
  try {
    // Beacons sent while a page unloads are not reported to playwright's request events: callers
    // see them arrive at the service (rumCounts, the service's HTTP metrics).
    const page = await browser.newPage();
    for (let i = 0; i < loads; i++) {
      await page.goto(`${baseUrl}/`, { waitUntil: 'load' });
      await page.locator('#q').pressSequentially(options.search ?? 'acme', { delay: 30 });
      await page.waitForFunction(() => /match|failed|HTTP/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 10_000 });
      // Leaving the page hides it: web-vitals reports LCP, CLS and INP, and the page sends its beacon.
      await page.goto('about:blank');
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await rumCounts(baseUrl);
      if ((counts.get(`${rum.lcp}{search}`) ?? 0) >= before + loads) return { counts };
      if (Date.now() > deadline) throw new Error(`no LCP beacon from ${loads} page load(s) of ${baseUrl}/ within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await browser.close();
  }
}
