import type { PerfstackConfig } from '../../config/index.js';
import { HTTP_DURATION_BUCKETS, cache as names } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { counter, gauge, histogram, justAbove, justBelow, quantileMix, type InputSeries } from './fixtures.js';
import { equals, humanizers, promNumber, selector } from './format.js';

// The reference service's Redis read cache (app/cache): hit ratio per cache, Redis errors, Redis
// unreachable, and the search SLA split by how a search was answered (cached < 0.4 s, uncached < 3 s).
// Redis being down costs latency, never answers: every alert here is a warning.

/** The app's scrape job in fixtures (cache metrics come only from the reference service). */
const FIXTURE_JOB = { job: 'perfstack-app', instance: 'app:8080' };
const FIXTURE_REQUESTS_PER_SAMPLE = 1000;
/** The hit ratio is judged over 10m so a short burst of new queries does not decide it. */
export const HIT_RATIO_WINDOW = '10m';
/**
 * A hit ratio stands on at least this many cached reads in the window: fewer are a handful of first
 * reads of new keys (a smoke run, a quiet hour), which always miss, not a cache that fails to help.
 */
export const MIN_CACHED_READS = 100;
/** Minutes Redis must be unreachable before CacheUnavailable fires: a restart takes seconds. */
export const CACHE_UNAVAILABLE_FOR_MINUTES = 2;
const ERRORS_FOR_MINUTES = 5;
const SEARCH_LATENCY_FOR_MINUTES = 10;
const SEARCH_QUANTILE = 0.95;

const CACHES = ['search', 'entity'] as const;
const { labels } = names;

/** Cached reads of `cache` (of one `result`, if given) per job: per second (rate) or in the window (increase). */
function requestsSum(cache: string, result?: string, window = '5m', over: 'rate' | 'increase' = 'rate'): string {
  const matchers = [equals(labels.cache, cache), ...(result ? [equals(labels.result, result)] : [])];
  return `sum by (job, ${labels.cache}) (${over}(${names.requests}${selector(matchers)}[${window}]))`;
}

/** Cached reads of `cache` with `hitRatio` of them hits, plus `errorRatio` of them failing in Redis. */
function cacheTraffic(cache: string, hitRatio: number, samples: number, errorRatio = 0): InputSeries[] {
  const perSample = FIXTURE_REQUESTS_PER_SAMPLE;
  return [
    counter(names.requests, { ...FIXTURE_JOB, [labels.cache]: cache, [labels.result]: 'hit' }, perSample * hitRatio, samples),
    counter(names.requests, { ...FIXTURE_JOB, [labels.cache]: cache, [labels.result]: 'miss' }, perSample * (1 - hitRatio), samples),
    counter(names.errors, { ...FIXTURE_JOB, [labels.cache]: cache, [labels.operation]: 'get', [labels.errorType]: 'timeout' }, perSample * errorRatio, samples),
  ];
}

export function hitRatioAlerts(config: PerfstackConfig): AlertDefinition[] {
  return CACHES.flatMap((cache) => {
    const minimum = config.cache[cache].minHitRatio;
    // 0 means "no floor": nothing can be below it.
    if (minimum === 0) return [];
    const low = justBelow(minimum);
    const resultLabels = { job: FIXTURE_JOB.job, [labels.cache]: cache };
    return [
      defineAlert(config, {
        name: 'CacheHitRatioLow',
        severity: 'warning',
        team: config.cache.team,
        labels: { [labels.cache]: cache },
        expr:
          `${requestsSum(cache, 'hit', HIT_RATIO_WINDOW)} / ${requestsSum(cache, undefined, HIT_RATIO_WINDOW)} < ${promNumber(minimum)}` +
          ` and on(job, ${labels.cache}) ${requestsSum(cache, undefined, HIT_RATIO_WINDOW, 'increase')} >= ${MIN_CACHED_READS}`,
        forMinutes: config.cache.hitRatioForMinutes,
        summary: `The ${cache} cache’s hit ratio is below ${humanizers.humanizePercentage(minimum)}`,
        description: `Only {{ $value | humanizePercentage }} of cached ${cache} reads of {{ $labels.job }} were answered from Redis over ${HIT_RATIO_WINDOW} (floor ${humanizers.humanizePercentage(minimum)}, cache.${cache}.minHitRatio): PostgreSQL carries the load the cache should take.`,
        dashboard: 'service',
        threshold: compare('<', minimum),
        firing: (samples) => ({ series: cacheTraffic(cache, low, samples), resultLabels, value: low }),
        quiet: (samples) => cacheTraffic(cache, justAbove(minimum, 1), samples),
      }),
    ];
  });
}

