import type { PerfstackConfig } from '../config/index.js';
import { cache } from '../metrics/index.js';
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
