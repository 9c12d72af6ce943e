// The db-bench report: its shape, a text rendering, the KPI comparison and the atomic JSON write.

import type { PerfstackConfig } from '../../config/index.js';
import { writeJsonAtomic } from '../write-json.js';
import { SINGLE_ROW_OPERATIONS, type DbBenchOperation } from './options.js';

export const DB_BENCH_REPORT_VERSION = 1;

/** What EXPLAIN (ANALYZE, FORMAT JSON) said about a search query. */
export interface PlanSummary {
  /** Whether any Index Scan, Index Only Scan or Bitmap Index Scan appears in the plan. */
  indexUsed: boolean;
  /** Indexes the plan scanned. */
  indexNames: string[];
  /** Scan nodes, top-down, e.g. "Bitmap Heap Scan on perfstack_bench_x_search". */
  scans: string[];
  planningMs: number;
  executionMs: number;
  /** The search term EXPLAIN ran with (a pattern such as %3fa9c1%). */
  pattern: string;
  /** The JSON plan as PostgreSQL returned it (the first element of the EXPLAIN output). */
  plan: unknown;
}

export interface OperationResult {
  operation: DbBenchOperation;
  description: string;
  /** Measured iterations attempted (= iterations). */
  count: number;
  /** Iterations that threw; their latencies are not in the figures. */
  errors: number;
  /** Up to five distinct error messages. */
  errorMessages: string[];
  /** Rows each iteration writes or reads (batch size for batch-insert and copy); 0 for connections and searches. */
  rowsPerOp: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Successful iterations per second of wall time, at the configured concurrency. */
  throughputOpsPerSec: number;
  /** throughputOpsPerSec × rowsPerOp. */
  rowsPerSec: number;
  /** Wall time of the measured phase. */
  wallMs: number;
  /** search-index and search-noindex only. */
  plan?: PlanSummary;
}

export interface DbBenchEnvironment {
  postgresVersion: string;
  postgresVersionNum: number;
  nodeVersion: string;
  platform: string;
  arch: string;
  cpuCount: number;
  cpuModel: string;
  totalMemoryBytes: number;
  /** Server as host:port/database, never with credentials. */
  target: string;
  /** When the run started, ISO 8601. */
  date: string;
}

