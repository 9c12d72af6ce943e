import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PerfstackConfig } from '../config/index.js';
import { dbClient, pgServer } from '../metrics/index.js';
import {
  JOB_AND_INSTANCE,
  composeDashboard,
  formatNumber,
  formatPercent,
  histogramQuantile,
  lowerLimit,
  queryVariable,
  rate,
  selector,
  standardVariables,
  sumBy,
  tablePanel,
  timeseriesPanel,
  upperLimit,
  type Section,
} from './common.js';

// Database: the client's view (pg pool instrumentation) and the server's (pg-stats exporter).

const POOL = dbClient.labels.pool;
const SUMMARY = dbClient.labels.querySummary;
const POOL_MATCHERS = [...JOB_AND_INSTANCE, `${POOL}=~"$pool"`];
const DATABASE_MATCHERS = [...JOB_AND_INSTANCE, 'datname=~"$datname"'];

function poolSection(config: PerfstackConfig): Section {
  const { poolUtilisation, maxPendingRequests } = config.database;
  const used = sumBy([POOL], selector(dbClient.connectionCount, [...POOL_MATCHERS, `${dbClient.labels.state}="used"`]));
  const max = sumBy([POOL], selector(dbClient.connectionMax, POOL_MATCHERS));
  return {
    title: 'Connection pool (client)',
    panels: [
      timeseriesPanel({
        title: 'Pool connections by state',
        description: `Open connections per pool, split into used and idle (${dbClient.connectionCount}), stacked.`,
        unit: 'short',
        queries: [{ expr: sumBy([POOL, dbClient.labels.state], selector(dbClient.connectionCount, POOL_MATCHERS)), legend: `{{${POOL}}} {{${dbClient.labels.state}}}` }],
        stacked: true,
        min: 0,
      }),
      timeseriesPanel({
        title: 'Pool utilisation (used / max)',
        description: `Connections in use as a share of the pool maximum. Dashed line: ${formatPercent(poolUtilisation)}, the configured utilisation limit.`,
        unit: 'percentunit',
        queries: [{ expr: `${used} / ${max}`, legend: `{{${POOL}}}` }],
        thresholds: upperLimit(poolUtilisation),
        min: 0,
        max: 1,
      }),
      timeseriesPanel({
        title: 'Pending connection requests',
        description: `Callers waiting for a free connection (${dbClient.pendingRequests}). Dashed line: the configured limit of ${maxPendingRequests}.`,
        unit: 'short',
        queries: [{ expr: sumBy([POOL], selector(dbClient.pendingRequests, POOL_MATCHERS)), legend: `{{${POOL}}}` }],
        thresholds: upperLimit(maxPendingRequests),
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Connection acquire wait p95',
        description: `95th percentile of the time a caller waits to get a connection from the pool (${dbClient.waitTime}).`,
        unit: 's',
        queries: [{ expr: histogramQuantile(0.95, dbClient.waitTime, POOL_MATCHERS, [POOL]), legend: `{{${POOL}}}` }],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Connection acquire timeouts',
        description: `Requests for a connection that gave up waiting, per second (${dbClient.timeouts}). Any value above 0 means the pool is too small or queries hold connections too long.`,
        unit: 'ops',
        queries: [{ expr: sumBy([POOL], rate(selector(dbClient.timeouts, POOL_MATCHERS))), legend: `{{${POOL}}}` }],
        thresholds: upperLimit(0),
        min: 0,
        width: 8,
      }),
    ],
  };
}

function querySection(config: PerfstackConfig): Section {
  const { avgQuerySeconds, maxQuerySeconds } = config.database;
  const duration = dbClient.operationDuration;
  const p95BySummary = histogramQuantile(0.95, duration, POOL_MATCHERS, [SUMMARY]);
  return {
    title: 'Queries (client)',
    panels: [
      timeseriesPanel({
        title: 'Query duration p95 by query',
        description: `95th percentile of the operation duration per ${SUMMARY}, measured by the client. Dashed line: ${formatNumber(maxQuerySeconds)} s, the configured maximum query time.`,
        unit: 's',
        queries: [{ expr: p95BySummary, legend: `{{${SUMMARY}}}` }],
        thresholds: upperLimit(maxQuerySeconds),
        min: 0,
      }),
      timeseriesPanel({
        title: 'Average query duration',
        description: `Mean operation duration per pool (sum / count of ${duration}). Dashed line: ${formatNumber(avgQuerySeconds)} s, the configured average query time.`,
        unit: 's',
        queries: [
          {
            expr: `${sumBy([POOL], rate(selector(`${duration}_sum`, POOL_MATCHERS)))} / ${sumBy([POOL], rate(selector(`${duration}_count`, POOL_MATCHERS)))}`,
            legend: `{{${POOL}}}`,
          },
        ],
        thresholds: upperLimit(avgQuerySeconds),
        min: 0,
      }),
      timeseriesPanel({
        title: 'Query errors',
        description: `Failed operations per second by query and ${dbClient.labels.errorType} (operations that carry an ${dbClient.labels.errorType} label).`,
        unit: 'ops',
        queries: [
          {
            expr: sumBy([SUMMARY, dbClient.labels.errorType], rate(selector(`${duration}_count`, [...POOL_MATCHERS, `${dbClient.labels.errorType}!=""`]))),
            legend: `{{${SUMMARY}}} {{${dbClient.labels.errorType}}}`,
          },
        ],
        thresholds: upperLimit(0),
        min: 0,
      }),
      tablePanel({
        title: 'Slowest queries now (p95)',
        description: `The ten query summaries with the highest p95 duration at the end of the time range. Red above ${formatNumber(maxQuerySeconds)} s, the configured maximum query time.`,
        unit: 's',
        queries: [{ expr: `topk(10, ${p95BySummary})` }],
        valueColumn: 'p95',
        thresholds: upperLimit(maxQuerySeconds),
        width: 12,
      }),
    ],
  };
}

