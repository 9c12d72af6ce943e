import type { PerfstackConfig } from '../../config/index.js';
import { DB_OPERATION_BUCKETS, dbClient, pgServer, recorded, INFRASTRUCTURE_JOBS } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type AlertSpec, type RuleFile } from './alert.js';
import { bucketAbove, bucketAtOrBelow, counter, gauge, histogram, justAbove, justBelow, leLabel, stepCounter, type InputSeries } from './fixtures.js';
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
/**
 * A ratio of scans or blocks stands on at least this much activity in its window; below it the
 * database is idle, and a few sequential scans of small tables (which PostgreSQL rightly prefers) or
 * a cold buffer cache right after a start decide nothing.
 */
export const MIN_TABLE_SCANS_PER_HOUR = 1000;
export const MIN_BLOCK_ACCESSES_PER_10_MINUTES = 10_000;

/** Both counters' increase over `window`, summed per database: the activity a ratio of them stands on. */
function activity(first: string, second: string, window: string): string {
  return `sum by (datname) (increase(${first}[${window}])) + sum by (datname) (increase(${second}[${window}]))`;
}

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

const OPERATION_LABELS = { ...FIXTURE_POOL, [dbClient.labels.system]: 'postgresql', [dbClient.labels.operation]: 'SELECT', [dbClient.labels.querySummary]: 'fixture' };

