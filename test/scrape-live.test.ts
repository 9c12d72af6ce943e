import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { generateDashboards, dashboardQueries } from '../dashboards/index.js';
import { ruleFiles } from '../alerts/index.js';
import { metricNames } from '../metrics/index.js';
import { startE2eStack, type E2eStack } from './support/e2e-stack.js';

// A real Prometheus scrapes the reference service, the pg-stats exporter and node_exporter, and
// evaluates the generated rules. Every metric name a generated dashboard or rule reads must then
// be there: a name that is not would be an empty panel or an alert that can never fire.

const config = parseConfig(defaults);

/** Names that only exist once another part runs; each with the reason. */
const NOT_PRODUCED_HERE: { pattern: RegExp; why: string }[] = [
  { pattern: /^k6_/, why: 'the load engine (or k6) pushes these by remote-write during a load test' },
  { pattern: /^prometheus_remote_storage_/, why: 'Prometheus exports them only once it remote-writes somewhere itself (a long-term store)' },
  { pattern: /^perfstack_regression_/, why: 'published by the regression detector' },
];

interface PrometheusResponse<T> {
  status: string;
  data: T;
}

async function query<T>(baseUrl: string, path: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`);
  const body = (await response.json()) as PrometheusResponse<T>;
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

/** Every metric name the generated dashboards and rules read, with where it is read. */
function referencedMetricNames(): Map<string, string> {
  const references = new Map<string, string>();
  for (const file of generateDashboards(config)) {
    for (const { panel, expr } of dashboardQueries(JSON.parse(file.content))) {
      for (const name of metricNames(expr.replace(/\$__rate_interval|\$__range|\$__interval/g, '5m'))) {
        references.set(name, references.get(name) ?? `${file.path}: ${panel}`);
      }
    }
  }
  for (const file of ruleFiles(config)) {
    for (const group of file.groups) {
      const exprs = [...(group.recordingRules ?? []).map((r) => r.expr), ...(group.alerts ?? []).map((a) => a.expr)];
      for (const expr of exprs) for (const name of metricNames(expr)) references.set(name, references.get(name) ?? `rules/${file.name}.yml`);
    }
  }
  return references;
}

describe('a live Prometheus scraping the service and every exporter', () => {
  let stack: E2eStack | undefined;
  let prometheusUrl: string;

  beforeAll(async () => {
    stack = await startE2eStack({ name: 'scrape', nodeExporter: true, alerting: true, blackbox: true });
    prometheusUrl = stack.prometheusUrl;

    // Traffic through every kind of route, so request and query series exist.
    const api = stack.app.url;
    const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let round = 0; round < 3; round++) {
      const created = (await (await fetch(`${api}/api/entities`, json({ name: `scrape probe ${round}`, category: 'person', attributes: {} }))).json()) as { id: number };
      await fetch(`${api}/api/entities/${created.id}`);
      await fetch(`${api}/api/entities?limit=5`);
      await fetch(`${api}/api/search?q=acme`);
      await fetch(`${api}/api/resolve`, json({ candidates: ['acme corp'] }));
      await fetch(`${api}/api/entities/bulk`, json({ mode: 'copy', entities: [{ name: `bulk ${round}`, category: 'person', attributes: {} }] }));
      await fetch(`${api}/no-such-route`);
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('scrapes the service, pg-stats, node_exporter and itself, all up', async () => {
    let targets: { labels: { job: string }; health: string; lastError: string }[] = [];
    const deadline = Date.now() + 20_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 500));
      targets = (await query<{ activeTargets: typeof targets }>(prometheusUrl, '/api/v1/targets')).activeTargets;
    } while ((targets.length === 0 || targets.some((t) => t.labels.job !== 'alertmanager' && t.health !== 'up')) && Date.now() < deadline);
    const health = Object.fromEntries(targets.map((t) => [t.labels.job, t.health === 'up' ? 'up' : `${t.health}: ${t.lastError}`]));
    expect(health).toMatchObject({ 'perfstack-app': 'up', 'pg-stats': 'up', node: 'up', prometheus: 'up' });
  });

  it('holds every metric name the generated dashboards and rules reference', async () => {
    const references = referencedMetricNames();
    expect(references.size).toBeGreaterThan(30);
    const expected = [...references.keys()].filter((name) => !NOT_PRODUCED_HERE.some((rule) => rule.pattern.test(name)));
    let missing: string[] = [];
    const deadline = Date.now() + 30_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const present = new Set(await query<string[]>(prometheusUrl, '/api/v1/label/__name__/values'));
      missing = expected.filter((name) => !present.has(name));
    } while (missing.length > 0 && Date.now() < deadline);
    expect(missing.map((name) => `${name} (read by ${references.get(name)})`)).toEqual([]);
  });
});
