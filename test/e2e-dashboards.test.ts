// End to end: every query of every generated dashboard returns data from a live Prometheus.
//
// The stack (test/support/e2e-stack.ts) runs the reference service on a seeded PostgreSQL, the
// pg-stats exporter, node_exporter and Prometheus with the generated rules as they are (real
// windows, evaluated every 1 s). A short k6 smoke run pushes its results by remote-write, and a few
// requests on every configured route give each service panel a series. Then each dashboard's
// template variables are resolved the way Grafana does (label_values over the run; "All" becomes
// the variable's allValue) and every panel query runs as a range query over the test's time span.
// A query with no finite sample is an empty panel, and fails the test with its dashboard, panel
// and query, unless the panel is on an allow-list in test/support/dashboard-queries.ts (shared with
// the long-term store's check).

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDashboards } from '../dashboards/index.js';
import type { RunScenarioResult } from '../k6/index.js';
import { loadPageAsUser } from '../app/rum/testing.js';
import {
  config,
  everyRoute,
  instantQuery,
  labelValues,
  smokeRunOnStack,
  startE2eStack,
  waitUntil,
  type E2eStack,
} from './support/e2e-stack.js';
import { ALLOWED_EMPTY, FED_ELSEWHERE, checkEveryDashboardQuery, dashboardPanels } from './support/dashboard-queries.js';

describe('every generated dashboard query returns data after a k6 smoke run', () => {
  let stack: E2eStack | undefined;
  let k6Run: RunScenarioResult;
  let startedAt = 0;
  const testid = `e2e-dashboards-${randomBytes(3).toString('hex')}`;
  const routeStatuses: Record<string, number>[] = [];

  beforeAll(async () => {
    startedAt = Date.now() / 1000;
    const started = await startE2eStack({ name: 'e2e-dash', nodeExporter: true });
    stack = started;
    const app = stack.app;
    routeStatuses.push(await everyRoute(app.url, 1));
    // A real page load in Chromium: the page's RUM beacon feeds the front-end dashboard's RUM panels.
    await loadPageAsUser(app.url);
    k6Run = await smokeRunOnStack(stack, testid);
    routeStatuses.push(await everyRoute(app.url, 2));
    // The SLO recording rules (30 d windows included) need two scrapes of every series and an evaluation after them.
    const prometheusUrl = stack.prometheusUrl;
    let missing: string[] = [];
    await waitUntil(
      'every SLO has a finite slo:sli_error:ratio_rate5m … ratio_rate30d',
      async () => {
        missing = [];
        for (const window of ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d']) {
          const result = await instantQuery(prometheusUrl, `slo:sli_error:ratio_rate${window}`);
          const finite = new Set(result.filter((s) => Number.isFinite(Number(s.value[1]))).map((s) => s.metric.slo));
          for (const slo of config.slos) if (!finite.has(slo.name)) missing.push(`${slo.name} ${window}`);
        }
        return missing.length === 0;
      },
      30_000,
    ).catch(async (error: Error) => {
      const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: { job: string }; health: string; lastError: string; lastScrapeDuration: number }[] };
      };
      const health = targets.data.activeTargets.map((t) => `${t.labels.job} ${t.health} ${t.lastScrapeDuration}s ${t.lastError}`).join('; ');
      const requests = await instantQuery(prometheusUrl, 'sum by (http_route) (increase(http_server_request_duration_seconds_count[5m]))');
      const perRoute = requests.map((r) => `${r.metric.http_route}=${r.value[1]}`).join(', ');
      throw new Error(`${error.message}; missing: ${missing.join(', ')}; k6 exit ${k6Run.exitCode}; targets: ${health}; requests in 5m: ${perRoute}`);
    });
    await everyRoute(app.url, 3);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a few more scrapes after the last request
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('the requests on every route succeed, and the k6 smoke run passes', () => {
    const routes = config.services.flatMap((s) => s.routes ?? []);
    for (const statuses of routeStatuses) {
      expect(Object.keys(statuses).sort()).toEqual([...routes].sort());
      const failed = Object.entries(statuses).filter(([, status]) => status >= 400);
      expect(failed).toEqual([]);
    }
    expect(k6Run.testid).toBe(testid);
    expect(k6Run.exitCode, `k6 log: ${k6Run.logPath}`).toBe(0);
  });

  it('Prometheus holds the k6 series of the run, tagged with its testid', async () => {
    const prometheusUrl = stack!.prometheusUrl;
    const testids = await labelValues(prometheusUrl, 'testid', 'k6_http_reqs_total', startedAt, Date.now() / 1000);
    expect(testids).toEqual([testid]);
    // Stale markers end the series when k6 stops, so look back over the run.
    const requests = await instantQuery(prometheusUrl, `sum(max_over_time(k6_http_reqs_total{testid="${testid}"}[5m]))`);
    expect(Number(requests[0]?.value[1] ?? 0)).toBeGreaterThan(5);
    const vus = await instantQuery(prometheusUrl, `max(max_over_time(k6_vus{testid="${testid}"}[5m]))`);
    expect(Number(vus[0]?.value[1] ?? 0)).toBe(1);
  });

  it('every panel query and variable query of every dashboard returns data', async () => {
    expect(generateDashboards(config).length).toBeGreaterThanOrEqual(5);
    const check = await checkEveryDashboardQuery(stack!.prometheusUrl, { start: startedAt, end: Date.now() / 1000, testid });
    for (const skipped of check.skippedDashboards) console.log(`e2e-dashboards: not checked: ${skipped}`);
    console.log(`e2e-dashboards: ${check.checked} queries checked, ${check.empty.length} empty, ${check.allowedEmpty.length} empty on the allow-list`);
    expect(check.variableProblems, 'template variables with no values, or a $testid without the run').toEqual([]);
    expect(check.unresolved, 'queries with a variable this test could not fill in').toEqual([]);
    expect(check.errors, 'queries Prometheus rejected').toEqual([]);
    expect(check.empty, 'panels with no data (dashboard / panel: query)').toEqual([]);
    expect(check.checked).toBeGreaterThan(80);
  });

  it('names only real dashboards and panels on the allow-lists', () => {
    const { panels, files } = dashboardPanels();
    for (const entry of ALLOWED_EMPTY) expect(panels, entry.why).toContain(`${entry.dashboard} / ${entry.panel}`);
    for (const entry of FED_ELSEWHERE) expect(files, entry.why).toContain(entry.dashboard);
  });
});
