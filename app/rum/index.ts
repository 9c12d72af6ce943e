// Real-user monitoring: the page beacons its Web Vitals (client/rum.ts, bundled into
// app/public/static/rum.js) to POST /rum; the service checks them and publishes histograms.
export { rumRoutes, RUM_PATH } from './route.js';
export type { RumRouteOptions } from './route.js';
export { readBeacon, VITAL_NAMES, REJECT_REASONS, RUM_BODY_LIMIT_BYTES, MAX_METRICS_PER_BEACON, MAX_TIMING_MS, MAX_CLS } from './beacon.js';
export type { VitalName, VitalSample, RejectReason, AcceptedBeacon, RejectedBeacon } from './beacon.js';
export { createRumMetrics, vitalHistograms } from './metrics.js';
export type { RumMetrics } from './metrics.js';
export { measurePage, measurePages, PAGE_META_NAME } from './javascript.js';
export type { PageJavascript } from './javascript.js';
// The bundle builder (app/rum/bundle.ts, esbuild) and the Chromium helper (testing.ts) are build and
// test tools, left out of this index so the service does not load them.
