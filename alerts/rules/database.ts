import type { PerfstackConfig } from '../../config/index.js';
import { DB_OPERATION_BUCKETS, dbClient, pgServer, recorded, INFRASTRUCTURE_JOBS } from '../../metrics/index.js';
import { defineAlert, type AlertDefinition, type AlertSpec, type RuleFile } from './alert.js';
import { bucketAbove, bucketAtOrBelow, counter, gauge, histogram, justAbove, justBelow, type InputSeries } from './fixtures.js';
import { equals, humanizers, promNumber, selector } from './format.js';

// Database alerts: the client pool (pg-pool instrumentation) and the server (pg-stats exporter).

const POOL = dbClient.labels.pool;
const FIXTURE_POOL = { [POOL]: 'default' };
const FIXTURE_DATABASE = { datname: 'perfstack' };
const FIXTURE_OPERATIONS_PER_SAMPLE = 600;

/** The smallest bucket bound at or above maxQuerySeconds: counts above it are certainly too slow. */
export function slowQueryBucket(maxQuerySeconds: number): number {
  const bound = DB_OPERATION_BUCKETS.find((b) => b >= maxQuerySeconds);
  if (bound === undefined) {
    throw new Error(`database.maxQuerySeconds: ${maxQuerySeconds}s is above the largest histogram bucket (${DB_OPERATION_BUCKETS.join(', ')})`);
  }
  return bound;
}

/** Counters with `ratio` of their increase in `part` and the rest in `other`. */
function splitCounters(part: string, other: string, ratio: number, samples: number, perSample = 1000): InputSeries[] {
  return [counter(part, FIXTURE_DATABASE, ratio * perSample, samples), counter(other, FIXTURE_DATABASE, (1 - ratio) * perSample, samples)];
}

function poolGauges(used: number, samples: number, pending = 0): InputSeries[] {
  return [
    gauge(dbClient.connectionCount, { ...FIXTURE_POOL, [dbClient.labels.state]: 'used' }, used, samples),
    gauge(dbClient.connectionCount, { ...FIXTURE_POOL, [dbClient.labels.state]: 'idle' }, 100 - used, samples),
    gauge(dbClient.connectionMax, FIXTURE_POOL, 100, samples),
    gauge(dbClient.pendingRequests, FIXTURE_POOL, pending, samples),
  ];
}

function operations(seconds: number, samples: number): InputSeries[] {
  const labels = { ...FIXTURE_POOL, [dbClient.labels.system]: 'postgresql', [dbClient.labels.operation]: 'SELECT', [dbClient.labels.querySummary]: 'fixture' };
  return histogram(dbClient.operationDuration, labels, DB_OPERATION_BUCKETS, [{ seconds, count: FIXTURE_OPERATIONS_PER_SAMPLE }], samples);
}

