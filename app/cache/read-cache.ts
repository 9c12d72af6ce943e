// A read-through cache in Redis for search results and entities. Redis is an optimisation, never a
// dependency: every Redis failure (down, slow, refusing) turns into a miss answered from PostgreSQL,
// is counted, and never reaches the client or crashes the process.

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { CacheConfig } from '../../config/index.js';
import { createCacheMetrics, type CacheErrorType, type CacheMetrics, type CacheName, type CacheOperation, type SearchCacheResult } from './metrics.js';

/** Bumped when the shape of a cached value changes: old entries are then never read again. */
export const CACHE_KEY_VERSION = 'v1';
export const CACHE_KEY_PREFIX = `perfstack:${CACHE_KEY_VERSION}`;
/** Entity writes INCR it; search keys embed it, so one INCR invalidates every cached search. */
export const SEARCH_GENERATION_KEY = `${CACHE_KEY_PREFIX}:search:generation`;
/** How long a reconnect waits at most between attempts. */
export const MAX_RECONNECT_DELAY_MS = 2000;
/** How long a fresh connection may take before the attempt is abandoned (and retried later). */
const CONNECT_TIMEOUT_MS = 1000;

export type CacheStatus = 'disabled' | 'connecting' | 'up' | 'down';

export interface CacheState {
  status: CacheStatus;
  /** redis://host:port/db without credentials; undefined when caching is off. */
  redis: string | undefined;
  /** An invalidation failed: reads skip the cache until a full flush of perfstack's keys succeeds. */
  flushPending: boolean;
  lastError: string | undefined;
}

export interface CachedRead<T> {
  value: T | undefined;
  result: SearchCacheResult;
}

export interface ReadCacheOptions {
  /** redis://…; undefined or enabled=false: every read goes to PostgreSQL ("bypass"). */
  redisUrl: string | undefined;
  enabled: boolean;
  config: CacheConfig;
  registry: Registry;
  log: (line: string) => void;
}

/** Strips user and password so the URL can be logged and shown on /health/cache. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable redis URL)';
  }
}

/** Checks a --redis-url / redisUrl value; throws naming the field. */
export function checkRedisUrl(url: string, field = 'redisUrl'): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${field} must be a redis:// URL such as redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`${field} must be a redis:// (or rediss://) URL, got ${JSON.stringify(url)}`);
  }
}

function classify(error: unknown): CacheErrorType {
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out|timeout/i.test(message)) return 'timeout';
  if (/writeable|closed|ECONNREFUSED|ECONNRESET|EPIPE|max retries|connect|not ready|LOADING/i.test(message)) return 'unavailable';
  return 'other';
}

/** Ids arrive as URL text: 007 and 7 are the same entity, so the key holds the canonical number. */
function entityKey(id: number | string): string {
  return `${CACHE_KEY_PREFIX}:entity:${BigInt(id).toString()}`;
}

function hashKey(parts: unknown): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('base64url');
}

export class ReadCache {
  readonly enabled: boolean;
  private readonly client: Redis | undefined;
  private readonly metrics: CacheMetrics;
  private readonly config: CacheConfig;
  private readonly log: (line: string) => void;
  private readonly redisLabel: string | undefined;
  private status: CacheStatus;
  private flushPending = false;
  private flushing: Promise<boolean> | undefined;
  private lastError: string | undefined;
  private closed = false;

