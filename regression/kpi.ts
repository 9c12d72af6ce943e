// The KPI model every part of the regression room shares: what a run is, which KPIs it has,
// and which direction is better for each.

export type Direction = 'lower-is-better' | 'higher-is-better';
export type KpiUnit = 'seconds' | 'ratio' | 'per-second' | 'bytes' | 'count';
/**
 * The statistic a KPI names, and so the one its verdict compares: a quantile of the requests
 * (p50, p95, p99), their mean, or a rate (requests per second, a failure or pass ratio).
 */
export type KpiStatistic = 'p50' | 'p95' | 'p99' | 'mean' | 'rate';

export interface KpiDefinition {
  /** Stable key, also the key of config.regression.kpis overrides. */
  name: string;
  label: string;
  unit: KpiUnit;
  direction: Direction;
  statistic: KpiStatistic;
}

/** Every KPI perfstack stores. Endpoint-level KPIs carry an endpoint (the route template). */
export const KPIS = {
  latency_p50: { name: 'latency_p50', label: 'p50 latency', unit: 'seconds', direction: 'lower-is-better', statistic: 'p50' },
  latency_p95: { name: 'latency_p95', label: 'p95 latency', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  latency_p99: { name: 'latency_p99', label: 'p99 latency', unit: 'seconds', direction: 'lower-is-better', statistic: 'p99' },
  throughput: { name: 'throughput', label: 'throughput', unit: 'per-second', direction: 'higher-is-better', statistic: 'rate' },
  error_rate: { name: 'error_rate', label: 'error rate', unit: 'ratio', direction: 'lower-is-better', statistic: 'rate' },
  checks_rate: { name: 'checks_rate', label: 'checks passed', unit: 'ratio', direction: 'higher-is-better', statistic: 'rate' },
  db_query_p95: { name: 'db_query_p95', label: 'DB query p95', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  pool_wait_p95: { name: 'pool_wait_p95', label: 'pool wait p95', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  web_vital_fcp_p95: { name: 'web_vital_fcp_p95', label: 'FCP p95', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  web_vital_lcp_p95: { name: 'web_vital_lcp_p95', label: 'LCP p95', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  web_vital_cls_p95: { name: 'web_vital_cls_p95', label: 'CLS p95', unit: 'count', direction: 'lower-is-better', statistic: 'p95' },
  web_vital_inp_p95: { name: 'web_vital_inp_p95', label: 'INP p95', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  web_vital_ttfb_p95: { name: 'web_vital_ttfb_p95', label: 'TTFB p95', unit: 'seconds', direction: 'lower-is-better', statistic: 'p95' },
  // `perfstack audit` (Lighthouse, lab data): the median over the audit's runs.
  lighthouse_fcp: { name: 'lighthouse_fcp', label: 'Lighthouse FCP', unit: 'seconds', direction: 'lower-is-better', statistic: 'p50' },
  lighthouse_lcp: { name: 'lighthouse_lcp', label: 'Lighthouse LCP', unit: 'seconds', direction: 'lower-is-better', statistic: 'p50' },
  lighthouse_tbt: { name: 'lighthouse_tbt', label: 'Lighthouse TBT', unit: 'seconds', direction: 'lower-is-better', statistic: 'p50' },
  lighthouse_cls: { name: 'lighthouse_cls', label: 'Lighthouse CLS', unit: 'count', direction: 'lower-is-better', statistic: 'p50' },
  lighthouse_speed_index: { name: 'lighthouse_speed_index', label: 'Lighthouse Speed Index', unit: 'seconds', direction: 'lower-is-better', statistic: 'p50' },
  lighthouse_javascript_bytes: { name: 'lighthouse_javascript_bytes', label: 'JavaScript bytes', unit: 'bytes', direction: 'lower-is-better', statistic: 'p50' },
  lighthouse_performance_score: { name: 'lighthouse_performance_score', label: 'Lighthouse performance score', unit: 'ratio', direction: 'higher-is-better', statistic: 'p50' },
} as const satisfies Record<string, KpiDefinition>;

export type KpiName = keyof typeof KPIS;

export function isKpiName(name: string): name is KpiName {
  return Object.hasOwn(KPIS, name);
}

/** Run-level KPIs use this endpoint value. */
export const RUN_LEVEL = '';

/** What is known about a run besides its KPI values. */
export interface RunMetadata {
  testid: string;
  scenario: string;
  gitSha: string;
  branch: string;
  startedAt: Date;
  endedAt: Date;
  /** Where it ran, e.g. "ci-2core" or a hostname. */
  environment: string;
  k6Version: string;
}

export interface KpiValue {
  kpi: KpiName;
  /** The route template for endpoint-level KPIs, RUN_LEVEL otherwise. */
  endpoint: string;
  value: number;
}

/** Per-request samples (seconds) of one endpoint in one run, when available. */
export interface KpiSamples {
  kpi: KpiName;
  endpoint: string;
  samples: number[];
}

/** `insufficient data`: too little to judge (the comparison says what is missing), never a guess. */
export type Verdict = 'improved' | 'unchanged' | 'regressed' | 'insufficient data';
