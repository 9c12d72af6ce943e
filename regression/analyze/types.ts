// What an analysis produces: sections (one per check), each with its findings or the measurements
// that showed nothing wrong, or the queries that returned no data.

import type { ExplainCapture } from './explain.js';
import type { ProfileLink } from './profile-link.js';

export type FindingSeverity = 'critical' | 'warning' | 'info';

export const SEVERITY_ORDER: Readonly<Record<FindingSeverity, number>> = { critical: 0, warning: 1, info: 2 };

/** One piece of evidence: a PromQL query and its value, or a SQL statement and what it showed. */
export type Evidence =
  | { kind: 'promql'; query: string; value: string }
  | { kind: 'sql'; statement: string; result: string }
  | { kind: 'note'; text: string };

export interface Finding {
  /** The check that raised it; a key of FINDING_CATALOGUE. */
  check: CheckId;
  severity: FindingSeverity;
  /** The catalogue title plus what it is about, e.g. "Sequential scans on a big table: public.big". */
  title: string;
  /** What it is about (a route, a pool, a table, a statement), if anything. */
  subject?: string;
  evidence: Evidence[];
  recommendation: string;
  /** How far past its limit (value / limit, ≥ 1), to order findings of one severity. */
  impact: number;
}

export type SectionStatus = 'finding' | 'ok' | 'not-measured';

export interface Section {
  check: CheckId;
  /** The catalogue's section name. */
  name: string;
  status: SectionStatus;
  findings: Finding[];
  /** What was measured, when nothing was found (so the reader knows it was checked). */
  measured: Evidence[];
  /** Queries that returned no data, or evidence that could not be gathered. */
  notMeasured: Evidence[];
}

export interface RouteTime {
  job: string;
  route: string;
  /** Config service the route belongs to, if any. */
  service?: string;
  requestsPerSecond: number;
  /** Requests served in the range (counter difference, not extrapolated). */
  requests?: number;
  /** Request time per second of wall time (rate of the _sum). */
  busySeconds: number;
  meanSeconds?: number;
  p95Seconds?: number;
  /** Share of all request time in the range. */
  share: number;
}

export interface AnalysisReport {
  prometheusUrl: string;
  start: string;
  end: string;
  rangeSeconds: number;
  testid?: string;
  generatedAt: string;
  /** Whether direct database evidence was gathered (databaseUrl given and reachable). */
  database: 'connected' | 'not given' | `unavailable: ${string}`;
  /** Where the request time goes, per route, most time first. */
  routes: RouteTime[];
  /** Everything found, most severe and largest impact first. */
  findings: Finding[];
  sections: Section[];
  /** --profile: the CPU profile, linked when the service was CPU-bound. */
  profile?: ProfileLink;
  /** --explain: plans of the slowest SELECT statements. */
  explains?: ExplainCapture[];
}

export const CHECK_IDS = [
  'latency-sla',
  'db-share',
  'pool-wait',
  'slow-statements',
  'seq-scan',
  'cache-hit',
  'n-plus-one',
  'cpu',
  'errors',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface CatalogueEntry {
  /** Section heading in the report. */
  section: string;
  /** Finding title; the heading of its playbook entry in docs/performance_optimization_guide.md. */
  title: string;
  /** What the check looks at, one line. */
  looksAt: string;
}

/** The finding catalogue: one entry per check. The playbook has a heading per title. */
export const FINDING_CATALOGUE: Readonly<Record<CheckId, CatalogueEntry>> = {
  'latency-sla': {
    section: 'Latency against the SLA',
    title: 'Latency above the SLA',
    looksAt: 'p50/p95/p99 request duration per service against its latency SLA',
  },
  'db-share': {
    section: 'Database share of request time',
    title: 'Database time dominates request time',
    looksAt: 'rate of db_client_operation_duration_seconds_sum against rate of http_server_request_duration_seconds_sum, per job',
  },
  'pool-wait': {
    section: 'Connection pool',
    title: 'Requests wait for a pool connection',
    looksAt: 'p95 connection wait, pending requests, pool utilisation against database.poolUtilisation, connection timeouts',
  },
  'slow-statements': {
    section: 'Slow statements',
    title: 'Slow or dominant statement',
    looksAt: 'top pg_stat_statements_seconds_total by increase, mean time per call, pg_stat_statements_slow_statements',
  },
  'seq-scan': {
    section: 'Sequential scans',
    title: 'Sequential scans on a big table',
    looksAt: 'pg_stat_user_tables_seq_scan increase per table, with the table size',
  },
  'cache-hit': {
    section: 'Buffer cache',
    title: 'Buffer cache hit ratio below target',
    looksAt: 'blks_hit / (blks_hit + blks_read) over the range against database.cacheHit',
  },
  'n-plus-one': {
    section: 'Database operations per request',
    title: 'N+1 query pattern',
    looksAt: 'database operations per HTTP request, per job',
  },
  cpu: {
    section: 'CPU',
    title: 'CPU saturation',
    looksAt: 'host CPU busy against host.cpu, service process CPU, event-loop lag p99',
  },
  errors: {
    section: 'Errors',
    title: 'Requests or database operations fail',
    looksAt: '5xx ratio per route against the service error-rate SLA, database errors by error_type',
  },
};

/** The heading anchor GitHub gives a playbook title. */
export function playbookAnchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 +-]/g, '')
    .replace(/\+/g, '')
    .replace(/ /g, '-');
}

export const PLAYBOOK_PATH = 'docs/performance_optimization_guide.md';
