// Health endpoints. None of them returns SQL text, error messages or connection parameters:
// only states, numbers, error codes and the bounded query summaries the service itself chose.
//
//   GET /health                    the process is up (always 200 while it serves)
//   GET /health/database           SELECT 1 within a short timeout: 200 up / 503 down
//   GET /health/database/metrics   pool counts and query statistics from the metrics registry
//   GET /health/database/detailed  the database KPIs of the config, measured, with breaches listed

import type { Express } from 'express';
import type pg from 'pg';
import type { Histogram, MetricObjectWithValues, MetricValue } from 'prom-client';
import { dbClient } from '../../metrics/index.js';
import { POOL_NAME, describeDatabaseError, isConnectionError, sql } from '../database.js';
import type { AppContext } from '../context.js';

/** /health/database answers within this long, up or down. */
export const HEALTH_TIMEOUT_MS = 1000;

class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError('timed out')), ms);
  });
  promise.catch(() => undefined); // the loser of the race must not become an unhandled rejection
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Summaries the service gives its queries look like "entities.get"; anything else is not shown. */
const OWN_SUMMARY = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

interface QueryStats {
  count: number;
  errors: number;
  totalSeconds: number;
  averageSeconds: number | null;
}

function emptyStats(): QueryStats {
  return { count: 0, errors: 0, totalSeconds: 0, averageSeconds: null };
}

