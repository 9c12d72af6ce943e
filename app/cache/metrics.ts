// The cache's own metrics, registered on the service's registry (names from metrics/index.ts).

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CACHE_OPERATION_BUCKETS, HTTP_DURATION_BUCKETS, cache as names } from '../../metrics/index.js';

export type CacheName = 'search' | 'entity';
export type CacheOperation = 'get' | 'set' | 'invalidate';
export type CacheErrorType = 'timeout' | 'unavailable' | 'other';
/** How GET /api/search was answered: from the cache, from PostgreSQL after a miss, or with caching off. */
export type SearchCacheResult = 'hit' | 'miss' | 'bypass';

export interface CacheMetrics {
  requests: Counter<'cache' | 'result'>;
  operationDuration: Histogram<'cache' | 'operation' | 'result'>;
  errors: Counter<'cache' | 'operation' | 'error_type'>;
  searchDuration: Histogram<'cache_result'>;
  /** Created only when caching is on: no Redis, no gauge (and so no CacheUnavailable alert). */
  up: Gauge | undefined;
}

const CACHES: readonly CacheName[] = ['search', 'entity'];

export function createCacheMetrics(registry: Registry, enabled: boolean): CacheMetrics {
  const { labels } = names;
  const metrics: CacheMetrics = {
    requests: new Counter({ name: names.requests, help: 'Cached reads by result (a Redis error counts as a miss)', labelNames: [labels.cache, labels.result] as const, registers: [registry] }),
    operationDuration: new Histogram({
      name: names.operationDuration,
      help: 'Duration of Redis cache operations by result',
      labelNames: [labels.cache, labels.operation, labels.result] as const,
      buckets: [...CACHE_OPERATION_BUCKETS],
      registers: [registry],
    }),
    errors: new Counter({ name: names.errors, help: 'Failed Redis cache operations (the request was answered from PostgreSQL)', labelNames: [labels.cache, labels.operation, labels.errorType] as const, registers: [registry] }),
    searchDuration: new Histogram({
      name: names.searchDuration,
      help: 'Duration of GET /api/search by how it was answered (cache hit, miss, or caching off)',
      labelNames: [labels.cacheResult] as const,
      buckets: [...HTTP_DURATION_BUCKETS],
      registers: [registry],
    }),
    up: enabled ? new Gauge({ name: names.up, help: '1 while the Redis connection of the read cache is ready, else 0', registers: [registry] }) : undefined,
  };
  if (enabled) {
    // Zero series from the start: rate() and the dashboards see 0 rather than nothing.
    for (const cache of CACHES) {
      for (const result of ['hit', 'miss']) metrics.requests.inc({ cache, result }, 0);
      for (const operation of ['get', 'set', 'invalidate']) for (const errorType of ['timeout', 'unavailable']) metrics.errors.inc({ cache, operation, error_type: errorType }, 0);
    }
    metrics.up?.set(0);
  }
  return metrics;
}
