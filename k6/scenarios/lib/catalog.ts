// Plain data shared by the k6 scenarios and the Node side (runner, tests). No k6 imports here:
// k6/catalog.test.ts checks it against perfstack.config.ts and the reference service.

/** The services of perfstack.config.ts; a request carries `service:<name>` so SLA sub-metrics apply. */
export type ServiceName = 'api' | 'search';

/**
 * Route templates (the `name` and `url` tags) and the service whose SLA they count toward, as listed
 * under `routes` in perfstack.config.ts. Routes outside every service (the page, health) get no
 * service tag, so they never count toward an SLA.
 */
export const ROUTE_SERVICE: Readonly<Record<string, ServiceName | null>> = {
  '/api/entities': 'api',
  '/api/entities/:id': 'api',
  '/api/entities/bulk': 'api',
  '/api/resolve': 'api',
  '/api/auth/login': 'api',
  '/api/auth/logout': 'api',
  '/api/files': 'api',
  '/api/files/:id': 'api',
  '/api/search': 'search',
  '/': null,
  '/static/app.js': null,
  '/health': null,
  '/health/database': null,
};

/** app/seed.ts ENTITY_CATEGORIES. */
export const ENTITY_CATEGORIES = [
  'hardware', 'software', 'service', 'supplier', 'customer', 'location',
  'project', 'document', 'device', 'account', 'product', 'contract',
] as const;

/** The seeded demo account (app/seed.ts DEMO_USER; test data, not a secret). */
export const DEMO_USER = { username: 'demo', password: 'perfstack-demo' } as const;

/** Syllables the seeded names are built from, so generated search terms find something. */
export const NAME_SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ven', 'tor', 'sel', 'dra', 'mon', 'qui', 'zan', 'pe', 'lux', 'bor', 'fin', 'gal'] as const;

/** Trend statistics kept in the JSON summary (the verdicts read p(50), p(95), p(99) from it). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'count'];

/**
 * k6 keeps a tagged sub-metric in its end-of-test summary only when a threshold names it. These
 * always-true expressions make it keep one per route, so the baseline store gets per-endpoint
 * KPIs; they are bookkeeping, not SLAs, and the verdict table leaves them out.
 */
export const TRACKING_THRESHOLDS = {
  http_req_duration: 'max>=0',
  http_req_failed: 'rate>=0',
  http_reqs: 'count>=0',
} as const;