export function databaseAlerts(config: PerfstackConfig): AlertDefinition[] {
  const db = config.database;
  const alert = (spec: Omit<AlertSpec, 'team' | 'dashboard'>) => defineAlert(config, { ...spec, team: db.team, dashboard: 'database' });
  const poolResult = { resultLabels: FIXTURE_POOL };
  const databaseResult = { resultLabels: FIXTURE_DATABASE };
  const usedFiring = Math.min(100, Math.ceil(Number((justAbove(db.poolUtilisation, 1) * 100).toPrecision(12))));
  const maxBucket = slowQueryBucket(db.maxQuerySeconds);
  const tooSlow = bucketAbove(DB_OPERATION_BUCKETS, maxBucket, 'database.maxQuerySeconds');
  const fastEnough = bucketAtOrBelow(DB_OPERATION_BUCKETS, db.maxQuerySeconds, 'database.maxQuerySeconds');
  const avgFiring = justAbove(db.avgQuerySeconds);
  const indexFiring = justBelow(db.indexUsage);
  const cacheFiring = justBelow(db.cacheHit);
  const exporterUp = (value: number, samples: number) => [gauge('up', { job: INFRASTRUCTURE_JOBS.pgStats, instance: 'pg-stats:9187' }, value, samples), gauge(pgServer.up, { job: INFRASTRUCTURE_JOBS.pgStats, instance: 'pg-stats:9187' }, 1, samples)];
  return [
    alert({
      name: 'DatabasePoolSaturated',
      severity: 'warning',
      expr: `${recorded.poolUtilisation} > ${promNumber(db.poolUtilisation)}`,
      forMinutes: 5,
      summary: `Database pool above ${humanizers.humanizePercentage(db.poolUtilisation)} of its connections`,
      description: `Pool {{ $labels.${POOL} }} uses {{ $value | humanizePercentage }} of its maximum connections (limit ${humanizers.humanizePercentage(db.poolUtilisation)}); requests will soon queue for a connection.`,
      firing: (samples) => ({ series: poolGauges(usedFiring, samples), ...poolResult, value: usedFiring / 100 }),
      quiet: (samples) => poolGauges(Math.floor(db.poolUtilisation * 100), samples),
    }),
    alert({
      name: 'DatabasePendingRequests',
      severity: 'warning',
      expr: `sum by (${POOL}) (${dbClient.pendingRequests}) > ${db.maxPendingRequests}`,
      forMinutes: 2,
      summary: `Requests are waiting for a database connection`,
      description: `{{ $value | humanize }} requests wait for a connection from pool {{ $labels.${POOL} }} (allowed: ${db.maxPendingRequests}).`,
      firing: (samples) => ({ series: poolGauges(50, samples, db.maxPendingRequests + 1), ...poolResult, value: db.maxPendingRequests + 1 }),
      quiet: (samples) => poolGauges(50, samples, db.maxPendingRequests),
    }),
    alert({
      name: 'DatabaseConnectionTimeouts',
      severity: 'warning',
      expr: `sum by (${POOL}) (increase(${dbClient.timeouts}[5m])) > 0`,
      forMinutes: 1,
      summary: `Requests time out waiting for a database connection`,
      description: `Pool {{ $labels.${POOL} }} timed out handing out connections in the last 5 minutes.`,
      firing: (samples) => ({ series: [counter(dbClient.timeouts, FIXTURE_POOL, 1, samples)], ...poolResult }),
      quiet: (samples) => [counter(dbClient.timeouts, FIXTURE_POOL, 0, samples)],
    }),
    alert({
      name: 'DatabaseSlowQueries',
      severity: 'warning',
      expr: `${recorded.dbAverageQuery} > ${promNumber(db.avgQuerySeconds)}`,
      forMinutes: 10,
      summary: `Average database query slower than ${humanizers.humanizeDuration(db.avgQuerySeconds)}`,
      description: `Queries through pool {{ $labels.${POOL} }} take {{ $value | humanizeDuration }} on average over 5 minutes (limit ${humanizers.humanizeDuration(db.avgQuerySeconds)}).`,
      firing: (samples) => ({ series: operations(avgFiring, samples), ...poolResult, value: avgFiring }),
      quiet: (samples) => operations(justBelow(db.avgQuerySeconds), samples),
    }),
    alert({
      name: 'DatabaseQueryOverLimit',
      severity: 'warning',
      expr:
        `sum by (${POOL}, ${dbClient.labels.querySummary}) (increase(${dbClient.operationDuration}_count[5m])) - ` +
        `sum by (${POOL}, ${dbClient.labels.querySummary}) (increase(${dbClient.operationDuration}_bucket${selector([equals('le', String(maxBucket))])}[5m])) > 0`,
      forMinutes: 1,
      summary: `Database queries take longer than ${humanizers.humanizeDuration(db.maxQuerySeconds)}`,
      description: `Query {{ $labels.${dbClient.labels.querySummary} }} on pool {{ $labels.${POOL} }} finished above the ${humanizers.humanizeDuration(maxBucket)} histogram bucket in the last 5 minutes (limit ${humanizers.humanizeDuration(db.maxQuerySeconds)}).`,
      firing: (samples) => ({ series: operations(tooSlow.upper, samples), resultLabels: { ...FIXTURE_POOL, [dbClient.labels.querySummary]: 'fixture' } }),
      quiet: (samples) => operations(fastEnough.upper, samples),
    }),
    alert({
      name: 'DatabaseIndexUsageLow',
      severity: 'ticket',
      expr: `${recorded.indexUsage} < ${promNumber(db.indexUsage)}`,
      forMinutes: 30,
      summary: `Index scans below ${humanizers.humanizePercentage(db.indexUsage)} of table scans`,
      description: `Only {{ $value | humanizePercentage }} of table scans in database {{ $labels.datname }} used an index over the last hour (expected at least ${humanizers.humanizePercentage(db.indexUsage)}).`,
      firing: (samples) => ({ series: splitCounters(pgServer.idxScan, pgServer.seqScan, indexFiring, samples), ...databaseResult, value: indexFiring }),
      quiet: (samples) => splitCounters(pgServer.idxScan, pgServer.seqScan, justAbove(db.indexUsage, 1), samples),
    }),
    alert({
      name: 'DatabaseCacheHitLow',
      severity: 'ticket',
      expr: `${recorded.cacheHit} < ${promNumber(db.cacheHit)}`,
      forMinutes: 15,
      summary: `Buffer cache hit ratio below ${humanizers.humanizePercentage(db.cacheHit)}`,
      description: `Database {{ $labels.datname }} found {{ $value | humanizePercentage }} of blocks in the buffer cache over 10 minutes (expected at least ${humanizers.humanizePercentage(db.cacheHit)}).`,
      firing: (samples) => ({ series: splitCounters(pgServer.blksHit, pgServer.blksRead, cacheFiring, samples), ...databaseResult, value: cacheFiring }),
      quiet: (samples) => splitCounters(pgServer.blksHit, pgServer.blksRead, justAbove(db.cacheHit, 1), samples),
    }),
    alert({
      name: 'DatabaseExporterDown',
      severity: 'critical',
      expr: `up${selector([equals('job', INFRASTRUCTURE_JOBS.pgStats)])} == 0 or ${pgServer.up} == 0`,
      forMinutes: 2,
      summary: `PostgreSQL statistics are not being collected`,
      description: `{{ $labels.job }} on {{ $labels.instance }} is down or cannot reach PostgreSQL; database dashboards and alerts are blind.`,
      firing: (samples) => ({ series: exporterUp(0, samples), resultLabels: { job: INFRASTRUCTURE_JOBS.pgStats, instance: 'pg-stats:9187' } }),
      quiet: (samples) => exporterUp(1, samples),
    }),
    alert({
      name: 'DatabaseDeadlocks',
      severity: 'warning',
      expr: `sum by (datname) (increase(${pgServer.deadlocks}[10m])) > 0`,
      forMinutes: 1,
      summary: `PostgreSQL detected deadlocks`,
      description: `Database {{ $labels.datname }} aborted transactions to break deadlocks in the last 10 minutes.`,
      firing: (samples) => ({ series: [counter(pgServer.deadlocks, FIXTURE_DATABASE, 1, samples)], ...databaseResult }),
      quiet: (samples) => [counter(pgServer.deadlocks, FIXTURE_DATABASE, 0, samples)],
    }),
  ];
}

export function databaseRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'database', dependsOn: ['recording'], groups: [{ name: 'perfstack-database', alerts: databaseAlerts(config) }] };
}
