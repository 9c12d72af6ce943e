// What a collector is: one named unit (like postgres_exporter's collectors) that runs its SQL on
// one pooled connection and returns metric families. The runner in scrape.ts times each collector,
// enforces the scrape deadline and reports pg_exporter_collector_{duration_seconds,success}.

import type pg from 'pg';
import type { MetricFamily } from './exposition.js';

export interface CollectorSettings {
  /** How many statements of pg_stat_statements to export, by total execution time. */
  topStatements: number;
  /** Whether the (normalised, truncated) statement text is exported as an info metric. */
  showQueryText: boolean;
  /** Characters of statement text kept when showQueryText is on. */
  queryTextMaxLength: number;
  /** A statement whose mean execution time is above this counts as slow. */
  slowStatementSeconds: number;
}

export interface CollectorContext {
  /** Runs one statement on this collector's connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  settings: CollectorSettings;
}

export interface Collector {
  /** The collector label of pg_exporter_collector_*; lower case, no spaces. */
  name: string;
  collect(context: CollectorContext): Promise<MetricFamily[]>;
}

/** PostgreSQL returns bigint and numeric as strings; NULL counts as 0. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** part / (part + other), or undefined when both are 0 (no ratio to speak of yet). */
export function ratio(part: number, other: number): number | undefined {
  const total = part + other;
  return total > 0 ? part / total : undefined;
}
