// KPIs from the JSON summary that k6/scenarios/lib/summary.ts writes (k6's handleSummary data plus
// a `perfstack` block with scenario, testid, gitSha and baseUrl).
//
// What the summary has: run-wide trends, counters and rates, and the sub-metrics that scenario
// thresholds define (`http_req_duration{service:api}`, …). k6 only keeps a sub-metric in the
// end-of-test summary when a threshold names it, so per-route values (`{name:/api/search}`) appear
// only if a scenario adds thresholds for them. Times are milliseconds in the summary and seconds here.

import { z } from 'zod';
import { RUN_LEVEL, type KpiName, type KpiValue } from '../kpi.js';
import { BaselineStoreError } from './errors.js';

const metricSchema = z.looseObject({
  type: z.enum(['counter', 'gauge', 'rate', 'trend']),
  contains: z.enum(['default', 'time', 'data']).optional(),
  // k6 writes null for a statistic it cannot compute (NaN); treat it as absent.
  values: z.record(z.string(), z.number().nullable()),
});

const summarySchema = z.looseObject({
  metrics: z.record(z.string(), metricSchema),
  state: z.looseObject({ testRunDurationMs: z.number().nonnegative() }).optional(),
  perfstack: z
    .looseObject({
      scenario: z.string().nullish(),
      testid: z.string().nullish(),
      gitSha: z.string().nullish(),
      baseUrl: z.string().nullish(),
    })
    .optional(),
});

type SummaryMetric = z.infer<typeof metricSchema>;

/** What the perfstack block of a summary says about the run (absent fields are undefined). */
export interface SummaryRunInfo {
  scenario?: string;
  testid?: string;
  gitSha?: string;
  baseUrl?: string;
  /** state.testRunDurationMs: k6's own run length, including setup and teardown. */
  durationMs?: number;
}

export interface SummaryKpis {
  run: SummaryRunInfo;
  /** Run-level values first, then per endpoint; each (kpi, endpoint) once. */
  values: KpiValue[];
}

/** Metrics every summary must have: the run-level KPIs come from them. */
export const REQUIRED_SUMMARY_METRICS = ['http_req_duration', 'http_reqs', 'http_req_failed'] as const;

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/**
 * JSON.parse with an error that names the file and the line, column and offset where the text
 * stops making sense, and says so when the file simply ends too early (an interrupted copy).
 */
