// The page side of real-user monitoring, bundled with web-vitals into app/public/static/rum.js
// (app/rum/bundle.ts). Collects LCP, FCP, INP, CLS and TTFB as web-vitals reports them and sends
// them in one JSON beacon when the page is hidden or left (web-vitals finalises CLS, INP and LCP
// then); navigator.sendBeacon survives the unload, fetch keepalive is the fallback.

import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';

const ENDPOINT = '/rum';
/** The server takes at most 20 metrics a beacon; a page reports five, more only if hidden again and again. */
const MAX_QUEUE = 20;

const page = document.querySelector('meta[name="perfstack-page"]')?.getAttribute('content') ?? undefined;
let queue: { name: string; value: number; rating: string; id: string; navigationType: string }[] = [];

function add(metric: Metric): void {
  if (queue.length < MAX_QUEUE) queue.push({ name: metric.name, value: metric.value, rating: metric.rating, id: metric.id, navigationType: metric.navigationType });
}

function flush(): void {
  if (queue.length === 0) return;
  const body = JSON.stringify({ page, metrics: queue });
  queue = [];
  const sent = typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(ENDPOINT, new Blob([body], { type: 'application/json' }));
  if (!sent) fetch(ENDPOINT, { method: 'POST', body, headers: { 'content-type': 'application/json' }, keepalive: true }).catch(() => undefined);
}

onTTFB(add);
onFCP(add);
onLCP(add);
onCLS(add);
onINP(add);

// Registered after web-vitals' own listeners, so the reports it makes on hiding are queued first;
// the microtask catches any it makes just after. Leaving a page fires visibilitychange too (after
// pagehide, which would come before web-vitals' final reports), so like web-vitals this listens to
// visibilitychange only: one beacon per page view.
addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'hidden') return;
  flush();
  queueMicrotask(flush);
});