function errorAlert(config: PerfstackConfig): AlertDefinition {
  const limit = config.cache.maxErrorRatio;
  const firing = justAbove(limit, 1);
  const errors = `sum by (job, ${labels.cache}) (rate(${names.errors}[5m]))`;
  const all = `sum by (job, ${labels.cache}) (rate(${names.requests}[5m]))`;
  return defineAlert(config, {
    name: 'CacheErrorsHigh',
    severity: 'warning',
    team: config.cache.team,
    expr: `${errors} / ${all} > ${promNumber(limit)}`,
    forMinutes: ERRORS_FOR_MINUTES,
    summary: `Redis cache operations fail for more than ${humanizers.humanizePercentage(limit)} of cached reads`,
    description: `{{ $labels.job }}: Redis errors (timeouts or refused connections) amount to {{ $value | humanizePercentage }} of cached {{ $labels.cache }} reads over 5 minutes; those reads were answered from PostgreSQL, slower.`,
    dashboard: 'service',
    threshold: compare('>', limit),
    firing: (samples) => ({ series: cacheTraffic('search', 0.5, samples, firing), resultLabels: { job: FIXTURE_JOB.job, [labels.cache]: 'search' }, value: firing }),
    quiet: (samples) => cacheTraffic('search', 0.5, samples, justBelow(limit)),
  });
}

function unavailableAlert(config: PerfstackConfig): AlertDefinition {
  return defineAlert(config, {
    name: 'CacheUnavailable',
    severity: 'warning',
    team: config.cache.team,
    expr: `${names.up} == 0`,
    threshold: compare('==', 0),
    forMinutes: CACHE_UNAVAILABLE_FOR_MINUTES,
    summary: 'The reference service cannot reach its Redis cache',
    description: `{{ $labels.instance }} of {{ $labels.job }} has had no Redis connection for ${CACHE_UNAVAILABLE_FOR_MINUTES} minutes: every cached read goes to PostgreSQL (uncached latency, more database load).`,
    dashboard: 'service',
    firing: (samples) => ({ series: [gauge(names.up, FIXTURE_JOB, 0, samples)], resultLabels: FIXTURE_JOB }),
    quiet: (samples) => [gauge(names.up, FIXTURE_JOB, 1, samples)],
  });
}

/** p95 of searches answered a given way (histogram over cache_result values). */
export function searchLatencyExpr(cacheResults: readonly string[]): string {
  const matcher = cacheResults.length === 1 ? equals(labels.cacheResult, cacheResults[0]!) : `${labels.cacheResult}=~"${cacheResults.join('|')}"`;
  return `histogram_quantile(${SEARCH_QUANTILE}, sum by (job, le) (rate(${names.searchDuration}_bucket${selector([matcher])}[5m])))`;
}

/** The search SLA split: cached searches (hits) and uncached ones (misses, and searches with caching off). */
export const SEARCH_SLA_SPLIT = [
  { name: 'SearchCachedLatencyHigh', what: 'cached', results: ['hit'], target: (c: PerfstackConfig) => c.cache.searchLatency.cachedP95Seconds, field: 'cache.searchLatency.cachedP95Seconds' },
  { name: 'SearchUncachedLatencyHigh', what: 'uncached', results: ['miss', 'bypass'], target: (c: PerfstackConfig) => c.cache.searchLatency.uncachedP95Seconds, field: 'cache.searchLatency.uncachedP95Seconds' },
] as const;

function searchLatencyAlerts(config: PerfstackConfig): AlertDefinition[] {
  return SEARCH_SLA_SPLIT.map((split) => {
    const target = split.target(config);
    const slow = justAbove(target);
    const searches = (seconds: number, samples: number) =>
      histogram(names.searchDuration, { ...FIXTURE_JOB, [labels.cacheResult]: split.results[0] }, HTTP_DURATION_BUCKETS, quantileMix(HTTP_DURATION_BUCKETS, SEARCH_QUANTILE, seconds, 6000, split.field), samples);
    return defineAlert(config, {
      name: split.name,
      severity: 'warning',
      team: config.cache.team,
      labels: { service: 'search' },
      expr: `${searchLatencyExpr(split.results)} > ${promNumber(target)}`,
      forMinutes: SEARCH_LATENCY_FOR_MINUTES,
      summary: `p95 of ${split.what} searches above the ${humanizers.humanizeDuration(target)} SLA`,
      description: `p95 of ${split.what} GET /api/search requests (cache_result ${split.results.join(' or ')}) of {{ $labels.job }} is {{ $value | humanizeDuration }} over 5 minutes, above the SLA of ${humanizers.humanizeDuration(target)} (${split.field}).`,
      dashboard: 'service',
      threshold: compare('>', target),
      firing: (samples) => ({ series: searches(slow, samples), resultLabels: { job: FIXTURE_JOB.job }, value: slow }),
      quiet: (samples) => searches(justBelow(target), samples),
    });
  });
}

export function cacheRuleFile(config: PerfstackConfig): RuleFile {
  return {
    name: 'cache',
    dependsOn: [],
    groups: [{ name: 'perfstack-cache', alerts: [...hitRatioAlerts(config), errorAlert(config), unavailableAlert(config), ...searchLatencyAlerts(config)] }],
  };
}
