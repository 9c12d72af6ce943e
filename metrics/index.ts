// The metric contract: every name that dashboards, rules and exporters share.
// Import from here instead of retyping strings (see DESIGN.md, "Metric contract").

/** Prometheus scrape jobs of the infrastructure exporters (service jobs come from the config); rules select on them. */
export const INFRASTRUCTURE_JOBS = {
  pgStats: 'pg-stats',
  nodeExporter: 'node',
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
  /** redis_exporter in front of the read cache's Redis server. */
  redis: 'redis',
} as const;

/** Histogram buckets of the HTTP server duration, in seconds (Prometheus defaults). */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Histogram buckets of database operation durations, in seconds. */
export const DB_OPERATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] as const;

/** HTTP server RED metrics (OTel http.server.request.duration). */
export const http = {
  requestDuration: 'http_server_request_duration_seconds',
  activeRequests: 'http_server_active_requests',
  labels: {
    service: 'service',
    method: 'http_request_method',
    route: 'http_route',
    statusCode: 'http_response_status_code',
  },
} as const;

/** Database client metrics from pg-pool instrumentation (OTel db.client.*). */
export const dbClient = {
  operationDuration: 'db_client_operation_duration_seconds',
  connectionCount: 'db_client_connection_count',
  connectionMax: 'db_client_connection_max',
  connectionIdleMin: 'db_client_connection_idle_min',
  pendingRequests: 'db_client_connection_pending_requests',
  timeouts: 'db_client_connection_timeouts_total',
  waitTime: 'db_client_connection_wait_time_seconds',
  useTime: 'db_client_connection_use_time_seconds',
  createTime: 'db_client_connection_create_time_seconds',
  transactions: 'db_client_transactions_total',
  labels: {
    system: 'db_system_name',
    pool: 'db_client_connection_pool_name',
    state: 'db_client_connection_state',
    operation: 'db_operation_name',
    querySummary: 'db_query_summary',
    errorType: 'error_type',
    outcome: 'outcome',
  },
  /** The db_query_summary value that absorbs statements past the cardinality cap. */
  overflowSummary: 'other',
} as const;

/** PostgreSQL server statistics (pg-stats exporter; postgres_exporter names where they overlap). */
export const pgServer = {
  up: 'pg_up',
  xactCommit: 'pg_stat_database_xact_commit',
  xactRollback: 'pg_stat_database_xact_rollback',
  blksHit: 'pg_stat_database_blks_hit',
  blksRead: 'pg_stat_database_blks_read',
  deadlocks: 'pg_stat_database_deadlocks',
  tempBytes: 'pg_stat_database_temp_bytes',
  statementCalls: 'pg_stat_statements_calls_total',
  statementSeconds: 'pg_stat_statements_seconds_total',
  statementRows: 'pg_stat_statements_rows_total',
  activityCount: 'pg_stat_activity_count',
  locksCount: 'pg_locks_count',
  seqScan: 'pg_stat_user_tables_seq_scan',
  idxScan: 'pg_stat_user_tables_idx_scan',
  databaseSize: 'pg_database_size_bytes',
  // Additions under the same prefix (not in postgres_exporter).
  indexUsageRatio: 'pg_stat_user_tables_index_usage_ratio',
  cacheHitRatio: 'pg_stat_database_cache_hit_ratio',
  slowStatements: 'pg_stat_statements_slow_statements',
  longestTransactionSeconds: 'pg_stat_activity_max_tx_duration_seconds',
  longestQuerySeconds: 'pg_stat_activity_max_query_duration_seconds',
  collectorDuration: 'pg_exporter_collector_duration_seconds',
  collectorSuccess: 'pg_exporter_collector_success',
} as const;

/** k6 metrics as written by the experimental-prometheus-rw output. */
export const k6 = {
  httpReqs: 'k6_http_reqs_total',
  httpReqFailedRate: 'k6_http_req_failed_rate',
  httpReqDurationPrefix: 'k6_http_req_duration',
  vus: 'k6_vus',
  vusMax: 'k6_vus_max',
  checksRate: 'k6_checks_rate',
  iterations: 'k6_iterations_total',
  droppedIterations: 'k6_dropped_iterations_total',
  dataSent: 'k6_data_sent_total',
  dataReceived: 'k6_data_received_total',
  labels: { testid: 'testid', scenario: 'scenario', url: 'url', name: 'name' },
} as const;

