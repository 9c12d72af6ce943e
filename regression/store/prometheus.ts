// KPIs of a finished k6 run read back from Prometheus: the k6 remote-write series of its testid
// (k6_http_req_duration_p95 & co, k6_http_reqs_total, k6_http_req_failed_rate, k6_checks_rate,
// k6_browser_web_vital_*), and the service side over the run's time range (database operation and
// pool wait histograms, the HTTP server histogram as a stored distribution).
//
// k6's remote-write output keeps one aggregate per label set (testid, name, method, status, …) and
// every push sends its value over the whole run so far, so the last sample before the stale marker
// is that label set's whole-run value. Quantiles of several label sets (one route with several
// statuses, or the whole run) cannot be added; they are combined by mixing the label sets'
// distributions, each approximated piecewise-linearly through min, p50, p90, p95, p99 and max and
// weighted by its request count. With one label set the result is exactly its own quantile.

import { RUN_LEVEL, type KpiName, type KpiValue } from '../kpi.js';
import { BaselineStoreError } from './errors.js';
import type { HistogramBucket, StoredDistribution } from './types.js';

export interface PrometheusKpiOptions {
  /** http://127.0.0.1:9090 */
  prometheusUrl: string;
  testid: string;
  /** The run's time range (k6 start and end). Throughput is requests / (end - start). */
  start: Date;
  end: Date;
  /**
   * Label matchers that pick the service under test's series, e.g. `job="app"`. Default: none
   * (every db_client_* and http_server_* series in Prometheus counts).
   */
  serviceSelector?: string;
  /** Extra seconds after `end` in which k6's last push may land. Default 15. */
  graceSeconds?: number;
  /** Per-request timeout. Default 15 s. */
  timeoutMs?: number;
}

export interface PrometheusKpis {
  values: KpiValue[];
  distributions: StoredDistribution[];
  /** The git_sha label of the k6 series, when they agree on one. */
  gitSha?: string;
  /** How many k6 series of the testid were read. */
  seriesCount: number;
}

type Labels = Record<string, string>;
interface MatrixSeries {
  metric: Labels;
  values: Array<[number, string]>;
}
interface VectorSeries {
  metric: Labels;
  value: [number, string];
}

const K6_NAMES =
  'k6_http_req_duration_(p50|p90|p95|p99|min|max|count)|k6_http_reqs_total|k6_http_req_failed_rate|k6_checks_rate|k6_browser_web_vital_(fcp|lcp|cls|inp|ttfb)_(p50|p90|p95|p99|min|max|count)';

/** A PromQL string literal. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

async function query<T>(options: PrometheusKpiOptions, promql: string, time: Date): Promise<T[]> {
  const base = options.prometheusUrl.replace(/\/+$/, '');
  const url = `${base}/api/v1/query?${new URLSearchParams({ query: promql, time: (time.getTime() / 1000).toFixed(3) })}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
  } catch (error) {
    throw new BaselineStoreError('prometheus-error', 'prometheusUrl', `Prometheus at ${base} did not answer: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  let body: { status?: string; error?: string; data?: { result?: T[] } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new BaselineStoreError('prometheus-error', 'prometheusUrl', `Prometheus at ${base} answered HTTP ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok || body.status !== 'success') {
    throw new BaselineStoreError('prometheus-error', 'prometheusUrl', `Prometheus rejected ${promql}: HTTP ${response.status} ${body.error ?? text.slice(0, 200)}`);
  }
  return body.data?.result ?? [];
}

function signature(labels: Labels): string {
  return Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

/** One label set's distribution: its quantile knots and its weight. */
export interface QuantileKnots {
  /** [probability, value] pairs, e.g. [0, min], [0.5, p50], [0.95, p95], [1, max]. */
  knots: Array<[number, number]>;
  weight: number;
}

function componentCdf(knots: Array<[number, number]>, x: number): number {
  const first = knots[0];
  const last = knots[knots.length - 1];
  if (!first || !last) return 0;
  if (x < first[1]) return 0;
  if (x >= last[1]) return last[0] === 1 ? 1 : x > last[1] ? 1 : last[0];
  // The last knot at or below x (right-continuous), then linear up to the next one.
  let k = 0;
  while (k + 1 < knots.length && (knots[k + 1] as [number, number])[1] <= x) k++;
  const [p0, x0] = knots[k] as [number, number];
  const next = knots[k + 1];
  if (!next) return p0;
  const [p1, x1] = next;
  return x1 === x0 ? p0 : p0 + ((x - x0) / (x1 - x0)) * (p1 - p0);
}

