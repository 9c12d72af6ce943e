// End to end: every query of every generated dashboard returns data from a live Prometheus.
//
// The stack (test/support/e2e-stack.ts) runs the reference service on a seeded PostgreSQL, the
// pg-stats exporter, node_exporter and Prometheus with the generated rules as they are (real
// windows, evaluated every 1 s). A short k6 smoke run pushes its results by remote-write, and a few
// requests on every configured route give each service panel a series. Then each dashboard's
// template variables are resolved the way Grafana does (label_values over the run; "All" becomes
// the variable's allValue) and every panel query runs as a range query over the test's time span.
// A query with no finite sample is an empty panel, and fails the test with its dashboard, panel
// and query — unless the panel is on ONLY_WHEN_SOMETHING_FAILS below.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, generateDashboards } from '../dashboards/index.js';
import { runScenario, type RunScenarioResult } from '../k6/index.js';
import { loadPageAsUser } from '../app/rum/testing.js';
import {
  config,
  everyRoute,
  instantQuery,
  labelValues,
  rangeQuery,
  startE2eStack,
  waitUntil,
  type E2eStack,
} from './support/e2e-stack.js';

/**
 * Panels that show data only when something goes wrong; a healthy run leaves them empty.
 * Keyed by dashboard file name and panel title; each with the reason.
 */
const ONLY_WHEN_SOMETHING_FAILS: { dashboard: string; panel: string; why: string }[] = [
  // The series carries error_type, which the pool instrumentation sets only on a failed query.
  { dashboard: 'database.json', panel: 'Query errors', why: 'error_type is set only when a query fails' },
  // k6 emits dropped_iterations only when an arrival-rate executor cannot start an iteration in time; smoke uses constant VUs.
  { dashboard: 'k6-load-tests.json', panel: 'Dropped iterations', why: 'k6 emits it only when iterations are dropped' },
];

/**
 * Front-end panels fed by the browser scenario (k6 browser Web Vitals and script size), which this
 * smoke-run test does not run; k6/run.test.ts runs it and checks its series reach Prometheus. The
 * front end's real-user (RUM) panels are fed here by a real Chromium page load (loadPageAsUser).
 */
const FED_BY_BROWSER_SCENARIO: { dashboard: string; panel: string; why: string }[] = [
  ...['Largest Contentful Paint (LCP)', 'Interaction to Next Paint (INP)', 'Cumulative Layout Shift (CLS)', 'First Contentful Paint (FCP)', 'Time to First Byte (TTFB)'].map(
    (vital) => `${vital} p95, browser scenario`,
  ),
  'JavaScript per page, browser scenario',
].map((panel) => ({ dashboard: 'frontend.json', panel, why: 'the browser scenario is not run here (k6/run.test.ts runs it)' }));

/**
 * Whole dashboards whose data comes from a part this test does not run; each with the reason.
 * Remove an entry as soon as the test can feed that dashboard.
 */
const FED_ELSEWHERE: { dashboard: string; why: string }[] = [
  // perfstack_regression_* are published by the regression detector after it compares a run with its baselines.
  { dashboard: 'regressions.json', why: 'the regression detector (regression/, in progress) is not run here' },
];

/** Grafana's built-in interval variables, for a 1 s scrape interval and a short time range. */
function builtIns(rangeSeconds: number): Record<string, string> {
  return { __rate_interval: '1m', __interval: '2s', __range: `${Math.max(1, Math.ceil(rangeSeconds))}s` };
}

interface TemplateVariable {
  name: string;
  type: string;
  query?: unknown;
  includeAll?: boolean;
  allValue?: string;
  multi?: boolean;
}

