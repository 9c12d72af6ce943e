// Web Vitals, measured in the page by Google's web-vitals library (its browser build is injected
// into every document of a context) and reported to Node through an exposed binding, as k6's
// browser module does. web-vitals reports FCP and TTFB as soon as they are known, LCP at the first
// input (or when the page is hidden) and CLS and INP when the page is hidden. A headless page is
// never hidden, so before a page is closed or navigated away perfstack *flushes* it: it lets
// pending work settle, makes the document report `visibilityState === 'hidden'`, dispatches
// `visibilitychange` and waits until every report has reached Node. That event is not trusted, and
// web-vitals 5+ finalizes LCP only on trusted events, so a flush also reports the latest LCP
// candidate when none was reported (and TTFB, which web-vitals holds back until the load event).
//
// The page-side code is kept as strings, not functions: tools that transpile this file
// (esbuild's keepNames, coverage) may rewrite functions with helpers the page does not have.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WEB_VITAL_METRICS, type EmitFn } from './metrics.js';

/** The binding the page calls with each report (one per context). */
export const VITALS_BINDING = '__perfstackWebVital';
/** A non-enumerable function the init script defines on `window`; perfstack calls it to flush. */
const FLUSH_FUNCTION = '__perfstackFlushWebVitals';

/** What the page sends for each web-vitals report. */
export interface VitalReport {
  name: string;
  value: number;
  rating: string;
  id: string;
  url: string;
  navigationType?: string;
}

const RATINGS = new Set(['good', 'needs-improvement', 'poor']);

let cachedLibrary: string | undefined;

/** The web-vitals browser build (IIFE defining `var webVitals`), without its source-map comment. */
export function webVitalsLibrary(): string {
  if (cachedLibrary === undefined) {
    // The package's `exports` hide dist/, so find it next to the CommonJS entry point.
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('web-vitals')), 'web-vitals.iife.js');
    const source = readFileSync(file, 'utf8');
    if (!/\bvar webVitals\b/.test(source)) throw new Error(`k6/browser: ${file} is not web-vitals' IIFE build (no "var webVitals")`);
    cachedLibrary = source.replace(/\n?\/\/# sourceMappingURL=.*$/m, '');
  }
  return cachedLibrary;
}

/**
 * The init script: runs in every new document of the context before the page's own scripts.
 * Only the top frame measures (Web Vitals are per page, as in k6).
 */
export function vitalsInitScript(): string {
  return `(function () {
  if (window.top !== window || Object.prototype.hasOwnProperty.call(window, ${JSON.stringify(FLUSH_FUNCTION)})) return;
  ${webVitalsLibrary()}
  var pending = new Set();
  var reported = {};
  var substituted = {};
  function send(metric) {
    // Once perfstack stood in for web-vitals (below), a late report of the same metric is a duplicate.
    if (substituted[metric.name]) return;
    // web-vitals may report INP or CLS again when the page is hidden a second time (leaving it);
    // k6 records each Web Vital once per page, so the first report stands.
    if (reported[metric.name]) return;
    reported[metric.name] = true;
    var binding = window[${JSON.stringify(VITALS_BINDING)}];
    if (typeof binding !== 'function') return;
    var report = { name: metric.name, value: metric.value, rating: metric.rating, id: metric.id, url: location.href, navigationType: metric.navigationType };
    var p = Promise.resolve().then(function () { return binding(report); }).catch(function () {});
    pending.add(p);
    p.then(function () { pending.delete(p); });
  }
  webVitals.onTTFB(send);
  webVitals.onFCP(send);
  webVitals.onLCP(send);
  webVitals.onCLS(send);
  webVitals.onINP(send);
  // web-vitals finalizes LCP only on a trusted keydown, click or visibilitychange; a page closed
  // without an interaction never gets one. Keep the latest candidate to report it then.
  var latestLCP = null;
  webVitals.onLCP(function (metric) { latestLCP = metric; }, { reportAllChanges: true });
  function rate(value, thresholds) { return value > thresholds[1] ? 'poor' : value > thresholds[0] ? 'needs-improvement' : 'good'; }
  function substitute(metric) { send(metric); substituted[metric.name] = true; }
  function reportUnfinished() {
    if (!reported.LCP && latestLCP !== null) substitute(latestLCP);
    // TTFB waits for the load event; a page left before it still got its first byte.
    if (!reported.TTFB) {
      var nav = performance.getEntriesByType('navigation')[0];
      if (nav && nav.responseStart > 0 && nav.responseStart < performance.now()) {
        var ttfb = Math.max(nav.responseStart - (nav.activationStart || 0), 0);
        substitute({ name: 'TTFB', value: ttfb, rating: rate(ttfb, webVitals.TTFBThresholds), id: 'perfstack-ttfb', navigationType: nav.type });
      }
    }
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function settle() {
    // Two frames (Event Timing and layout-shift entries are queued after the next paint), then an
    // idle period (web-vitals processes entries in idle callbacks); each bounded.
    var frames = new Promise(function (r) { requestAnimationFrame(function () { requestAnimationFrame(r); }); });
    var idle = new Promise(function (r) { (window.requestIdleCallback || setTimeout)(r, { timeout: 200 }); });
    return Promise.race([frames, sleep(200)]).then(function () { return Promise.race([idle, sleep(250)]); });
  }
  function hide() { document.dispatchEvent(new Event('visibilitychange', { bubbles: true })); }
  Object.defineProperty(window, ${JSON.stringify(FLUSH_FUNCTION)}, {
    configurable: false, enumerable: false, writable: false,
    value: function () {
      return settle().then(function () {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: function () { return 'hidden'; } });
        Object.defineProperty(document, 'hidden', { configurable: true, get: function () { return true; } });
        // Twice: the first 'hidden' makes web-vitals process what it still had queued, the second
        // reports what that changed. web-vitals reports a metric again only when its value changed.
        hide();
        return sleep(0).then(function () { hide(); return sleep(0); });
      }).then(function () {
        try {
          reportUnfinished();
        } finally {
          delete document.visibilityState;
          delete document.hidden;
        }
        var wait = function () { return pending.size === 0 ? true : Promise.all(Array.from(pending)).then(wait); };
        return wait();
      });
    },
  });
})();
`;
}

/** The expression perfstack evaluates in a page to flush it; true when the page measured vitals. */
export const FLUSH_EXPRESSION = `(async () => {
  const flush = window[${JSON.stringify(FLUSH_FUNCTION)}];
  if (typeof flush !== 'function') return false;
  return await flush();
})()`;

/** Validates a report from the page (page scripts can call the binding too) and emits it. */
export function emitVitalReport(emit: EmitFn, payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const report = payload as Partial<VitalReport>;
  const metric = typeof report.name === 'string' ? WEB_VITAL_METRICS[report.name] : undefined;
  if (metric === undefined) return false;
  if (typeof report.value !== 'number' || !Number.isFinite(report.value) || report.value < 0) return false;
  if (typeof report.url !== 'string' || report.url === '') return false;
  const tags: Record<string, string> = { url: report.url, name: report.url };
  if (typeof report.rating === 'string' && RATINGS.has(report.rating)) tags.rating = report.rating;
  emit(metric, report.value, tags);
  return true;
}
