import type { PerfstackConfig } from '../config/index.js';
import { cache, INFRASTRUCTURE_JOBS, redisServer } from '../metrics/index.js';
import {
  JOB_AND_INSTANCE,
  formatNumber,
  formatPercent,
  histogramQuantile,
  lowerLimit,
  rate,
  selector,
  statPanel,
  sumBy,
  timeseriesPanel,
  warningCriticalLimits,
  type Section,
} from './common.js';

// The reference service's Redis read cache (app/cache, docs/caching.md): a row on the service
// overview with hit ratio, reads and latency by result, errors, the connection, and the search
// SLA split into cached and uncached searches.

const { labels } = cache;
const CACHE = labels.cache;
const RESULT = labels.result;

export function cacheSection(config: PerfstackConfig): Section {
  const { search, entity, searchLatency, timeoutMs } = config.cache;
  const requests = (matchers: string[] = []) => rate(selector(cache.requests, [...JOB_AND_INSTANCE, ...matchers]));
  const floor = Math.min(search.minHitRatio, entity.minHitRatio);
  return {
    title: 'Read cache (Redis)',
    panels: [
      timeseriesPanel({
        title: 'Cache hit ratio by cache',
        description: `Share of cached reads answered from Redis, per cache (search results, entities); a Redis error counts as a miss. Dashed line: the CacheHitRatioLow floor (${formatPercent(
          search.minHitRatio,
        )} search, ${formatPercent(entity.minHitRatio)} entity). Every entity write starts a new search generation, so write-heavy traffic lowers the search ratio.`,
        unit: 'percentunit',
        queries: [{ expr: `${sumBy([CACHE], requests([`${RESULT}="hit"`]))} / ${sumBy([CACHE], requests())}`, legend: `{{${CACHE}}}` }],
        thresholds: lowerLimit(floor),
        min: 0,
        max: 1,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Cached reads by result',
        description: `Cached reads per second by cache and result (${cache.requests}): hit (from Redis) or miss (from PostgreSQL, then stored).`,
        unit: 'reqps',
        queries: [{ expr: sumBy([CACHE, RESULT], requests()), legend: `{{${CACHE}}} {{${RESULT}}}` }],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Cache operation latency p95 by result',
        description: `p95 duration of Redis operations (${cache.operationDuration}) by cache, operation (get, set, invalidate) and result (hit, miss, ok, error). A slow Redis shows as error at the ${formatNumber(
          timeoutMs,
        )} ms timeout (cache.timeoutMs).`,
        unit: 's',
        queries: [{ expr: histogramQuantile(0.95, cache.operationDuration, JOB_AND_INSTANCE, [CACHE, labels.operation, RESULT]), legend: `{{${CACHE}}} {{${labels.operation}}} {{${RESULT}}}` }],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Search latency p95, cached and uncached',
        description: `p95 of GET /api/search by how it was answered (${cache.searchDuration}): hit from the cache, miss from PostgreSQL, bypass with caching off. Dashed lines: SLA cached ≤ ${formatNumber(
          searchLatency.cachedP95Seconds,
        )} s and uncached ≤ ${formatNumber(searchLatency.uncachedP95Seconds)} s.`,
        unit: 's',
        queries: [{ expr: histogramQuantile(0.95, cache.searchDuration, JOB_AND_INSTANCE, [labels.cacheResult]), legend: `{{${labels.cacheResult}}}` }],
        thresholds: warningCriticalLimits(searchLatency.cachedP95Seconds, searchLatency.uncachedP95Seconds),
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Cache errors by operation and type',
        description: `Failed Redis operations per second (${cache.errors}) by cache, operation and error type: timeout (slower than ${formatNumber(
          timeoutMs,
        )} ms) or unavailable (no connection). Each failed read was answered from PostgreSQL. Zero in a healthy run.`,
        unit: 'ops',
        queries: [{ expr: sumBy([CACHE, labels.operation, labels.errorType], rate(selector(cache.errors, JOB_AND_INSTANCE))), legend: `{{${CACHE}}} {{${labels.operation}}} {{${labels.errorType}}}` }],
        min: 0,
        width: 8,
      }),
      statPanel({
        title: 'Redis connected',
        description: `${cache.up} per instance: 1 while the service’s Redis connection is ready, 0 while it reconnects (reads then go to PostgreSQL). No value: caching is off.`,
        unit: 'none',
        queries: [{ expr: sumBy(['instance'], selector(cache.up, JOB_AND_INSTANCE), 'min'), legend: '{{instance}}', instant: true }],
        thresholds: lowerLimit(1),
        reduce: 'lastNotNull',
        width: 8,
      }),
    ],
  };
}

/** The redis_exporter job (relabelled to it in Kubernetes too). */
const REDIS_JOB = [`job="${INFRASTRUCTURE_JOBS.redis}"`];

