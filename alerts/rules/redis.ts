import type { PerfstackConfig } from '../../config/index.js';
import { INFRASTRUCTURE_JOBS, redisServer } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type AlertSpec, type RuleFile } from './alert.js';
import { counter, gauge, stepCounter, type InputSeries } from './fixtures.js';
import { equals, selector } from './format.js';

// The read cache's Redis server as redis_exporter sees it: down, or refusing connections. The
// service answers from PostgreSQL without Redis (docs/caching.md), so Redis trouble costs latency
// and database load, never answers: every alert here is a warning.
//
// No alert on memory near maxmemory or on evictions: perfstack's Redis is an LRU cache
// (allkeys-lru, 64 MB), so a warmed cache sits at its limit and evicts as designed, and such alerts
// would fire in normal operation. What eviction costs, a falling hit ratio, is CacheHitRatioLow's
// (alerts/rules/cache.ts); the memory and eviction panels are there to diagnose it.

/** Thresholds, one place, each with why. */
export const REDIS = {
  /** Down for a minute (4 scrapes at 15 s): a restart takes a second or two. */
  downForMinutes: 1,
  /** A rejected connection is a client the service could not serve from the cache: alert after a minute of them. */
  rejectingForMinutes: 1,
} as const;

/** The exporter's target in fixtures (the compose address). */
const EXPORTER = { job: INFRASTRUCTURE_JOBS.redis, instance: 'redis-exporter:9121' };
const JOB = selector([equals('job', INFRASTRUCTURE_JOBS.redis)]);

function scraped(up: number, redisUp: number, samples: number): InputSeries[] {
  return [gauge('up', EXPORTER, up, samples), gauge(redisServer.up, EXPORTER, redisUp, samples)];
}

export function redisAlerts(config: PerfstackConfig): AlertDefinition[] {
  const alert = (spec: Omit<AlertSpec, 'team' | 'dashboard'>) => defineAlert(config, { ...spec, team: config.cache.team, dashboard: 'service' });
  const result = { resultLabels: EXPORTER };
  return [
    alert({
      name: 'RedisDown',
      severity: 'warning',
      // Either Redis refuses the exporter, or the exporter itself cannot be scraped: both leave the cache blind.
      expr: `${redisServer.up}${JOB} == 0 or up${JOB} == 0`,
      threshold: compare('==', 0),
      forMinutes: REDIS.downForMinutes,
      summary: 'Redis (the read cache) is down or cannot be watched',
      description: `{{ $labels.instance }} of job {{ $labels.job }} reports Redis unreachable, or does not answer its scrapes, for ${REDIS.downForMinutes} minute: cached reads go to PostgreSQL (slower, more database load).`,
      firing: (samples) => ({ series: scraped(1, 0, samples), ...result }),
      quiet: (samples) => scraped(1, 1, samples),
    }),
    alert({
      name: 'RedisRejectingConnections',
      severity: 'warning',
      expr: `sum by (job, instance) (increase(${redisServer.rejectedConnections}${JOB}[5m])) > 0`,
      threshold: compare('>', 0),
      forMinutes: REDIS.rejectingForMinutes,
      summary: 'Redis refuses connections (maxclients reached)',
      description: `{{ $labels.instance }} rejected connections in the last 5 minutes: Redis is at maxclients, and a client refused reads from PostgreSQL instead.`,
      firing: (samples) => ({ series: [stepCounter(redisServer.rejectedConnections, EXPORTER, 1, samples)], ...result }),
      quiet: (samples) => [counter(redisServer.rejectedConnections, EXPORTER, 0, samples)],
    }),
  ];
}

export function redisRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'redis', dependsOn: [], groups: [{ name: 'perfstack-redis', alerts: redisAlerts(config) }] };
}
