// The baseline store: k6 runs and their KPI values in PostgreSQL, imported from a k6 JSON summary
// or from Prometheus, plus pinned baselines and KPI history for the regression detector.

export { openBaselineStore } from './store.js';
export type { BaselineStore, ImportMetadata, ImportK6SummaryOptions, ImportFromPrometheusOptions, KpiHistoryOptions } from './store.js';
export { BaselineStoreError } from './errors.js';
export type { BaselineStoreErrorReason } from './errors.js';
export { parseSummaryText, kpisFromK6Summary, endpointOfTags, REQUIRED_SUMMARY_METRICS } from './k6-summary.js';
export type { SummaryKpis, SummaryRunInfo } from './k6-summary.js';
export { kpisFromPrometheus, mixtureQuantile } from './prometheus.js';
export type { PrometheusKpiOptions, PrometheusKpis, QuantileKnots } from './prometheus.js';
export { migrateStore, loadStoreMigrations, REGRESSION_MIGRATIONS_DIR, MIGRATIONS_TABLE } from './migrate.js';
export type { StoreMigration, StoreMigrateResult } from './migrate.js';
export type {
  Baseline,
  BaselineSelector,
  HistogramBucket,
  KpiHistoryPoint,
  ListRunsOptions,
  RunSource,
  RunWithKpis,
  StoredDistribution,
  StoredRun,
} from './types.js';
export { samplesFromK6Json, MAX_SAMPLES_PER_ENDPOINT } from './k6-samples.js';
