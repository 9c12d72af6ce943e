// @perfstack/pg-stats-exporter as a library: startPgStatsExporter, the scraper and the collectors,
// built from exporters/pg-stats. The command is cli.ts (bin: pg-stats-exporter).
export * from '../../exporters/pg-stats/index.js';
