import { describe, expect, it } from 'vitest';
import rawConfig from '../perfstack.config.js';
import { parseConfig, type PerfstackConfig, type PerfstackConfigInput } from '../config/index.js';
import { cache, dbClient, http, k6, k6Browser, metricNames, node, nodejs, pgServer, recorded, redisServer, regression, rum, substituteGrafanaVariables } from '../metrics/index.js';
import { DASHBOARD_UIDS, dashboardQueries, generateDashboards, lintDashboard } from './index.js';

type Json = Record<string, any>;

function configWith(change: (input: PerfstackConfigInput) => void = () => {}): PerfstackConfig {
  const input = structuredClone(rawConfig);
  change(input);
  return parseConfig(input);
}

function dashboards(config: PerfstackConfig): Map<string, Json> {
  return new Map(generateDashboards(config).map((f) => [f.path, JSON.parse(f.content) as Json]));
}

function byUid(config: PerfstackConfig, uid: string): Json {
  const found = [...dashboards(config).values()].find((d) => d.uid === uid);
  if (!found) throw new Error(`no dashboard ${uid}`);
  return found;
}

/** Panels other than rows, nested ones included. */
function panels(dashboard: Json): Json[] {
  return (dashboard.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]).filter((p) => p.type !== 'row');
}

function panelTitled(dashboard: Json, title: string): Json {
  const panel = panels(dashboard).find((p) => p.title === title);
  if (!panel) throw new Error(`no panel "${title}"`);
  return panel;
}

function thresholdValues(panel: Json): (number | null)[] {
  return (panel.fieldConfig.defaults.thresholds?.steps ?? []).map((s: Json) => s.value);
}

const defaultConfig = configWith();

describe('generateDashboards', () => {
  it('writes the dashboards with the fixed uids, one folder per area', () => {
    const files = generateDashboards(defaultConfig);
    expect(files.map((f) => f.path)).toEqual([
      'provisioning/grafana/dashboards/services/service-overview.json',
      'provisioning/grafana/dashboards/database/database.json',
      'provisioning/grafana/dashboards/load-tests/k6-load-tests.json',
      'provisioning/grafana/dashboards/slos/slos.json',
      'provisioning/grafana/dashboards/host/host-process.json',
      'provisioning/grafana/dashboards/load-tests/regressions.json',
      'provisioning/grafana/dashboards/frontend/frontend.json',
    ]);
    expect(files.map((f) => (JSON.parse(f.content) as Json).uid)).toEqual([
      DASHBOARD_UIDS.service,
      DASHBOARD_UIDS.database,
      DASHBOARD_UIDS.k6,
      DASHBOARD_UIDS.slo,
      DASHBOARD_UIDS.host,
      DASHBOARD_UIDS.regression,
      DASHBOARD_UIDS.frontend,
    ]);
    for (const file of files) expect(file.content.endsWith('}\n')).toBe(true);
  });

  it('lints clean for the default config', () => {
    for (const [path, dashboard] of dashboards(defaultConfig)) {
      expect(lintDashboard(dashboard), path).toEqual([]);
    }
  });

  it('is deterministic: the same config gives byte-identical files', () => {
    expect(generateDashboards(configWith())).toEqual(generateDashboards(configWith()));
  });

  it('gives every panel a unique id and a grid position inside the 24-column grid', () => {
    for (const dashboard of dashboards(defaultConfig).values()) {
      const all = (dashboard.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
      const ids = all.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of all) {
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
        expect(panel.gridPos.h).toBeGreaterThan(0);
      }
    }
  });

  it('has datasource, job and instance variables (refreshed on time range change) and links to the others', () => {
    for (const dashboard of dashboards(defaultConfig).values()) {
      const variables = dashboard.templating.list as Json[];
      const byName = new Map(variables.map((v) => [v.name, v]));
      expect(byName.get('datasource')?.type).toBe('datasource');
      // Verdicts are per scenario and KPI, not per scraped job: the regression dashboard selects by those.
      const selectors = dashboard.uid === DASHBOARD_UIDS.regression ? ['scenario', 'kpi', 'endpoint'] : ['job', 'instance'];
      for (const name of selectors) {
        expect(byName.get(name)).toMatchObject({ type: 'query', refresh: 2, multi: true, includeAll: true });
        expect(byName.get(name)?.query).toMatch(/^label_values\(/);
      }
      const targets = (dashboard.links as Json[]).map((l) => l.url);
      const others = Object.values(DASHBOARD_UIDS).filter((uid) => uid !== dashboard.uid);
      expect(targets).toEqual(others.map((uid) => `/d/${uid}`));
      expect(dashboard.tags).toContain('perfstack');
    }
  });

  it('drives every panel and query by the $datasource variable, which defaults to the provisioned datasource', () => {
    for (const dashboard of dashboards(defaultConfig).values()) {
      for (const panel of panels(dashboard)) {
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const target of panel.targets as Json[]) expect(target.datasource.uid).toBe('${datasource}');
      }
    }
  });

  it('draws thresholds on time series as dashed lines', () => {
    for (const dashboard of dashboards(defaultConfig).values()) {
      for (const panel of panels(dashboard).filter((p) => p.type === 'timeseries' && p.fieldConfig.defaults.thresholds)) {
        expect(panel.fieldConfig.defaults.custom.thresholdsStyle, panel.title).toEqual({ mode: 'dashed' });
      }
    }
  });
});