/**
 * The q-quantile of a weighted mixture of distributions given by quantile knots: the smallest x
 * whose mixed CDF reaches q (bisection to 1e-12 of the value range).
 */
export function mixtureQuantile(components: QuantileKnots[], q: number): number | undefined {
  const usable = components
    .filter((c) => c.weight > 0 && c.knots.length > 0)
    .map((c) => {
      const knots = [...c.knots].sort((a, b) => a[0] - b[0]);
      // Keep values non-decreasing in probability (aggregates computed at slightly different moments can cross).
      let floor = -Infinity;
      const monotone = knots.map(([p, x]): [number, number] => {
        floor = Math.max(floor, x);
        return [p, floor];
      });
      return { knots: monotone, weight: c.weight };
    });
  if (usable.length === 0) return undefined;
  if (usable.length === 1) {
    const exact = (usable[0] as QuantileKnots).knots.find(([p]) => p === q);
    if (exact) return exact[1];
  }
  const total = usable.reduce((sum, c) => sum + c.weight, 0);
  const cdf = (x: number) => usable.reduce((sum, c) => sum + c.weight * componentCdf(c.knots, x), 0) / total;
  let lo = Math.min(...usable.map((c) => (c.knots[0] as [number, number])[1]));
  let hi = Math.max(...usable.map((c) => (c.knots[c.knots.length - 1] as [number, number])[1]));
  if (cdf(lo) >= q) return lo;
  const epsilon = Math.max(Math.abs(hi - lo) * 1e-12, 1e-15);
  for (let i = 0; i < 200 && hi - lo > epsilon; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) >= q) hi = mid;
    else lo = mid;
  }
  return hi;
}

const STAT_PROBABILITY: Record<string, number> = { min: 0, p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, max: 1 };

interface TrendSeries {
  labels: Labels;
  stats: Record<string, number>;
}

/** Groups k6 trend-stat series (k6_<metric>_<stat>) into one entry per label set. */
function trends(series: Array<{ name: string; labels: Labels; last: number }>, metric: string): TrendSeries[] {
  const bySignature = new Map<string, TrendSeries>();
  for (const s of series) {
    if (!s.name.startsWith(`${metric}_`)) continue;
    const stat = s.name.slice(metric.length + 1);
    const key = signature(s.labels);
    let entry = bySignature.get(key);
    if (!entry) {
      const { __name__: _, ...labels } = s.labels;
      entry = { labels, stats: {} };
      bySignature.set(key, entry);
    }
    entry.stats[stat] = s.last;
  }
  return [...bySignature.values()];
}

function knotsOf(t: TrendSeries, weight: number): QuantileKnots {
  const knots: Array<[number, number]> = [];
  for (const [stat, p] of Object.entries(STAT_PROBABILITY)) {
    const value = t.stats[stat];
    if (value !== undefined && Number.isFinite(value)) knots.push([p, value]);
  }
  return { knots, weight };
}

/** Endpoint keys of a k6 series: the run level, its route (name tag) and its service. */
function endpointsOf(labels: Labels): string[] {
  const out = [RUN_LEVEL];
  const route = labels.name ?? labels.url;
  if (route) out.push(route);
  if (labels.service) out.push(`service:${labels.service}`);
  return out;
}

function groupBy<T>(items: T[], keys: (item: T) => string[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    for (const key of keys(item)) {
      const list = groups.get(key);
      if (list) list.push(item);
      else groups.set(key, [item]);
    }
  }
  return groups;
}

/** Cumulative Prometheus buckets (le → count) → per-bucket counts in bound order. */
function histogramFrom(series: VectorSeries[]): HistogramBucket[] | undefined {
  const points = series
    .map((s) => ({ le: s.metric.le === '+Inf' ? Infinity : Number(s.metric.le), count: Number(s.value[1]) }))
    .filter((p) => !Number.isNaN(p.le) && Number.isFinite(p.count))
    .sort((a, b) => a.le - b.le);
  if (points.length === 0) return undefined;
  const total = points[points.length - 1]?.count ?? 0;
  if (!(total > 0)) return undefined;
  let previous = 0;
  return points.map((p) => {
    const count = Math.max(0, p.count - previous);
    previous = Math.max(previous, p.count);
    return { le: p.le, count };
  });
}

