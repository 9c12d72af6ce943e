import { defineConfig } from './config/index.js';

// The one file a user edits. Latencies are in seconds, rates and ratios are 0..1.
// Every generated dashboard, rule, route and k6 threshold is derived from it:
// run `npm run generate` after a change and commit the result.
export default defineConfig({
  services: [
    {
      name: 'api',
      title: 'Reference API',
      job: 'perfstack-app',
      team: 'platform',
      // Route templates as the HTTP middleware labels them (http_route).
      routes: [
        '/api/entities',
        '/api/entities/:id',
        '/api/entities/bulk',
        '/api/resolve',
        '/api/auth/login',
        '/api/auth/logout',
        '/api/files',
        '/api/files/:id',
      ],
      sla: {
        latency: { p95Seconds: 0.5 },
        errorRate: { warning: 0.001, critical: 0.01 },
        minThroughputRps: 100,
        availability: 0.999,
      },
    },
    {
      name: 'search',
      title: 'Search',
      job: 'perfstack-app',
      team: 'platform',
      routes: ['/api/search'],
      sla: {
        latency: { p50Seconds: 0.4, p95Seconds: 3 },
        minThroughputRps: 50,
      },
    },
  ],
  slos: [
    // 99.9 % of API requests succeed (no 5xx) over 30 days.
    { name: 'api-availability', service: 'api', objective: 0.999, window: '30d', sli: { kind: 'availability' } },
    // 95 % of API requests finish within 500 ms: the p95 SLA as an error budget.
    { name: 'api-latency', service: 'api', objective: 0.95, window: '30d', sli: { kind: 'latency', thresholdSeconds: 0.5 } },
    { name: 'search-availability', service: 'search', objective: 0.999, window: '30d', sli: { kind: 'availability' } },
  ],
  database: {
    avgQuerySeconds: 0.1,
    maxQuerySeconds: 1,
    poolUtilisation: 0.8,
    indexUsage: 0.95,
    cacheHit: 0.99,
    maxPendingRequests: 0,
    sizeLimitBytes: 10 * 1024 ** 3,
    team: 'database',
  },
  host: { cpu: 0.7, memory: 0.8, disk: 0.8, team: 'platform' },
  alerting: {
    // group_wait / group_interval / repeat_interval per severity: pages fast and often,
    // tickets slowly and rarely.
    severities: {
      critical: { channel: '#perfstack-critical', groupWait: '10s', groupInterval: '1m', repeatInterval: '1h' },
      warning: { channel: '#perfstack-warnings', groupWait: '30s', groupInterval: '5m', repeatInterval: '4h' },
      ticket: { channel: '#perfstack-tickets', groupWait: '5m', groupInterval: '30m', repeatInterval: '24h' },
    },
    teams: [
      { name: 'platform', channels: {} },
      { name: 'database', channels: { critical: '#db-oncall', warning: '#db-alerts', ticket: '#db-tickets' } },
    ],
    groupBy: ['alertname', 'service', 'severity'],
    slackApiUrlFile: '/run/secrets/slack_api_url',
  },
  links: {
    grafanaUrl: 'http://localhost:3000',
    runbookUrl: 'https://github.com/perfstack/perfstack/blob/main/docs/runbooks.md',
  },
  scrape: { interval: '15s', evaluationInterval: '15s' },
  // provisioning/kubernetes/ (docs/kubernetes.md): the namespace and extra labels of every object, e.g.
  // labels: { release: 'kube-prometheus-stack' } when the Prometheus selects rules and monitors by it.
  kubernetes: {
    namespace: 'perfstack',
    labels: {},
    grafanaInstanceSelector: { dashboards: 'grafana' },
    slackSecret: { name: 'perfstack-alertmanager-slack', key: 'webhook-url' },
  },
  // Off by default. On, Prometheus remote-writes everything to VictoriaMetrics, kept for a year
  // (docs/long-term-storage.md); `perfstack start --long-term-store` turns it on for one run.
  longTermStore: { enabled: false, retention: '1y' },
  regression: {
    // A candidate run is compared with the last 5 runs of its scenario on main.
    baselineRuns: 5,
    baselineBranch: 'main',
    // A change smaller than 5 % is never a regression, however significant: 2-core CI is noisy.
    minEffect: 0.05,
    alpha: 0.01,
    kpis: {
      // Error rates start near zero, so relative changes are large: ask for a bigger step.
      error_rate: { minEffect: 0.5 },
    },
  },
  // gzip or brotli for the reference service's responses, negotiated per request (measured effect:
  // docs/performance_optimization_guide.md).
  compression: { enabled: true, thresholdBytes: 1024, brotliQuality: 4, gzipLevel: 6 },
  // Redis read cache of the reference service (docs/caching.md). Search results change with every
  // entity write, so they live shortly; the search SLA is split by cache result.
  cache: {
    timeoutMs: 50,
    search: { ttlSeconds: 60, minHitRatio: 0.5 },
    entity: { ttlSeconds: 300, minHitRatio: 0.5 },
    hitRatioForMinutes: 15,
    maxErrorRatio: 0.01,
    searchLatency: { cachedP95Seconds: 0.4, uncachedP95Seconds: 3 },
    team: 'platform',
  },
  // Front-end targets (docs/frontend-monitoring.md): Core Web Vitals "good" at p75 of real page
  // loads (web.dev), FCP under 2 s, interactive under 3 s, under 1 MB of JavaScript per page.
  frontend: {
    lcpSeconds: 2.5,
    inpSeconds: 0.2,
    cls: 0.1,
    fcpSeconds: 1.8,
    ttfbSeconds: 0.8,
    ttiSeconds: 3,
    javascriptBytes: 1_000_000,
    // Page templates the front end reports as; any other value is counted as "other".
    pages: ['search'],
    alertForMinutes: 15,
    team: 'platform',
  },
});