export interface DbBenchReport {
  reportVersion: typeof DB_BENCH_REPORT_VERSION;
  tool: 'perfstack db-bench';
  environment: DbBenchEnvironment;
  options: {
    iterations: number;
    concurrency: number;
    warmup: number;
    datasetSize: number;
    batchSize: number;
    operations: DbBenchOperation[];
  };
  operations: OperationResult[];
  /** Whole run, set-up and clean-up included. */
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** A plain-text table of the report, for a terminal or a CI log. */
export function formatReport(report: DbBenchReport): string {
  const env = report.environment;
  const o = report.options;
  const lines = [
    `perfstack db-bench  ${env.date}`,
    `PostgreSQL ${env.postgresVersion} at ${env.target}; Node ${env.nodeVersion}, ${env.cpuCount} CPUs (${env.cpuModel})`,
    `iterations ${o.iterations}, warmup ${o.warmup}, concurrency ${o.concurrency}, dataset ${o.datasetSize} rows, batch ${o.batchSize} rows`,
    '',
  ];
  const header = ['operation', 'count', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms', 'ops/s', 'rows/s'];
  const rows = report.operations.map((r) => [
    r.operation,
    String(r.count),
    String(r.errors),
    fixed(r.p50Ms, 3),
    fixed(r.p95Ms, 3),
    fixed(r.p99Ms, 3),
    fixed(r.meanMs, 3),
    fixed(r.maxMs, 3),
    fixed(r.throughputOpsPerSec, 1),
    r.rowsPerOp > 1 ? fixed(r.rowsPerSec, 0) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const render = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  lines.push(render(header), ...rows.map(render));

  const plans = report.operations.filter((r) => r.plan);
  if (plans.length > 0) {
    lines.push('', 'search plans (EXPLAIN ANALYZE):');
    for (const r of plans) {
      const plan = r.plan as PlanSummary;
      lines.push(
        `  ${r.operation.padEnd(15)} index used: ${plan.indexUsed ? `yes (${plan.indexNames.join(', ')})` : 'no'}; ` +
          `${plan.scans.join(' > ')}; execution ${fixed(plan.executionMs, 3)} ms`,
      );
    }
  }
  const failed = report.operations.filter((r) => r.errors > 0);
  if (failed.length > 0) {
    lines.push('', 'errors:');
    for (const r of failed) lines.push(`  ${r.operation}: ${r.errors} failed; ${r.errorMessages.join(' | ')}`);
  }
  lines.push('', `finished in ${fixed(report.durationMs / 1000, 1)} s`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

export interface KpiBreach {
  /** The config KPI (database.*) that was breached, or "errors" when operations failed. */
  kpi: 'avgQuerySeconds' | 'maxQuerySeconds' | 'indexUsage' | 'errors';
  /** The operation at fault; absent for the combined single-row average. */
  operation?: DbBenchOperation;
  /** Measured value (seconds for the duration KPIs, failed iterations for errors). */
  actual: number | boolean;
  /** The limit it was compared with. */
  limit: number | boolean;
  message: string;
}

/** Operations whose slowest iteration is held to maxQuerySeconds: every query, except the
 * deliberately unindexed search (a worst-case reference) and the connection operations (not queries). */
export const MAX_QUERY_OPERATIONS: readonly DbBenchOperation[] = [
  'insert',
  'select',
  'update',
  'delete',
  'batch-insert',
  'copy',
  'tx-commit',
  'tx-rollback',
  'search-index',
];

/**
 * Compares a report with the database KPIs of the config. Returns the breaches, empty when
 * all is well; `perfstack db-bench` exits non-zero when the list is not empty.
 *   - avgQuerySeconds: mean latency over all single-row CRUD iterations (insert, select, update, delete);
 *   - maxQuerySeconds: the slowest iteration of each query operation (MAX_QUERY_OPERATIONS);
 *   - indexUsage: the indexed search must use its index according to EXPLAIN;
 *   - errors: any failed iteration.
 */
export function kpiBreaches(report: DbBenchReport, config: Pick<PerfstackConfig, 'database'>): KpiBreach[] {
  const { avgQuerySeconds, maxQuerySeconds } = config.database;
  const breaches: KpiBreach[] = [];
  const ms = (seconds: number) => `${(seconds * 1000).toFixed(3)} ms`;

  const singles = report.operations.filter((r) => SINGLE_ROW_OPERATIONS.includes(r.operation) && r.count - r.errors > 0);
  if (singles.length > 0) {
    const samples = singles.reduce((n, r) => n + (r.count - r.errors), 0);
    const meanSeconds = singles.reduce((sum, r) => sum + r.meanMs * (r.count - r.errors), 0) / samples / 1000;
    if (meanSeconds > avgQuerySeconds) {
      const detail = singles.map((r) => `${r.operation} ${r.meanMs.toFixed(3)} ms`).join(', ');
      breaches.push({
        kpi: 'avgQuerySeconds',
        actual: meanSeconds,
        limit: avgQuerySeconds,
        message: `average single-row query took ${ms(meanSeconds)}, above database.avgQuerySeconds ${ms(avgQuerySeconds)} (${detail})`,
      });
    }
  }
  for (const r of report.operations) {
    if (!MAX_QUERY_OPERATIONS.includes(r.operation) || !Number.isFinite(r.maxMs)) continue;
    const maxSeconds = r.maxMs / 1000;
    if (maxSeconds > maxQuerySeconds) {
      breaches.push({
        kpi: 'maxQuerySeconds',
        operation: r.operation,
        actual: maxSeconds,
        limit: maxQuerySeconds,
        message: `${r.operation}: slowest iteration took ${ms(maxSeconds)}, above database.maxQuerySeconds ${ms(maxQuerySeconds)}`,
      });
    }
  }
  const indexed = report.operations.find((r) => r.operation === 'search-index');
  if (indexed?.plan && !indexed.plan.indexUsed) {
    breaches.push({
      kpi: 'indexUsage',
      operation: 'search-index',
      actual: false,
      limit: true,
      message: `search-index: EXPLAIN shows no index scan (${indexed.plan.scans.join(' > ')}); the pg_trgm index was not used`,
    });
  }
  for (const r of report.operations) {
    if (r.errors > 0) {
      breaches.push({ kpi: 'errors', operation: r.operation, actual: r.errors, limit: 0, message: `${r.operation}: ${r.errors} of ${r.count} iterations failed: ${r.errorMessages[0] ?? ''}` });
    }
  }
  return breaches;
}

// ---------------------------------------------------------------------------------------------

/** Writes the report as JSON through a temporary file in the same folder and a rename. */
export function writeReport(path: string, report: DbBenchReport): Promise<string> {
  return writeJsonAtomic(path, report);
}