function serverSection(config: PerfstackConfig): Section {
  const { cacheHit, indexUsage, sizeLimitBytes } = config.database;
  const perDatabaseRate = (metric: string) => sumBy(['datname'], rate(selector(metric, DATABASE_MATCHERS)));
  const hits = perDatabaseRate(pgServer.blksHit);
  const idxScans = perDatabaseRate(pgServer.idxScan);
  return {
    title: 'PostgreSQL server',
    panels: [
      timeseriesPanel({
        title: 'Commits and rollbacks',
        description: 'Transactions committed and rolled back per second, per database (pg_stat_database).',
        unit: 'ops',
        queries: [
          { expr: perDatabaseRate(pgServer.xactCommit), legend: '{{datname}} commits' },
          { expr: perDatabaseRate(pgServer.xactRollback), legend: '{{datname}} rollbacks' },
        ],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Buffer cache hit ratio',
        description: `Blocks found in shared buffers as a share of all blocks read (blks_hit / (blks_hit + blks_read)). Dashed line: ${formatPercent(cacheHit)}, the configured minimum.`,
        unit: 'percentunit',
        queries: [{ expr: `${hits} / (${hits} + ${perDatabaseRate(pgServer.blksRead)})`, legend: '{{datname}}' }],
        thresholds: lowerLimit(cacheHit),
        max: 1,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Index usage ratio',
        description: `Index scans as a share of all table scans on user tables (idx_scan / (idx_scan + seq_scan)). Dashed line: ${formatPercent(indexUsage)}, the configured minimum.`,
        unit: 'percentunit',
        queries: [{ expr: `${idxScans} / (${idxScans} + ${perDatabaseRate(pgServer.seqScan)})`, legend: '{{datname}}' }],
        thresholds: lowerLimit(indexUsage),
        max: 1,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Connections by state',
        description: 'Server backends per database and state (pg_stat_activity), stacked.',
        unit: 'short',
        queries: [{ expr: sumBy(['datname', 'state'], selector(pgServer.activityCount, DATABASE_MATCHERS)), legend: '{{datname}} {{state}}' }],
        stacked: true,
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Locks by mode',
        description: 'Locks held or awaited per database and lock mode (pg_locks).',
        unit: 'short',
        queries: [{ expr: sumBy(['datname', 'mode'], selector(pgServer.locksCount, DATABASE_MATCHERS)), legend: '{{datname}} {{mode}}' }],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Deadlocks',
        description: 'Deadlocks detected per second, per database. Any value above 0 needs a look at the transactions involved.',
        unit: 'ops',
        queries: [{ expr: perDatabaseRate(pgServer.deadlocks), legend: '{{datname}}' }],
        thresholds: upperLimit(0),
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Slow statements',
        description: `Statements in pg_stat_statements whose mean execution time is above the exporter's slow-statement limit (${pgServer.slowStatements}).`,
        unit: 'short',
        queries: [{ expr: sumBy(['instance'], selector(pgServer.slowStatements, JOB_AND_INSTANCE)), legend: '{{instance}}' }],
        thresholds: upperLimit(0, 'orange'),
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Database size',
        description: `On-disk size per database. Dashed line: the configured size limit of ${formatNumber(sizeLimitBytes / 1024 ** 3)} GiB.`,
        unit: 'bytes',
        queries: [{ expr: sumBy(['datname'], selector(pgServer.databaseSize, DATABASE_MATCHERS)), legend: '{{datname}}' }],
        thresholds: upperLimit(sizeLimitBytes),
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Longest open transaction',
        description: `Age of the oldest open transaction (${pgServer.longestTransactionSeconds}). Long transactions hold locks and stop vacuum from cleaning up.`,
        unit: 's',
        queries: [{ expr: sumBy(['instance'], selector(pgServer.longestTransactionSeconds, JOB_AND_INSTANCE), 'max'), legend: '{{instance}}' }],
        min: 0,
        width: 8,
      }),
    ],
  };
}

export function databaseDashboard(config: PerfstackConfig): dashboard.Dashboard {
  return composeDashboard({
    key: 'database',
    title: 'Database',
    description: 'PostgreSQL from both sides: the application pool and queries, and the server statistics.',
    tags: ['database', 'postgresql'],
    variables: [
      // Jobs of both the instrumented app (pool metrics) and the pg-stats exporter (server metrics).
      ...standardVariables(`{__name__=~"${dbClient.connectionCount}|${pgServer.up}"}`),
      queryVariable({
        name: 'pool',
        label: 'Pool',
        query: `label_values(${selector(dbClient.connectionCount, JOB_AND_INSTANCE)}, ${POOL})`,
      }),
      queryVariable({
        name: 'datname',
        label: 'Database',
        query: `label_values(${selector(pgServer.xactCommit, JOB_AND_INSTANCE)}, datname)`,
      }),
    ],
    sections: [poolSection(config), querySection(config), serverSection(config)],
  });
}