describe('service overview', () => {
  const service = byUid(defaultConfig, DASHBOARD_UIDS.service);

  it('has a row per service with RED panels and the SLA lines', () => {
    const rows = (service.panels as Json[]).filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Reference API (api)', 'Search (search)', 'Read cache (Redis)', 'Redis server']);
    expect(thresholdValues(panelTitled(service, 'Reference API: request rate by route'))).toEqual([null, 100]);
    expect(thresholdValues(panelTitled(service, 'Reference API: error ratio (5xx) by route'))).toEqual([null, 0.001, 0.01]);
    expect(thresholdValues(panelTitled(service, 'Reference API: p95 latency by route'))).toEqual([null, 0.5]);
    expect(thresholdValues(panelTitled(service, 'Search: p50 latency by route'))).toEqual([null, 0.4]);
    expect(thresholdValues(panelTitled(service, 'Reference API: availability'))).toEqual([null, 0.999]);
  });

  it('has a Redis server row from redis_exporter, on its own job whatever services $job picks', () => {
    const titles = ['Redis up', 'Redis memory used and maxmemory', 'Redis keyspace hit ratio', 'Redis clients, connected and blocked', 'Redis rejected connections', 'Redis evicted and expired keys', 'Redis commands per second'];
    const units = titles.map((title) => panelTitled(service, title).fieldConfig.defaults.unit);
    expect(units).toEqual(['none', 'bytes', 'percentunit', 'short', 'suffix: conn/s', 'suffix: keys/s', 'ops']);
    for (const title of titles) {
      const panel = panelTitled(service, title);
      expect(panel.description, title).toMatch(/redis_/);
      for (const target of panel.targets as Json[]) {
        expect(target.expr, title).toContain('job="redis"');
        expect(target.expr, title).not.toContain('$job');
      }
    }
    // maxmemory 0 means no limit: that series is filtered out, so only the used line is drawn.
    const memory = panelTitled(service, 'Redis memory used and maxmemory').targets as Json[];
    expect(memory.map((t) => t.expr)).toEqual([
      'sum by (instance) (redis_memory_used_bytes{job="redis"})',
      'sum by (instance) (redis_memory_max_bytes{job="redis"}) > 0',
    ]);
    // $job picks services only: Redis serves them all.
    const job = (service.templating.list as Json[]).find((v) => v.name === 'job');
    expect(job?.query).not.toContain('redis_up');
  });

  it('has a read-cache row with the hit-ratio floor and both search SLA lines from the cache config', () => {
    expect(thresholdValues(panelTitled(service, 'Search latency p95, cached and uncached'))).toEqual([null, 0.4, 3]);
    expect(thresholdValues(panelTitled(service, 'Cache hit ratio by cache'))).toEqual([null, 0.5]);
    const moved = byUid(
      configWith((c) => {
        c.cache!.searchLatency = { cachedP95Seconds: 0.25, uncachedP95Seconds: 2 };
        c.cache!.entity = { ttlSeconds: 300, minHitRatio: 0.3 };
      }),
      DASHBOARD_UIDS.service,
    );
    expect(thresholdValues(panelTitled(moved, 'Search latency p95, cached and uncached'))).toEqual([null, 0.25, 2]);
    expect(thresholdValues(panelTitled(moved, 'Cache hit ratio by cache'))).toEqual([null, 0.3]);
    expect(panelTitled(service, 'Search latency p95, cached and uncached').targets[0].expr).toContain('app_search_duration_seconds_bucket{job=~"$job", instance=~"$instance"}');
  });

  it('selects the service by job, instance and its regex-escaped routes', () => {
    const expr: string = panelTitled(service, 'Search: p95 latency by route').targets[0].expr;
    expect(expr).toContain('http_server_request_duration_seconds_bucket{job=~"$job", instance=~"$instance", http_route=~"/api/search"}');
    expect(expr).toContain('[$__rate_interval]');

    const dotted = byUid(
      configWith((c) => {
        c.services[1]!.routes = ['/v1.0/search', '/api/(x)'];
      }),
      DASHBOARD_UIDS.service,
    );
    expect(panelTitled(dotted, 'Search: request rate by route').targets[0].expr).toContain(String.raw`http_route=~"/v1\\.0/search|/api/\\(x\\)"`);
    expect(lintDashboard(dotted)).toEqual([]);

    const everyRoute = byUid(
      configWith((c) => {
        c.services[1]!.routes = [];
      }),
      DASHBOARD_UIDS.service,
    );
    expect(panelTitled(everyRoute, 'Search: request rate by route').targets[0].expr).not.toContain('http_route=~');
  });

  it('computes the error budget from the SLO recording rule over the SLO window', () => {
    const exprs = (panelTitled(service, 'Reference API: error budget remaining').targets as Json[]).map((t) => t.expr);
    expect(exprs).toEqual([
      '1 - (slo:sli_error:ratio_rate30d{slo="api-availability"} / 0.001)',
      '1 - (slo:sli_error:ratio_rate30d{slo="api-latency"} / 0.05)',
    ]);
  });
});

