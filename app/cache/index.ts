// The reference service's Redis read cache (search results and entities): see docs/caching.md.
import type { Express } from 'express';
import type { ReadCache } from './read-cache.js';

export { ReadCache, CACHE_KEY_PREFIX, CACHE_KEY_VERSION, SEARCH_GENERATION_KEY, MAX_RECONNECT_DELAY_MS, checkRedisUrl, redactRedisUrl } from './read-cache.js';
export type { CacheState, CacheStatus, CachedRead, ReadCacheOptions } from './read-cache.js';
export type { CacheName, SearchCacheResult } from './metrics.js';

/** GET /health/cache: the cache's state. Always 200: without Redis the service still answers, only slower. */
export function cacheHealthRoute(app: Express, cache: ReadCache): void {
  app.get('/health/cache', (_req, res) => {
    res.json(cache.state());
  });
}