/** Reads the KPIs of one run; throws BaselineStoreError('no-k6-data') when the testid has no k6 series there. */
/** Mean of each series' last value, weighted by its requests; undefined when nothing weighs. */
function weightedMean<T extends { last: number }>(list: readonly T[], weightOf: (series: T) => number): number | undefined {
  let weighted = 0;
  let total = 0;
  for (const series of list) {
    const weight = weightOf(series);
    weighted += series.last * weight;
    total += weight;
  }
  return total > 0 ? weighted / total : undefined;
}

export async function kpisFromPrometheus(options: PrometheusKpiOptions): Promise<PrometheusKpis> {
  const { start, end, testid } = options;
  const runSeconds = (end.getTime() - start.getTime()) / 1000;
  const grace = options.graceSeconds ?? 15;
  const k6Window = Math.max(1, Math.ceil(runSeconds + grace));
  const k6Time = new Date(end.getTime() + grace * 1000);

  // Raw samples (a range selector): stale markers are not returned, so the last one is the final value.
  const raw = await query<MatrixSeries>(options, `{__name__=~${quote(K6_NAMES)},testid=${quote(testid)}}[${k6Window}s]`, k6Time);
  const series = raw
    .map((s) => {
      const last = s.values[s.values.length - 1];
      return { name: s.metric.__name__ ?? '', labels: s.metric, last: last ? Number(last[1]) : NaN };
    })
    .filter((s) => Number.isFinite(s.last));
  if (!series.some((s) => s.name.startsWith('k6_http_'))) {
    throw new BaselineStoreError(
      'no-k6-data',
      'testid',
      `Prometheus has no k6 series for testid "${testid}" between ${start.toISOString()} and ${end.toISOString()} (looked for k6_http_reqs_total, k6_http_req_duration_*, k6_http_req_failed_rate; was the run started with --out experimental-prometheus-rw and --tag testid=${testid}?)`,
    );
  }

  const values: KpiValue[] = [];
  const push = (kpi: KpiName, endpoint: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) values.push({ kpi, endpoint, value });
  };

  // Requests per label set: the weight of that label set's quantiles and rates.
  const requests = new Map<string, number>();
  for (const s of series) if (s.name === 'k6_http_reqs_total') requests.set(signature(s.labels), s.last);

  const durations = trends(series, 'k6_http_req_duration');
  const weightOf = (t: TrendSeries) => t.stats.count ?? requests.get(signature(t.labels)) ?? 1;
  const byEndpoint = groupBy(durations, (t) => endpointsOf(t.labels));
  for (const endpoint of [...byEndpoint.keys()].sort()) {
    const components = (byEndpoint.get(endpoint) ?? []).map((t) => knotsOf(t, weightOf(t)));
    push('latency_p50', endpoint, mixtureQuantile(components, 0.5));
    push('latency_p95', endpoint, mixtureQuantile(components, 0.95));
    push('latency_p99', endpoint, mixtureQuantile(components, 0.99));
  }

  const reqSeries = series.filter((s) => s.name === 'k6_http_reqs_total');
  if (runSeconds > 0) {
    for (const [endpoint, list] of [...groupBy(reqSeries, (s) => endpointsOf(s.labels))].sort(([a], [b]) => a.localeCompare(b))) {
      push('throughput', endpoint, list.reduce((sum, s) => sum + s.last, 0) / runSeconds);
    }
  }

  const failed = series.filter((s) => s.name === 'k6_http_req_failed_rate');
  for (const [endpoint, list] of [...groupBy(failed, (s) => endpointsOf(s.labels))].sort(([a], [b]) => a.localeCompare(b))) {
    const rate = weightedMean(list, (s) => requests.get(signature(s.labels)) ?? 1);
    if (rate !== undefined) push('error_rate', endpoint, rate);
  }

  // checks_rate has no count series; weight each check by the requests of its route, scenario and group.
  const checks = series.filter((s) => s.name === 'k6_checks_rate');
  if (checks.length > 0) {
    const routeKey = (l: Labels) => [l.name ?? '', l.scenario ?? '', l.group ?? ''].join('\u0000');
    const routeRequests = new Map<string, number>();
    for (const s of reqSeries) routeRequests.set(routeKey(s.labels), (routeRequests.get(routeKey(s.labels)) ?? 0) + s.last);
    const rate = weightedMean(checks, (s) => routeRequests.get(routeKey(s.labels)) ?? 1);
    if (rate !== undefined) push('checks_rate', RUN_LEVEL, rate);
  }

  const vitals: Array<[string, KpiName]> = [
    ['k6_browser_web_vital_fcp', 'web_vital_fcp_p95'],
    ['k6_browser_web_vital_lcp', 'web_vital_lcp_p95'],
    ['k6_browser_web_vital_cls', 'web_vital_cls_p95'],
    ['k6_browser_web_vital_inp', 'web_vital_inp_p95'],
    ['k6_browser_web_vital_ttfb', 'web_vital_ttfb_p95'],
  ];
  for (const [metric, kpi] of vitals) {
    const list = trends(series, metric);
    if (list.length > 0) push(kpi, RUN_LEVEL, mixtureQuantile(list.map((t) => knotsOf(t, t.stats.count ?? 1)), 0.95));
  }

  // The service side over the run's range (not tagged with the testid: whatever ran then counts).
  const distributions: StoredDistribution[] = [];
  const serviceWindow = Math.max(1, Math.round(runSeconds));
  const selector = (metric: string) => `${metric}{${options.serviceSelector ?? ''}}[${serviceWindow}s]`;
  const serviceHistogram = async (metric: string, by: string[]): Promise<Map<string, HistogramBucket[]>> => {
    const result = await query<VectorSeries>(options, `sum by (${['le', ...by].join(', ')}) (increase(${selector(`${metric}_bucket`)}))`, end);
    const groups = new Map<string, VectorSeries[]>();
    for (const s of result) {
      const key = by.map((l) => s.metric[l] ?? '').join('\u0000');
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    const out = new Map<string, HistogramBucket[]>();
    for (const [key, list] of groups) {
      const buckets = histogramFrom(list);
      if (buckets) out.set(key, buckets);
    }
    return out;
  };
  const quantile = async (metric: string, q: number) => {
    const result = await query<VectorSeries>(options, `histogram_quantile(${q}, sum by (le) (increase(${selector(`${metric}_bucket`)})))`, end);
    const value = result[0] ? Number(result[0].value[1]) : NaN;
    return Number.isFinite(value) ? value : undefined;
  };

  push('db_query_p95', RUN_LEVEL, await quantile('db_client_operation_duration_seconds', 0.95));
  push('pool_wait_p95', RUN_LEVEL, await quantile('db_client_connection_wait_time_seconds', 0.95));
  for (const [metric, kpi] of [
    ['db_client_operation_duration_seconds', 'db_query_p95'],
    ['db_client_connection_wait_time_seconds', 'pool_wait_p95'],
  ] as const) {
    const buckets = (await serviceHistogram(metric, [])).get('');
    if (buckets) distributions.push({ kind: 'histogram', kpi, endpoint: RUN_LEVEL, buckets });
  }
  // The service's own latency histogram, overall and per route, behind each latency KPI.
  const httpOverall = (await serviceHistogram('http_server_request_duration_seconds', [])).get('');
  const httpByRoute = await serviceHistogram('http_server_request_duration_seconds', ['http_route']);
  const latencyKpis: KpiName[] = ['latency_p50', 'latency_p95', 'latency_p99'];
  const httpHistograms: Array<[string, HistogramBucket[]]> = [
    ...(httpOverall ? ([[RUN_LEVEL, httpOverall]] as Array<[string, HistogramBucket[]]>) : []),
    ...[...httpByRoute].filter(([route]) => route !== '').sort(([a], [b]) => a.localeCompare(b)),
  ];
  for (const [endpoint, buckets] of httpHistograms) {
    for (const kpi of latencyKpis) distributions.push({ kind: 'histogram', kpi, endpoint, buckets });
  }

  const shas = new Set(series.map((s) => s.labels.git_sha).filter((s): s is string => !!s));
  const result: PrometheusKpis = { values, distributions, seriesCount: series.length };
  if (shas.size === 1) result.gitSha = [...shas][0] as string;
  return result;
}