/** Trend statistics requested through K6_PROMETHEUS_RW_TREND_STATS. */
export const K6_TREND_STATS = ['p(50)', 'p(90)', 'p(95)', 'p(99)', 'avg', 'min', 'max', 'count'] as const;

/** node_exporter metrics used by the host dashboard and alerts. */
export const node = {
  cpuSeconds: 'node_cpu_seconds_total',
  memAvailable: 'node_memory_MemAvailable_bytes',
  memTotal: 'node_memory_MemTotal_bytes',
  fsAvail: 'node_filesystem_avail_bytes',
  fsSize: 'node_filesystem_size_bytes',
  netReceive: 'node_network_receive_bytes_total',
  netTransmit: 'node_network_transmit_bytes_total',
  diskReadBytes: 'node_disk_read_bytes_total',
  diskWrittenBytes: 'node_disk_written_bytes_total',
} as const;

/** Matcher that keeps real filesystems: pseudo and overlay ones are always full or meaningless for capacity. */
export const REAL_FILESYSTEM_MATCHER = 'fstype!~"tmpfs|devtmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs|autofs"';

/** prom-client default Node.js process metrics. */
export const nodejs = {
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  heapUsed: 'nodejs_heap_size_used_bytes',
  heapTotal: 'nodejs_heap_size_total_bytes',
  gcDuration: 'nodejs_gc_duration_seconds',
  residentMemory: 'process_resident_memory_bytes',
  cpuSeconds: 'process_cpu_seconds_total',
} as const;

/** Regression verdicts published by the regression detector. */
export const regression = {
  /** 1 when the KPI of the run regressed against its baseline, else 0. */
  detected: 'perfstack_regression_detected',
  candidateValue: 'perfstack_regression_candidate_value',
  baselineValue: 'perfstack_regression_baseline_value',
  relativeChange: 'perfstack_regression_relative_change',
  /** Unix time of the comparison: lets dashboards show when a verdict was made. */
  comparedAt: 'perfstack_regression_compared_timestamp_seconds',
  labels: {
    scenario: 'scenario',
    kpi: 'kpi',
    endpoint: 'endpoint',
    testid: 'testid',
    baseline: 'baseline',
    /** The candidate run's git branch: the alert pages only for the configured baseline branch. */
    branch: 'branch',
    /** The statistic the verdict judged (p50, p95, p99, mean, rate). */
    statistic: 'statistic',
  },
} as const;

/** The blackbox exporter's probe metrics: availability as clients see it. */
export const probe = {
  success: 'probe_success',
  duration: 'probe_duration_seconds',
  httpStatus: 'probe_http_status_code',
} as const;

/**
 * The Redis server itself, from redis_exporter (oliver006/redis_exporter, Debian's
 * prometheus-redis-exporter 1.45): its names, so dashboards and rules work against any deployment of it.
 */
export const redisServer = {
  /** Gauge: 1 when the exporter's last scrape reached Redis, else 0. */
  up: 'redis_up',
  /** Gauge: bytes Redis has allocated (INFO used_memory). */
  memoryUsed: 'redis_memory_used_bytes',
  /** Gauge: the maxmemory setting; 0 means no limit. */
  memoryMax: 'redis_memory_max_bytes',
  connectedClients: 'redis_connected_clients',
  /** Gauge: clients waiting in a blocking call (BLPOP and friends). */
  blockedClients: 'redis_blocked_clients',
  /** Counter: connections refused because maxclients was reached. */
  rejectedConnections: 'redis_rejected_connections_total',
  /** Counter: keys removed to stay under maxmemory (the maxmemory-policy). */
  evictedKeys: 'redis_evicted_keys_total',
  /** Counter: keys removed because their TTL passed. */
  expiredKeys: 'redis_expired_keys_total',
  keyspaceHits: 'redis_keyspace_hits_total',
  keyspaceMisses: 'redis_keyspace_misses_total',
  commandsProcessed: 'redis_commands_processed_total',
} as const;

