// Every query of every generated dashboard, run against a Prometheus-compatible API (Prometheus
// itself, or the long-term store) the way Grafana runs it: template variables resolved in order
// with label_values over the test's span ("All" becomes the variable's allValue), then each panel
// query as a range query. test/e2e-dashboards.test.ts runs it against Prometheus and
// test/e2e-long-term-store.test.ts against VictoriaMetrics, with the same allow-lists.

import { dashboardQueries, generateDashboards } from '../../dashboards/index.js';
import { config, labelValues, rangeQuery } from './e2e-stack.js';

/**
 * Panels that show data only when something goes wrong; a healthy run leaves them empty.
 * Keyed by dashboard file name and panel title; each with the reason.
 */
export const ONLY_WHEN_SOMETHING_FAILS: { dashboard: string; panel: string; why: string }[] = [
  { dashboard: 'database.json', panel: 'Query errors', why: 'error_type is set only when a query fails' },
  { dashboard: 'k6-load-tests.json', panel: 'Dropped iterations', why: 'k6 emits it only when iterations are dropped' },
];

/**
 * Front-end panels fed by the browser scenario (k6 browser Web Vitals and script size), which the
 * smoke run does not run (k6/run.test.ts runs it and checks its series). The real-user
 * (RUM) panels are fed by a Chromium page load (app/rum/testing.ts loadPageAsUser).
 */
export const FED_BY_BROWSER_SCENARIO: { dashboard: string; panel: string; why: string }[] = [
  ...['Largest Contentful Paint (LCP)', 'Interaction to Next Paint (INP)', 'Cumulative Layout Shift (CLS)', 'First Contentful Paint (FCP)', 'Time to First Byte (TTFB)'].map(
    (vital) => `${vital} p95, browser scenario`,
  ),
  'JavaScript per page, browser scenario',
].map((panel) => ({ dashboard: 'frontend.json', panel, why: 'the browser scenario is not run here (k6/run.test.ts runs it)' }));

/** Every panel allowed to be empty after a healthy smoke run. */
export const ALLOWED_EMPTY = [...ONLY_WHEN_SOMETHING_FAILS, ...FED_BY_BROWSER_SCENARIO];

/** Whole dashboards whose data comes from a part the smoke run does not run; test/e2e-viewer.test.ts publishes a verdict and draws regressions.json. */
export const FED_ELSEWHERE: { dashboard: string; why: string }[] = [
  { dashboard: 'regressions.json', why: 'the regression detector (perfstack compare) is not run here' },
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
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a: string | undefined, b: string | undefined, c: string | undefined) => {
    const name = a ?? b ?? c ?? '';
    return values[name] ?? whole;
  });
}

export function escapeRegex(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

export interface DashboardCheck {
  checked: number;
  /** "dashboard / panel: query" of every query with no finite sample, not on the allow-list. */
  empty: string[];
  allowedEmpty: string[];
  /** Queries the API rejected, with its message. */
  errors: string[];
  /** Queries with a variable left unfilled. */
  unresolved: string[];
  /** Variables with no values, or a $testid without the run's testid. */
  variableProblems: string[];
  skippedDashboards: string[];
}

/** Runs every dashboard query over [start, end] against `baseUrl`; `testid` is the run $testid must offer and select. */
export async function checkEveryDashboardQuery(baseUrl: string, range: { start: number; end: number; testid: string }): Promise<DashboardCheck> {
  const { start, end, testid } = range;
  const result: DashboardCheck = { checked: 0, empty: [], allowedEmpty: [], errors: [], unresolved: [], variableProblems: [], skippedDashboards: [] };
  for (const file of generateDashboards(config)) {
    const dashboardName = file.path.split('/').pop()!;
    const elsewhere = FED_ELSEWHERE.find((d) => d.dashboard === dashboardName);
    if (elsewhere) {
      result.skippedDashboards.push(`${dashboardName}: ${elsewhere.why}`);
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
        if (!match) {
          result.variableProblems.push(`${dashboardName}: variable $${variable.name} is not label_values(selector, label): ${text}`);
          continue;
        }
        try {
          options = await labelValues(baseUrl, match[2]!, substitute(match[1]!, values), start, end);
        } catch (error) {
          result.variableProblems.push(`${dashboardName}: variable $${variable.name}: ${(error as Error).message}`);
          continue;
        }
      } else if (variable.type === 'custom') {
        options = String(variable.query ?? '').split(',').map((v) => v.trim()).filter(Boolean);
      } else {
        result.variableProblems.push(`${dashboardName}: variable $${variable.name} has type ${variable.type}, which this check does not know`);
        continue;
      }
      if (options.length === 0) {
        result.variableProblems.push(`${dashboardName}: variable $${variable.name} has no values`);
        continue;
      }
      if (variable.name === 'testid') {
        if (!options.includes(testid)) result.variableProblems.push(`${dashboardName}: $testid does not offer ${testid} (offers ${options.join(', ')})`);
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
        result.unresolved.push(where);
        continue;
      }
      result.checked++;
      let series;
      try {
        series = await rangeQuery(baseUrl, query, start, end, 2);
      } catch (error) {
        result.errors.push(`${where} → ${(error as Error).message}`);
        continue;
      }
      const hasData = series.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
      if (hasData) continue;
      const allowed = ALLOWED_EMPTY.some((a) => a.dashboard === dashboardName && a.panel === panel);
      (allowed ? result.allowedEmpty : result.empty).push(where);
    }
  }
  return result;
}

/** Every "dashboard / panel" the generated dashboards have, and their file names: the allow-lists may name only these. */
export function dashboardPanels(): { panels: Set<string>; files: Set<string> } {
  const dashboards = generateDashboards(config);
  return {
    panels: new Set(dashboards.flatMap((file) => dashboardQueries(JSON.parse(file.content)).map((q) => `${file.path.split('/').pop()} / ${q.panel}`))),
    files: new Set(dashboards.map((file) => file.path.split('/').pop()!)),
  };
}