describe('SLA changes reach the JSON', () => {
  it('moves the latency, error-rate and throughput lines when the SLA changes', () => {
    const changed = configWith((c) => {
      const api = c.services[0]!;
      api.sla.latency = { p95Seconds: 0.25, p99Seconds: 1 };
      api.sla.errorRate = { warning: 0.002, critical: 0.02 };
      api.sla.minThroughputRps = 250;
    });
    const service = byUid(changed, DASHBOARD_UIDS.service);
    expect(thresholdValues(panelTitled(service, 'Reference API: p95 latency by route'))).toEqual([null, 0.25]);
    expect(thresholdValues(panelTitled(service, 'Reference API: p99 latency by route'))).toEqual([null, 1]);
    expect(thresholdValues(panelTitled(service, 'Reference API: error ratio (5xx) by route'))).toEqual([null, 0.002, 0.02]);
    expect(thresholdValues(panelTitled(service, 'Reference API: request rate by route'))).toEqual([null, 250]);

    const k6 = byUid(changed, DASHBOARD_UIDS.k6);
    expect(thresholdValues(panelTitled(k6, 'Request duration p95 since the run started (cumulative), by scenario and URL'))).toEqual([null, 0.25]);
    expect(thresholdValues(panelTitled(k6, 'Request duration p99 since the run started (cumulative), by scenario and URL'))).toEqual([null, 1]);
    expect(thresholdValues(panelTitled(k6, 'Request failure rate'))).toEqual([null, 0.02]);

    const before = generateDashboards(defaultConfig);
    const after = generateDashboards(changed);
    expect(after.find((f) => f.path.includes('/database/'))).toEqual(before.find((f) => f.path.includes('/database/')));
  });

  it('moves the database and host lines when their limits change', () => {
    const changed = configWith((c) => {
      c.database.poolUtilisation = 0.6;
      c.database.maxQuerySeconds = 2;
      c.database.cacheHit = 0.9;
      c.host.cpu = 0.5;
    });
    const database = byUid(changed, DASHBOARD_UIDS.database);
    expect(thresholdValues(panelTitled(database, 'Pool utilisation (used / max)'))).toEqual([null, 0.6]);
    expect(thresholdValues(panelTitled(database, 'Query duration p95 by query'))).toEqual([null, 2]);
    expect(thresholdValues(panelTitled(database, 'Buffer cache hit ratio'))).toEqual([null, 0.9]);
    expect(thresholdValues(panelTitled(byUid(changed, DASHBOARD_UIDS.host), 'CPU utilisation'))).toEqual([null, 0.5]);
  });
});