export function parseSummaryText(text: string, source: string): unknown {
  if (text.trim() === '') throw new BaselineStoreError('invalid-json', source, `${source}: the file is empty, expected a k6 JSON summary`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const atPosition = /at position (\d+)/.exec(message);
    const content = text.trimEnd().length;
    const position = atPosition ? Number(atPosition[1]) : /end of JSON input/i.test(message) ? content : undefined;
    let where = '';
    if (position !== undefined) {
      const before = text.slice(0, position);
      const line = before.split('\n').length;
      const column = position - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${column} (offset ${position} of ${text.length})`;
    }
    const truncated = position !== undefined && position >= content;
    const hint = truncated ? '; the file ends too early (truncated?)' : '';
    throw new BaselineStoreError('invalid-json', source, `${source}: not valid JSON${where}: ${message}${hint}`, { cause: error });
  }
}

/** "http_req_duration{service:api,name:/x}" → metric and tags (values may contain ':'). */
function parseKey(key: string): { metric: string; tags: Record<string, string> } {
  const match = /^([^{]+)(?:\{(.*)\})?$/.exec(key);
  const tags: Record<string, string> = {};
  for (const pair of (match?.[2] ?? '').split(',')) {
    const at = pair.indexOf(':');
    if (at > 0) tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return { metric: match?.[1] ?? key, tags };
}

/**
 * The endpoint a sub-metric stands for: its route template (name or url tag), or `service:<name>`
 * for a service sub-metric. Sub-metrics on other tags (status, expected_response, …) are not an
 * endpoint and are skipped (undefined).
 */
export function endpointOfTags(tags: Record<string, string>): string | undefined {
  const keys = Object.keys(tags);
  if (keys.length === 0) return RUN_LEVEL;
  if (keys.some((k) => k !== 'name' && k !== 'url' && k !== 'service')) return undefined;
  const route = tags.name ?? tags.url;
  if (route !== undefined) return route === '' ? undefined : route;
  return tags.service ? `service:${tags.service}` : undefined;
}

const TIME_METRICS = new Set(['http_req_duration', 'browser_web_vital_fcp', 'browser_web_vital_lcp', 'browser_web_vital_inp', 'browser_web_vital_ttfb']);

const WEB_VITALS: Record<string, KpiName> = {
  browser_web_vital_fcp: 'web_vital_fcp_p95',
  browser_web_vital_lcp: 'web_vital_lcp_p95',
  browser_web_vital_cls: 'web_vital_cls_p95',
  browser_web_vital_inp: 'web_vital_inp_p95',
  browser_web_vital_ttfb: 'web_vital_ttfb_p95',
};

function finite(value: number | null | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The KPI values and run information of a k6 summary; throws BaselineStoreError on bad input. */
export function kpisFromK6Summary(json: unknown): SummaryKpis {
  const parsed = summarySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? formatPath(issue.path) || '(root)' : '(root)';
    const missingMetrics = issue?.path.length === 1 && issue.path[0] === 'metrics';
    const message = missingMetrics
      ? 'not a k6 summary: there is no "metrics" object (expected the JSON that handleSummary writes)'
      : `not a k6 summary: ${field}: ${issue?.message ?? 'invalid'}`;
    throw new BaselineStoreError('invalid-summary', field, message);
  }
  const summary = parsed.data;
  const metrics = summary.metrics;

  for (const name of REQUIRED_SUMMARY_METRICS) {
    if (!Object.hasOwn(metrics, name)) {
      throw new BaselineStoreError(
        'missing-metric',
        `metrics.${name}`,
        `k6 summary has no "${name}" metric; it is needed for the run-level KPIs (present: ${Object.keys(metrics).filter((k) => !k.includes('{')).sort().join(', ') || 'none'})`,
      );
    }
  }
  const need = (name: string, stat: string, fallback?: string): number => {
    const metric = metrics[name] as SummaryMetric;
    const value = finite(metric.values[stat]) ?? (fallback === undefined ? undefined : finite(metric.values[fallback]));
    if (value === undefined) {
      throw new BaselineStoreError(
        'missing-metric',
        `metrics.${name}.values.${stat}`,
        `k6 summary metric "${name}" has no ${stat} value (the scenario's summaryTrendStats must include p(50), p(95) and p(99))`,
      );
    }
    return value;
  };
  // Fail on the run level first, with the precise statistic missing.
  need('http_req_duration', 'p(50)', 'med');
  need('http_req_duration', 'p(95)');
  need('http_req_duration', 'p(99)');
  need('http_reqs', 'rate');
  need('http_req_failed', 'rate');

  const values: KpiValue[] = [];
  const seen = new Set<string>();
  const push = (kpi: KpiName, endpoint: string, value: number | undefined) => {
    if (value === undefined) return;
    const key = `${kpi}\u0000${endpoint}`;
    if (seen.has(key)) return; // {name:x} and {url:x} of the same route: the first wins
    seen.add(key);
    values.push({ kpi, endpoint, value });
  };

  const keys = Object.keys(metrics).sort((a, b) => {
    const aRun = a.includes('{') ? 1 : 0;
    const bRun = b.includes('{') ? 1 : 0;
    return aRun - bRun || a.localeCompare(b);
  });
  for (const key of keys) {
    const metric = metrics[key] as SummaryMetric;
    const { metric: name, tags } = parseKey(key);
    const endpoint = endpointOfTags(tags);
    if (endpoint === undefined) continue;
    const v = metric.values;
    const seconds = (x: number | undefined) =>
      x === undefined ? undefined : metric.contains === 'time' || (metric.contains === undefined && TIME_METRICS.has(name)) ? x / 1000 : x;
    const trendEmpty = metric.type === 'trend' && finite(v.count) === 0;
    const rateEmpty = metric.type === 'rate' && finite(v.passes) !== undefined && finite(v.fails) !== undefined && (v.passes ?? 0) + (v.fails ?? 0) === 0;

    if (name === 'http_req_duration' && metric.type === 'trend' && !trendEmpty) {
      push('latency_p50', endpoint, seconds(finite(v['p(50)']) ?? finite(v.med)));
      push('latency_p95', endpoint, seconds(finite(v['p(95)'])));
      push('latency_p99', endpoint, seconds(finite(v['p(99)'])));
    } else if (name === 'http_reqs' && metric.type === 'counter') {
      push('throughput', endpoint, finite(v.rate));
    } else if (name === 'http_req_failed' && metric.type === 'rate' && !rateEmpty) {
      push('error_rate', endpoint, finite(v.rate));
    } else if (name === 'checks' && metric.type === 'rate' && !rateEmpty) {
      push('checks_rate', endpoint, finite(v.rate));
    } else if (Object.hasOwn(WEB_VITALS, name) && metric.type === 'trend' && !trendEmpty) {
      const kpi = WEB_VITALS[name] as KpiName;
      // CLS is a unitless score; the other vitals are times.
      push(kpi, endpoint, name === 'browser_web_vital_cls' ? finite(v['p(95)']) : seconds(finite(v['p(95)'])));
    }
  }

  const info = summary.perfstack;
  const run: SummaryRunInfo = {};
  if (info?.scenario) run.scenario = info.scenario;
  if (info?.testid) run.testid = info.testid;
  if (info?.gitSha) run.gitSha = info.gitSha;
  if (info?.baseUrl) run.baseUrl = info.baseUrl;
  if (summary.state) run.durationMs = summary.state.testRunDurationMs;
  return { run, values };
}