/** Steady fast operations plus exactly one slow one (at `slowSeconds`) in the first minute. */
function oneSlowOperation(fastSeconds: number, slowSeconds: number, samples: number): InputSeries[] {
  const per = FIXTURE_OPERATIONS_PER_SAMPLE;
  const series = (suffix: string, labels: Record<string, string>, fast: boolean, slow: boolean): InputSeries => {
    const name = `${dbClient.operationDuration}${suffix}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    const step = fast ? per : 0;
    return { series: name, values: slow ? `0 ${step + 1}+${step}x${samples - 1}` : `0+${step}x${samples}` };
  };
  return [
    ...[...DB_OPERATION_BUCKETS, Infinity].map((bound) => series('_bucket', { ...OPERATION_LABELS, le: leLabel(bound) }, fastSeconds <= bound, slowSeconds <= bound)),
    series('_count', OPERATION_LABELS, true, true),
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
  const exporter = { job: INFRASTRUCTURE_JOBS.pgStats, instance: 'pg-stats:9187' };
  const scraped = (up: number, pgUp: number, samples: number) => [gauge('up', exporter, up, samples), gauge(pgServer.up, exporter, pgUp, samples)];
  return [
    alert({
      name: 'DatabasePoolSaturated',
      severity: 'warning',
      expr: `${recorded.poolUtilisation} > ${promNumber(db.poolUtilisation)}`,
      threshold: compare('>', db.poolUtilisation),
      // Recorded from gauges: true from minute 0.
      activeFromMinutes: 0,
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
      threshold: compare('>', db.maxPendingRequests),
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
      threshold: compare('>', 0),
      forMinutes: 1,
      summary: `Requests time out waiting for a database connection`,
      description: `Pool {{ $labels.${POOL} }} timed out handing out connections in the last 5 minutes.`,
      // One timeout in the window: increase() is exactly 1.
      firing: (samples) => ({ series: [stepCounter(dbClient.timeouts, FIXTURE_POOL, 1, samples)], ...poolResult }),
      quiet: (samples) => [counter(dbClient.timeouts, FIXTURE_POOL, 0, samples)],
    }),
    alert({
      name: 'DatabaseSlowQueries',
      severity: 'warning',
      expr: `${recorded.dbAverageQuery} > ${promNumber(db.avgQuerySeconds)}`,
      threshold: compare('>', db.avgQuerySeconds),
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
      threshold: compare('>', 0),
      forMinutes: 1,
      summary: `Database queries take longer than ${humanizers.humanizeDuration(db.maxQuerySeconds)}`,
      description: `Query {{ $labels.${dbClient.labels.querySummary} }} on pool {{ $labels.${POOL} }} finished above the ${humanizers.humanizeDuration(maxBucket)} histogram bucket in the last 5 minutes (limit ${humanizers.humanizeDuration(db.maxQuerySeconds)}).`,
      // Exactly one query above the limit among steady fast ones.
      firing: (samples) => ({ series: oneSlowOperation(fastEnough.upper, tooSlow.upper, samples), resultLabels: { ...FIXTURE_POOL, [dbClient.labels.querySummary]: 'fixture' } }),
      quiet: (samples) => operations(fastEnough.upper, samples),
    }),
    alert({
      name: 'DatabaseIndexUsageLow',
      severity: 'ticket',
      expr: `${recorded.indexUsage} < ${promNumber(db.indexUsage)} and ${activity(pgServer.idxScan, pgServer.seqScan, '1h')} >= ${MIN_TABLE_SCANS_PER_HOUR}`,
      threshold: compare('<', db.indexUsage),
      forMinutes: 30,
      summary: `Index scans below ${humanizers.humanizePercentage(db.indexUsage)} of table scans`,
      description: `Only {{ $value | humanizePercentage }} of table scans in database {{ $labels.datname }} used an index over the last hour (expected at least ${humanizers.humanizePercentage(db.indexUsage)}; judged from ${MIN_TABLE_SCANS_PER_HOUR} scans an hour).`,
      firing: (samples) => ({ series: splitCounters(pgServer.idxScan, pgServer.seqScan, indexFiring, samples), ...databaseResult, value: indexFiring }),
      quiet: (samples) => splitCounters(pgServer.idxScan, pgServer.seqScan, justAbove(db.indexUsage, 1), samples),
    }),
    alert({
      name: 'DatabaseCacheHitLow',
      severity: 'ticket',
      expr: `${recorded.cacheHit} < ${promNumber(db.cacheHit)} and ${activity(pgServer.blksHit, pgServer.blksRead, '10m')} >= ${MIN_BLOCK_ACCESSES_PER_10_MINUTES}`,
      threshold: compare('<', db.cacheHit),
      forMinutes: 15,
      summary: `Buffer cache hit ratio below ${humanizers.humanizePercentage(db.cacheHit)}`,
      description: `Database {{ $labels.datname }} found {{ $value | humanizePercentage }} of blocks in the buffer cache over 10 minutes (expected at least ${humanizers.humanizePercentage(db.cacheHit)}; judged from ${MIN_BLOCK_ACCESSES_PER_10_MINUTES} block reads in 10 minutes).`,
      // Ten times the block accesses the guard asks for, so it holds from the first minutes of the window.
      firing: (samples) => ({ series: splitCounters(pgServer.blksHit, pgServer.blksRead, cacheFiring, samples, MIN_BLOCK_ACCESSES_PER_10_MINUTES), ...databaseResult, value: cacheFiring }),
      quiet: (samples) => splitCounters(pgServer.blksHit, pgServer.blksRead, justAbove(db.cacheHit, 1), samples, MIN_BLOCK_ACCESSES_PER_10_MINUTES),
    }),
    // Two failures, two alerts: PostgreSQL itself down pages; the exporter down only blinds us.
    alert({
      name: 'PostgresDown',
      severity: 'critical',
      expr: `${pgServer.up}${selector([equals('job', INFRASTRUCTURE_JOBS.pgStats)])} == 0`,
      threshold: compare('==', 0),
      forMinutes: 1,
      summary: `PostgreSQL does not accept connections`,
      description: `{{ $labels.job }} on {{ $labels.instance }} answers its scrapes but cannot connect to PostgreSQL: the reference service answers 503 and the baseline store is unreachable.`,
      firing: (samples) => ({ series: scraped(1, 0, samples), resultLabels: exporter }),
      quiet: (samples) => scraped(1, 1, samples),
    }),
    alert({
      name: 'DatabaseExporterDown',
      severity: 'warning',
      expr: `up${selector([equals('job', INFRASTRUCTURE_JOBS.pgStats)])} == 0`,
      threshold: compare('==', 0),
      forMinutes: 2,
      summary: `The pg-stats exporter cannot be scraped`,
      description: `{{ $labels.job }} on {{ $labels.instance }} does not answer Prometheus's scrapes: PostgreSQL statistics are not collected, so database dashboards and alerts (PostgresDown included) are blind.`,
      firing: (samples) => ({ series: scraped(0, 1, samples).slice(0, 1), resultLabels: exporter }),
      quiet: (samples) => scraped(1, 1, samples).slice(0, 1),
    }),
    alert({
      name: 'DatabaseDeadlocks',
      severity: 'warning',
      expr: `sum by (datname) (increase(${pgServer.deadlocks}[10m])) > 0`,
      threshold: compare('>', 0),
      forMinutes: 1,
      summary: `PostgreSQL detected deadlocks`,
      description: `Database {{ $labels.datname }} aborted transactions to break deadlocks in the last 10 minutes.`,
      firing: (samples) => ({ series: [stepCounter(pgServer.deadlocks, FIXTURE_DATABASE, 1, samples)], ...databaseResult }),
      quiet: (samples) => [counter(pgServer.deadlocks, FIXTURE_DATABASE, 0, samples)],
    }),
  ];
}

export function databaseRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'database', dependsOn: ['recording'], groups: [{ name: 'perfstack-database', alerts: databaseAlerts(config) }] };
}