/** Histogram buckets of cache (Redis) operations, in seconds: a loopback round trip is well under 1 ms. */
export const CACHE_OPERATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

/** The reference service's read cache in Redis (app/cache). */
export const cache = {
  /** Counter {cache, result="hit"|"miss"}: one per cached read; a Redis error counts as a miss. */
  requests: 'cache_requests_total',
  /** Histogram {cache, operation="get"|"set"|"invalidate", result="hit"|"miss"|"ok"|"error"}. */
  operationDuration: 'cache_operation_duration_seconds',
  /** Counter {cache, operation, error_type="timeout"|"unavailable"|"other"}. */
  errors: 'cache_errors_total',
  /** Gauge: 1 while the Redis connection is ready, else 0 (only when caching is on). */
  up: 'cache_up',
  /** Histogram {cache_result="hit"|"miss"|"bypass"} of GET /api/search: the search SLA's cached/uncached split. */
  searchDuration: 'app_search_duration_seconds',
  labels: { cache: 'cache', result: 'result', operation: 'operation', errorType: 'error_type', cacheResult: 'cache_result' },
} as const;

/** Real-user monitoring: the Web Vitals of real page loads, beaconed by the page to the service (app/rum/). */
export const rum = {
  /** Histograms in seconds (web-vitals reports milliseconds; the service converts). */
  lcp: 'rum_web_vital_lcp_seconds',
  fcp: 'rum_web_vital_fcp_seconds',
  inp: 'rum_web_vital_inp_seconds',
  ttfb: 'rum_web_vital_ttfb_seconds',
  /** Cumulative Layout Shift: unitless. */
  cls: 'rum_web_vital_cls',
  /** Beacons answered 400, by a bounded reason. */
  beaconsRejected: 'rum_beacons_rejected_total',
  /** Bytes of JavaScript a page template loads, measured from the files the service serves. */
  javascriptBytes: 'frontend_javascript_bytes',
  labels: { page: 'page', reason: 'reason' },
  /** The page label of beacons from a page template the service does not know. */
  otherPage: 'other',
} as const;

/**
 * Default buckets of the RUM histograms (seconds; CLS unitless), dense around web.dev's "good" and
 * "poor" limits. The service adds the configured target of each vital (withTarget), so a p75 at the
 * target is exact rather than interpolated.
 */
export const RUM_BUCKETS = {
  lcp: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20],
  fcp: [0.25, 0.5, 1, 1.5, 1.8, 2, 2.5, 3, 4, 6, 10],
  inp: [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
  ttfb: [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.8, 3, 5, 10],
  cls: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
} as const;

/** `buckets` with `target` added, sorted, without repeats. */
export function withTarget(buckets: readonly number[], target: number): number[] {
  return [...new Set([...buckets, target])].sort((a, b) => a - b);
}

/** k6 browser Web Vitals (synthetic), as the remote-write output names them: `${prefix}_${vital}_${stat}`, seconds except CLS. */
export const k6Browser = {
  webVitalPrefix: 'k6_browser_web_vital',
  javascriptBytes: 'k6_js_bundle_bytes',
} as const;

/** Recording-rule names, level:metric:operations. */
export const recorded = {
  requestRate: 'service:http_server_requests:rate5m',
  errorRatio: 'service:http_server_request_errors:ratio_rate5m',
  latencyQuantile: (q: 'p50' | 'p95' | 'p99') => `service:http_server_request_duration_seconds:${q}_rate5m`,
  sloErrorRatio: (window: string) => `slo:sli_error:ratio_rate${window}`,
  poolUtilisation: 'pool:db_client_connection_utilisation:ratio',
  dbAverageQuery: 'pool:db_client_operation_duration_seconds:avg_rate5m',
  indexUsage: 'database:pg_stat_user_tables_index_usage:ratio_rate1h',
  cacheHit: 'database:pg_stat_database_blks_hit:ratio_rate10m',
} as const;

export { checkPromql, metricNames, substituteGrafanaVariables } from './promql.js';
export type { PromqlProblem } from './promql.js';