function round(value: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function histogramValues(registry: AppContext['registry'], name: string): Promise<MetricValue<string>[]> {
  const metric = registry.getSingleMetric(name) as Histogram<string> | undefined;
  if (!metric) return [];
  const data = (await metric.get()) as MetricObjectWithValues<MetricValue<string>>;
  return data.values.filter((v) => v.labels[dbClient.labels.pool] === POOL_NAME);
}

export interface PoolSnapshot {
  name: string;
  total: number;
  idle: number;
  used: number;
  waiting: number;
  max: number;
  utilisation: number;
}

export function poolSnapshot(pool: pg.Pool): PoolSnapshot {
  const max = pool.options.max ?? 10;
  const used = Math.max(0, pool.totalCount - pool.idleCount);
  return { name: POOL_NAME, total: pool.totalCount, idle: pool.idleCount, used, waiting: pool.waitingCount, max, utilisation: round(max > 0 ? used / max : 0, 4) };
}

/** Query counts and durations of this pool, from db_client_operation_duration_seconds. */
export async function queryStatistics(registry: AppContext['registry']): Promise<{ total: QueryStats; bySummary: Record<string, QueryStats> }> {
  const total = emptyStats();
  const bySummary: Record<string, QueryStats> = {};
  for (const value of await histogramValues(registry, dbClient.operationDuration)) {
    const name = (value as { metricName?: string }).metricName ?? '';
    const isCount = name.endsWith('_count');
    const isSum = name.endsWith('_sum');
    if (!isCount && !isSum) continue;
    const raw = String(value.labels[dbClient.labels.querySummary] ?? '');
    const summary = OWN_SUMMARY.test(raw) ? raw : 'unnamed';
    const failed = value.labels[dbClient.labels.errorType] !== undefined;
    const stats = (bySummary[summary] ??= emptyStats());
    for (const target of [total, stats]) {
      if (isCount) {
        target.count += value.value;
        if (failed) target.errors += value.value;
      } else target.totalSeconds += value.value;
    }
  }
  for (const stats of [total, ...Object.values(bySummary)]) {
    stats.totalSeconds = round(stats.totalSeconds);
    stats.averageSeconds = stats.count > 0 ? round(stats.totalSeconds / stats.count) : null;
  }
  return { total, bySummary };
}

async function connectionStatistics(registry: AppContext['registry']) {
  let acquisitions = 0;
  let waitSeconds = 0;
  for (const value of await histogramValues(registry, dbClient.waitTime)) {
    const name = (value as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_count')) acquisitions += value.value;
    else if (name.endsWith('_sum')) waitSeconds += value.value;
  }
  let timeouts = 0;
  const counter = registry.getSingleMetric(dbClient.timeouts);
  if (counter) {
    for (const value of (await counter.get()).values) if (value.labels[dbClient.labels.pool] === POOL_NAME) timeouts += value.value;
  }
  return { acquisitions, timeouts, averageWaitSeconds: acquisitions > 0 ? round(waitSeconds / acquisitions) : null };
}

type Comparison = 'max' | 'min';

export interface KpiCheck {
  /** The measured value; null when it could not be measured (no data yet, or no pg_stat_statements). */
  value: number | null;
  threshold: number;
  /** max: the value must stay at or below the threshold; min: at or above it. */
  comparison: Comparison;
  status: 'ok' | 'breached' | 'unknown';
  source: string;
}

function check(value: number | null | undefined, threshold: number, comparison: Comparison, source: string): KpiCheck {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : round(value);
  const status = v === null ? 'unknown' : (comparison === 'max' ? v > threshold : v < threshold) ? 'breached' : 'ok';
  return { value: v, threshold, comparison, status, source };
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export function healthRoutes(app: Express, ctx: AppContext): void {
  const { pool, registry, config } = ctx;
  const started = Date.now();

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  });

  app.get('/health/database', async (_req, res) => {
    const start = performance.now();
    try {
      await withTimeout(pool.query(sql('health.ping', 'SELECT 1')), HEALTH_TIMEOUT_MS);
      res.json({ status: 'up', latencySeconds: round((performance.now() - start) / 1000) });
    } catch (error) {
      res.status(503).set('Retry-After', '1').json({ status: 'down', reason: describeDatabaseError(error) });
    }
  });

  app.get('/health/database/metrics', async (_req, res) => {
    const [queries, connections] = await Promise.all([queryStatistics(registry), connectionStatistics(registry)]);
    res.json({ pool: poolSnapshot(pool), connections, queries: { ...queries.total, bySummary: queries.bySummary } });
  });

  app.get('/health/database/detailed', async (_req, res) => {
    const kpis = config.database;
    const snapshot = poolSnapshot(pool);
    const queries = await queryStatistics(registry);

    // Each statistic on its own, so one that fails (e.g. no pg_stat_statements) leaves the others.
    const measure = async <R extends pg.QueryResultRow>(summary: string, text: string) => {
      try {
        const { rows } = await withTimeout(pool.query<R>(sql(summary, text)), 2 * HEALTH_TIMEOUT_MS);
        return { row: rows[0], error: undefined };
      } catch (error) {
        return { row: undefined, error };
      }
    };
    const [statements, tables, database] = await Promise.all([
      // Top-level data statements of this database only: COPY, DDL and maintenance (utility
      // statements) would otherwise dominate the slowest query after a seed.
      measure<{ avg_seconds: string | null; max_seconds: string | null }>(
        'health.statement_stats',
        `SELECT sum(s.total_exec_time) / nullif(sum(s.calls), 0) / 1000 AS avg_seconds,
                max(s.max_exec_time) / 1000 AS max_seconds
           FROM pg_stat_statements s
          WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND s.toplevel
            AND s.query ~* '^\\s*(select|insert|update|delete|with)\\M'`,
      ),
      measure<{ idx_scan: string | null; seq_scan: string | null }>(
        'health.table_stats',
        'SELECT sum(idx_scan) AS idx_scan, sum(seq_scan) AS seq_scan FROM pg_stat_user_tables',
      ),
      measure<{ blks_hit: string | null; blks_read: string | null }>(
        'health.database_stats',
        'SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()',
      ),
    ]);

    const failures = [statements, tables, database].map((m) => m.error).filter((e) => e !== undefined);
    if (failures.length === 3 && failures.every((e) => isConnectionError(e) || e instanceof TimeoutError)) {
      res.status(503).set('Retry-After', '1').json({ status: 'down', reason: describeDatabaseError(failures[0]) });
      return;
    }

    const idx = num(tables.row?.idx_scan);
    const seq = num(tables.row?.seq_scan);
    const hit = num(database.row?.blks_hit);
    const read = num(database.row?.blks_read);
    const avgFromServer = num(statements.row?.avg_seconds);
    const checks: Record<string, KpiCheck> = {
      poolUtilisation: check(snapshot.utilisation, kpis.poolUtilisation, 'max', 'pool'),
      avgQuerySeconds:
        statements.row !== undefined
          ? check(avgFromServer, kpis.avgQuerySeconds, 'max', 'pg_stat_statements')
          : check(queries.total.averageSeconds, kpis.avgQuerySeconds, 'max', 'client'),
      maxQuerySeconds: check(num(statements.row?.max_seconds), kpis.maxQuerySeconds, 'max', 'pg_stat_statements'),
      indexUsage: check(idx !== null && seq !== null && idx + seq > 0 ? idx / (idx + seq) : null, kpis.indexUsage, 'min', 'pg_stat_user_tables'),
      cacheHit: check(hit !== null && read !== null && hit + read > 0 ? hit / (hit + read) : null, kpis.cacheHit, 'min', 'pg_stat_database'),
    };
    const breached = Object.entries(checks)
      .filter(([, c]) => c.status === 'breached')
      .map(([name]) => name);
    res.json({ status: breached.length > 0 ? 'degraded' : 'ok', breached, checks, pool: snapshot });
  });
}