  constructor(options: ReadCacheOptions) {
    this.enabled = options.enabled && options.redisUrl !== undefined;
    this.config = options.config;
    this.log = options.log;
    this.metrics = createCacheMetrics(options.registry, this.enabled);
    this.status = this.enabled ? 'connecting' : 'disabled';
    if (!this.enabled || !options.redisUrl) return;
    checkRedisUrl(options.redisUrl);
    this.redisLabel = redactRedisUrl(options.redisUrl);
    this.client = new Redis(options.redisUrl, {
      // A slow Redis must cost a request at most this much before PostgreSQL answers instead.
      commandTimeout: options.config.timeoutMs,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // While disconnected, fail at once (a miss) instead of queueing behind the reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      // Reconnect forever, backing off to MAX_RECONNECT_DELAY_MS: Redis may come back at any time.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), MAX_RECONNECT_DELAY_MS),
      reconnectOnError: () => false,
      lazyConnect: false,
    });
    this.client.on('ready', () => {
      if (this.status !== 'up') this.log(`cache: connected to ${this.redisLabel}`);
      this.setStatus('up');
      if (this.flushPending) void this.flush();
    });
    // Without an 'error' listener ioredis would re-throw as an unhandled 'error' event and crash.
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
      if (this.status !== 'down') this.log(`cache: Redis at ${this.redisLabel} unavailable (${error.message}); reads go to PostgreSQL`);
      this.setStatus('down');
    });
    this.client.on('close', () => {
      if (this.closed) return;
      if (this.status === 'up') this.log(`cache: connection to ${this.redisLabel} closed; reads go to PostgreSQL while it reconnects`);
      this.setStatus('down');
    });
  }

  private setStatus(status: CacheStatus): void {
    this.status = status;
    this.metrics.up?.set(status === 'up' ? 1 : 0);
  }

  state(): CacheState {
    return { status: this.status, redis: this.redisLabel, flushPending: this.flushPending, lastError: this.lastError };
  }

  /** Resolves true once connected, false after timeoutMs (caching then just starts later). */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    if (client.status === 'ready') return true;
    return new Promise<boolean>((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      client.once('ready', onReady);
    });
  }

  /** Runs one Redis operation, timing it; undefined on failure (already counted and remembered). */
  private async run<T>(cache: CacheName, operation: CacheOperation, call: (client: Redis) => Promise<T>, resultOf: (value: T) => string): Promise<{ ok: true; value: T } | { ok: false }> {
    const client = this.client!;
    const start = performance.now();
    try {
      const value = await call(client);
      this.metrics.operationDuration.observe({ cache, operation, result: resultOf(value) }, (performance.now() - start) / 1000);
      return { ok: true, value };
    } catch (error) {
      this.metrics.operationDuration.observe({ cache, operation, result: 'error' }, (performance.now() - start) / 1000);
      this.metrics.errors.inc({ cache, operation, error_type: classify(error) });
      this.lastError = (error as Error).message;
      return { ok: false };
    }
  }

  private async lookup(cache: CacheName, key: unknown): Promise<{ ok: true; redisKey: string; cached: string | null } | { ok: false }> {
    const outcome = await this.run(
      cache,
      'get',
      async (client) => {
        if (cache === 'entity') {
          const redisKey = entityKey(key as number | string);
          return { redisKey, cached: await client.get(redisKey) };
        }
        const generation = (await client.get(SEARCH_GENERATION_KEY)) ?? '0';
        const redisKey = `${CACHE_KEY_PREFIX}:search:g${generation}:${hashKey(key)}`;
        return { redisKey, cached: await client.get(redisKey) };
      },
      (found) => (found.cached === null ? 'miss' : 'hit'),
    );
    return outcome.ok ? { ok: true, ...outcome.value } : { ok: false };
  }

  /**
   * The cached value of `key` in `cache`, or `load()`'s (stored for the cache's TTL unless it is
   * undefined). Redis errors make it a miss; `load()`'s own errors propagate unchanged.
   */
  async read<T>(cache: CacheName, key: unknown, load: () => Promise<T | undefined>): Promise<CachedRead<T>> {
    if (!this.enabled) return { value: await load(), result: 'bypass' };
    const usable = !this.flushPending || (await this.flush());
    const found = usable ? await this.lookup(cache, key) : ({ ok: false } as const);
    if (found.ok && found.cached !== null) {
      try {
        const value = JSON.parse(found.cached) as T;
        this.metrics.requests.inc({ cache, result: 'hit' });
        return { value, result: 'hit' };
      } catch {
        // A value this version cannot read: treat as a miss and overwrite it below.
      }
    }
    this.metrics.requests.inc({ cache, result: 'miss' });
    const value = await load();
    // Store only after a working lookup: when Redis just failed, a SET would only add a second wait.
    if (found.ok && value !== undefined) {
      const ttl = this.config[cache].ttlSeconds;
      await this.run(cache, 'set', (client) => client.set(found.redisKey, JSON.stringify(value), 'EX', ttl), () => 'ok');
    }
    return { value, result: 'miss' };
  }

  /** After an entity write: its own key goes, and every cached search (new generation). */
  async invalidateEntity(id: number | string | undefined): Promise<void> {
    if (!this.enabled) return;
    const results = await Promise.all([
      id === undefined ? Promise.resolve({ ok: true }) : this.run('entity', 'invalidate', (client) => client.del(entityKey(id)), () => 'ok'),
      this.run('search', 'invalidate', (client) => client.incr(SEARCH_GENERATION_KEY), () => 'ok'),
    ]);
    if (results.some((r) => !r.ok) && !this.flushPending) {
      // The write happened in PostgreSQL but Redis may still hold the old value: stop reading the
      // cache until every perfstack key is gone (retried on each read and on reconnect).
      this.flushPending = true;
      this.log('cache: an invalidation failed; reads skip the cache until it is flushed');
    }
  }

  /** Drops every entity key and starts a new search generation; true when done. */
  private flush(): Promise<boolean> {
    this.flushing ??= (async () => {
      const outcome = await this.run(
        'entity',
        'invalidate',
        async (client) => {
          let cursor = '0';
          do {
            const [next, keys] = await client.scan(cursor, 'MATCH', `${CACHE_KEY_PREFIX}:entity:*`, 'COUNT', 1000);
            if (keys.length > 0) await client.unlink(...keys);
            cursor = next;
          } while (cursor !== '0');
          await client.incr(SEARCH_GENERATION_KEY);
        },
        () => 'ok',
      );
      if (outcome.ok) {
        this.flushPending = false;
        this.log('cache: flushed after a failed invalidation; reads use the cache again');
      }
      this.flushing = undefined;
      return outcome.ok;
    })();
    return this.flushing;
  }

  /** Records how a search was answered (the SLA's cached/uncached split). */
  observeSearch(result: SearchCacheResult, seconds: number): void {
    this.metrics.searchDuration.observe({ cache_result: result }, seconds);
  }

  async close(): Promise<void> {
    if (!this.client || this.closed) return;
    this.closed = true;
    this.client.disconnect(false);
    this.setStatus('down');
  }
}