describe('SLO dashboard', () => {
  const slo = byUid(defaultConfig, DASHBOARD_UIDS.slo);

  it('shows burn rates per window with the paging and ticket lines', () => {
    const burn = panelTitled(slo, 'api-availability: burn rate');
    expect((burn.targets as Json[]).map((t) => t.expr)).toEqual(
      ['5m', '30m', '1h', '2h', '6h', '1d', '3d'].map((w) => `slo:sli_error:ratio_rate${w}{slo="api-availability"} / 0.001`),
    );
    expect(thresholdValues(burn)).toEqual([null, 1, 3, 6, 14.4]);
    expect(panelTitled(slo, 'api-latency: SLI now').targets[0].expr).toBe('1 - slo:sli_error:ratio_rate5m{slo="api-latency"}');
  });

  it('still generates a clean dashboard without SLOs', () => {
    const none = byUid(
      configWith((c) => {
        c.slos = [];
      }),
      DASHBOARD_UIDS.slo,
    );
    expect(none.panels ?? []).toEqual([]);
    expect(lintDashboard(none)).toEqual([]);
  });
});

describe('dashboardQueries', () => {
  it('lists every panel expression and the PromQL behind each query variable', () => {
    const k6 = byUid(defaultConfig, DASHBOARD_UIDS.k6);
    const queries = dashboardQueries(k6);
    const targetCount = panels(k6).reduce((n, p) => n + (p.targets as Json[]).length, 0);
    expect(queries.filter((q) => !q.panel.startsWith('variable ')).length).toBe(targetCount);
    expect(queries).toContainEqual({ panel: 'variable $testid', expr: 'k6_http_reqs_total' });
    expect(queries).toContainEqual({ panel: 'variable $scenario', expr: 'k6_http_reqs_total{testid=~"$testid"}' });
    expect(queries).toContainEqual({ panel: 'Virtual users', expr: 'sum by (testid) (k6_vus{testid=~"$testid"})' });
  });
});

describe('metric contract', () => {
  it('queries only metrics named in metrics/index.ts', () => {
    const histograms = [http.requestDuration, dbClient.operationDuration, dbClient.waitTime, nodejs.gcDuration];
    const known = new Set<string>([
      ...[http, dbClient, pgServer, k6, node, nodejs, regression].flatMap((group) => Object.values(group).filter((v): v is string => typeof v === 'string')),
      ...histograms.flatMap((h) => ['_bucket', '_sum', '_count'].map((suffix) => `${h}${suffix}`)),
      ...['p95', 'p99'].map((stat) => `${k6.httpReqDurationPrefix}_${stat}`),
      ...['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map(recorded.sloErrorRatio),
      // Front end: RUM histograms and gauges, and the browser scenario's p95 Web Vitals and script size.
      ...[rum.lcp, rum.fcp, rum.inp, rum.ttfb, rum.cls].flatMap((h) => ['_bucket', '_count'].map((suffix) => `${h}${suffix}`)),
      rum.beaconsRejected,
      rum.javascriptBytes,
      k6Browser.javascriptBytes,
      // The read cache (app/cache): counters, gauge, and its two histograms.
      cache.requests,
      cache.errors,
      cache.up,
      // The Redis server, from redis_exporter.
      ...Object.values(redisServer),
      ...[cache.operationDuration, cache.searchDuration].map((h) => `${h}_bucket`),
      ...['lcp', 'fcp', 'inp', 'cls', 'ttfb'].map((vital) => `${k6Browser.webVitalPrefix}_${vital}_p95`),
    ]);
    for (const dashboard of dashboards(defaultConfig).values()) {
      for (const { panel, expr } of dashboardQueries(dashboard)) {
        for (const name of metricNames(substituteGrafanaVariables(expr))) expect(known.has(name), `${panel}: ${name}`).toBe(true);
      }
    }
  });
});
