// pg-stats: the standalone PostgreSQL statistics exporter (server-side view; see DESIGN.md,
// "Metric contract"). One file per collector, as in postgres_exporter.
export { startPgStatsExporter, acceptsGzip, basicAuthMatches, DEFAULT_PG_STATS_HOST, DEFAULT_PG_STATS_PORT } from './server.js';
export type { BasicAuthCredentials, PgStatsExporter, PgStatsExporterOptions } from './server.js';
export { createPgStatsScraper, redactor, DEFAULT_COLLECTORS, LINT_CONFLICTING_NAMES, PG_STATS_DEFAULTS } from './scrape.js';
export type { PgStatsHooks, PgStatsScraper, PgStatsScraperOptions } from './scrape.js';
export { resolveDatabaseUrl, DATABASE_URL_ENV, DATABASE_URL_FILE_ENV } from './database-url.js';
export type { ResolveDatabaseUrlOptions } from './database-url.js';
export { databaseCollector } from './database.js';
export { statementsCollector, statementsSql, sanitiseQueryText, pgStatsExtraMetrics } from './statements.js';
export { activityCollector, ACTIVITY_STATES } from './activity.js';
export { locksCollector, LOCK_MODES } from './locks.js';
export { userTablesCollector } from './user-tables.js';
export { toNumber, ratio } from './collector.js';
export type { Collector, CollectorContext, CollectorSettings } from './collector.js';
export { renderExposition, family, formatValue, EXPOSITION_CONTENT_TYPE } from './exposition.js';
export type { MetricFamily, MetricType, Sample } from './exposition.js';