/**
 * The Redis server itself, from redis_exporter (job "redis"): up, memory against maxmemory, clients,
 * rejected connections, evictions and expiries, keyspace hit ratio, commands. The row below the read
 * cache's: the service's view first, then the server's.
 */
export function redisServerSection(): Section {
  // Its own job, not $job and $instance: those pick the services, and Redis serves them all.
  const perInstance = (metric: string, extra: string[] = []) => sumBy(['instance'], selector(metric, [...REDIS_JOB, ...extra]));
  const perSecond = (metric: string) => sumBy(['instance'], rate(selector(metric, REDIS_JOB)));
  const hits = perSecond(redisServer.keyspaceHits);
  return {
    title: 'Redis server',
    panels: [
      statPanel({
        title: 'Redis up',
        description: `${redisServer.up} per instance, from redis_exporter: 1 while the exporter reaches Redis, 0 while it cannot (the service then reads from PostgreSQL). No value: the exporter itself is not scraped. The RedisDown alert watches both.`,
        unit: 'none',
        queries: [{ expr: sumBy(['instance'], selector(redisServer.up, REDIS_JOB), 'min'), legend: '{{instance}}', instant: true }],
        thresholds: lowerLimit(1),
        reduce: 'lastNotNull',
        width: 6,
      }),
      timeseriesPanel({
        title: 'Redis memory used and maxmemory',
        description: `Memory Redis has allocated (${redisServer.memoryUsed}) against its maxmemory setting (${redisServer.memoryMax}). With maxmemory 0 (no limit) only the used line is drawn. At the limit Redis evicts (allkeys-lru, perfstack's setting: a warmed cache sits here by design) or refuses writes (noeviction).`,
        unit: 'bytes',
        queries: [
          { expr: perInstance(redisServer.memoryUsed), legend: '{{instance}} used' },
          // maxmemory 0 means no limit: filtered out rather than drawn as a line at zero.
          { expr: `${perInstance(redisServer.memoryMax)} > 0`, legend: '{{instance}} maxmemory' },
        ],
        min: 0,
        width: 9,
      }),
      timeseriesPanel({
        title: 'Redis keyspace hit ratio',
        description: `Share of key lookups that found their key (${redisServer.keyspaceHits} over hits plus ${redisServer.keyspaceMisses}), every client of Redis included; the per-cache ratio the service sees is in the read-cache row. No value while nothing is looked up.`,
        unit: 'percentunit',
        queries: [{ expr: `${hits} / (${hits} + ${perSecond(redisServer.keyspaceMisses)})`, legend: '{{instance}}' }],
        min: 0,
        max: 1,
        width: 9,
      }),
      timeseriesPanel({
        title: 'Redis clients, connected and blocked',
        description: `Client connections open to Redis (${redisServer.connectedClients}), the exporter's own included, and clients waiting in a blocking command such as BLPOP (${redisServer.blockedClients}; the read cache issues none).`,
        unit: 'short',
        queries: [
          { expr: perInstance(redisServer.connectedClients), legend: '{{instance}} connected' },
          { expr: perInstance(redisServer.blockedClients), legend: '{{instance}} blocked' },
        ],
        min: 0,
        width: 6,
      }),
      timeseriesPanel({
        title: 'Redis rejected connections',
        description: `Connections Redis refused per second because maxclients was reached (${redisServer.rejectedConnections}). Zero in a healthy run; RedisRejectingConnections fires on any.`,
        unit: 'suffix: conn/s',
        queries: [{ expr: perSecond(redisServer.rejectedConnections), legend: '{{instance}}' }],
        min: 0,
        width: 6,
      }),
      timeseriesPanel({
        title: 'Redis evicted and expired keys',
        description: `Keys removed per second: evicted to stay under maxmemory (${redisServer.evictedKeys}; normal for a full LRU cache, a cause to look at when CacheHitRatioLow fires) and expired at the end of their TTL (${redisServer.expiredKeys}; the cache's TTLs at work).`,
        unit: 'suffix: keys/s',
        queries: [
          { expr: perSecond(redisServer.evictedKeys), legend: '{{instance}} evicted' },
          { expr: perSecond(redisServer.expiredKeys), legend: '{{instance}} expired' },
        ],
        min: 0,
        width: 6,
      }),
      timeseriesPanel({
        title: 'Redis commands per second',
        description: `Commands Redis executed per second (${redisServer.commandsProcessed}): the service's GET, SET and invalidations, plus the exporter's INFO on every scrape.`,
        unit: 'ops',
        queries: [{ expr: perSecond(redisServer.commandsProcessed), legend: '{{instance}}' }],
        min: 0,
        width: 6,
      }),
    ],
  };
}