/** Replaces $name, ${name} and [[name]] with values; unknown names are left for the caller to see. */
function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a: string | undefined, b: string | undefined, c: string | undefined) => {
    const name = a ?? b ?? c ?? '';
    return values[name] ?? whole;
  });
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

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
    k6Run = await runScenario({
      scenario: 'smoke',
      baseUrl: app.url,
      prometheusUrl: stack.prometheusUrl,
      testid,
      outputDir: join(stack.root, 'k6'),
      vus: 1,
      duration: '5s',
      pushInterval: '1s',
      timeoutMs: 60_000,
    });
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
    const prometheusUrl = stack!.prometheusUrl;
    const end = Date.now() / 1000;
    const start = startedAt;
    const empty: string[] = [];
    const allowedEmpty: string[] = [];
    const errors: string[] = [];
    const unresolved: string[] = [];
    let checked = 0;
    const dashboards = generateDashboards(config);
    expect(dashboards.length).toBeGreaterThanOrEqual(5);

    for (const file of dashboards) {
      const dashboardName = file.path.split('/').pop()!;
      const elsewhere = FED_ELSEWHERE.find((d) => d.dashboard === dashboardName);
      if (elsewhere) {
        console.log(`e2e-dashboards: ${dashboardName} not checked: ${elsewhere.why}`);
        continue;
      }
      const json = JSON.parse(file.content) as { templating?: { list?: TemplateVariable[] } };
      const values: Record<string, string> = builtIns(end - start);

      // Resolve the variables in order, as Grafana does: each may use the ones before it.
      for (const variable of json.templating?.list ?? []) {
        if (variable.type === 'datasource') continue;
        let options: string[];
        if (variable.type === 'query') {
          const text = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string } | undefined)?.query ?? '';
          const match = /^label_values\(\s*([\s\S]*?)\s*,\s*([a-zA-Z_]\w*)\s*\)$/.exec(text.trim());
          expect(match, `${dashboardName}: variable $${variable.name} is not label_values(selector, label): ${text}`).not.toBeNull();
          options = await labelValues(prometheusUrl, match![2]!, substitute(match![1]!, values), start, end);
        } else if (variable.type === 'custom') {
          options = String(variable.query ?? '').split(',').map((v) => v.trim()).filter(Boolean);
        } else {
          throw new Error(`${dashboardName}: variable $${variable.name} has type ${variable.type}, which this test does not know`);
        }
        expect(options.length, `${dashboardName}: variable $${variable.name} has no values`).toBeGreaterThan(0);
        if (variable.name === 'testid') {
          expect(options, `${dashboardName}: $testid offers the run's testid`).toContain(testid);
          values[variable.name] = escapeRegex(testid);
        } else if (variable.includeAll && variable.allValue) {
          values[variable.name] = variable.allValue; // the "All" default
        } else {
          values[variable.name] = variable.multi ? `(${options.map(escapeRegex).join('|')})` : escapeRegex(options[0]!);
        }
      }

      for (const { panel, expr } of dashboardQueries(JSON.parse(file.content))) {
        const query = substitute(expr, values);
        const where = `${dashboardName} / ${panel}: ${query}`;
        if (/\$\w|\[\[/.test(query)) {
          unresolved.push(where);
          continue;
        }
        checked++;
        let series;
        try {
          series = await rangeQuery(prometheusUrl, query, start, end, 2);
        } catch (error) {
          errors.push(`${where} → ${(error as Error).message}`);
          continue;
        }
        const hasData = series.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
        if (hasData) continue;
        const allowed = [...ONLY_WHEN_SOMETHING_FAILS, ...FED_BY_BROWSER_SCENARIO].some((a) => a.dashboard === dashboardName && a.panel === panel);
        (allowed ? allowedEmpty : empty).push(where);
      }
    }

    console.log(`e2e-dashboards: ${checked} queries checked, ${empty.length} empty, ${allowedEmpty.length} empty on the allow-list`);
    expect(unresolved, 'queries with a variable this test could not fill in').toEqual([]);
    expect(errors, 'queries Prometheus rejected').toEqual([]);
    expect(empty, 'panels with no data (dashboard / panel: query)').toEqual([]);
    expect(checked).toBeGreaterThan(80);
  });

  it('names only real dashboards and panels on the allow-lists', () => {
    const panels = new Set(
      generateDashboards(config).flatMap((file) => dashboardQueries(JSON.parse(file.content)).map((q) => `${file.path.split('/').pop()} / ${q.panel}`)),
    );
    for (const entry of [...ONLY_WHEN_SOMETHING_FAILS, ...FED_BY_BROWSER_SCENARIO]) expect(panels, entry.why).toContain(`${entry.dashboard} / ${entry.panel}`);
    const files = generateDashboards(config).map((file) => file.path.split('/').pop());
    for (const entry of FED_ELSEWHERE) expect(files, entry.why).toContain(entry.dashboard);
  });
});
