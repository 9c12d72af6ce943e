import type { PerfstackConfig, SloConfig } from '../../config/index.js';
import { dbClient, pgServer, recorded } from '../../metrics/index.js';
import type { RecordingRule, RuleFile } from './alert.js';
import { equals, selector } from './format.js';
import { SERVER_ERROR_MATCHER, serverErrorRatioExpr, serviceSeries } from './http.js';
import { probeSelector } from './probes.js';

// Recording rules (level:metric:operations): dashboards and alerts read these instead of
// repeating the raw expressions.

/** Burn-rate alert windows (Google SRE workbook); the SLO's own window is added per SLO. */
export const SLO_BURN_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/**
 * Windows up to this long are computed from the raw series; longer ones (1d, 3d, the SLO window)
 * from the 5-minute recorded event rates, as Sloth does: sum_over_time over one recorded series
 * per SLO instead of rate() over every raw histogram series for 30 days, every evaluation.
 */
export const SLO_RAW_WINDOWS: readonly string[] = ['5m', '30m', '1h', '2h', '6h'];

/** Recorded per SLO: bad and all events per second over 5 minutes (probes included for availability). */
export const SLO_EVENT_RECORDS = {
  errors: 'slo:sli_errors:rate5m',
  total: 'slo:sli_events:rate5m',
} as const;

const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;

function serviceRules(config: PerfstackConfig): RecordingRule[] {
  return config.services.flatMap((service) => {
    const labels = { service: service.name };
    return [
      { record: recorded.requestRate, expr: `sum(rate(${serviceSeries(service, '_count')}[5m]))`, labels },
      { record: recorded.errorRatio, expr: serverErrorRatioExpr(service, '5m'), labels },
      ...Object.entries(QUANTILES).map(([name, q]) => ({
        record: recorded.latencyQuantile(name as keyof typeof QUANTILES),
        expr: `histogram_quantile(${q}, sum by (le) (rate(${serviceSeries(service, '_bucket')}[5m])))`,
        labels,
      })),
    ];
  });
}

function sloService(config: PerfstackConfig, slo: SloConfig) {
  const service = config.services.find((s) => s.name === slo.service);
  if (!service) throw new Error(`slos: "${slo.name}" names unknown service "${slo.service}"`);
  return service;
}

/** `x or vector(0)`: an absent series (no 5xx yet, no probe yet, the service dead) counts as nothing. */
const orZero = (expr: string) => `(${expr} or vector(0))`;

/**
 * Bad and all events per second over `window`. Availability counts the server's 5xx answers plus
 * the blackbox probes of the service's health endpoint: when the service is dead its own metrics
 * vanish, but every failed probe is a bad event, so the budget burns. Latency counts requests
 * slower than the threshold.
 */
export function sloEventRates(config: PerfstackConfig, slo: SloConfig, window: string): { errors: string; total: string } {
  const service = sloService(config, slo);
  if (slo.sli.kind === 'availability') {
    const probes = probeSelector(service);
    const seconds = `${windowSeconds(window)}`;
    return {
      errors: `${orZero(`sum(rate(${serviceSeries(service, '_count', [SERVER_ERROR_MATCHER])}[${window}]))`)} + ${orZero(
        `sum(count_over_time(${probes}[${window}]) - sum_over_time(${probes}[${window}])) / ${seconds}`,
      )}`,
      total: `${orZero(`sum(rate(${serviceSeries(service, '_count')}[${window}]))`)} + ${orZero(`sum(count_over_time(${probes}[${window}])) / ${seconds}`)}`,
    };
  }
  const fast = `sum(rate(${serviceSeries(service, '_bucket', [equals('le', String(slo.sli.thresholdSeconds))])}[${window}]))`;
  const all = `sum(rate(${serviceSeries(service, '_count')}[${window}]))`;
  return { errors: `${all} - ${fast}`, total: all };
}

/** A Prometheus duration in seconds (whole units only, as the schema allows). */
export function windowSeconds(window: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d|w)$/.exec(window);
  if (!match) throw new Error(`not a Prometheus duration: ${window}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/** The SLO's error ratio (the fraction of bad events) over `window`: raw for short windows, from the 5m records for long ones. */
export function sloErrorRatioExpr(config: PerfstackConfig, slo: SloConfig, window: string): string {
  if (SLO_RAW_WINDOWS.includes(window)) {
    const { errors, total } = sloEventRates(config, slo, window);
    return `(${errors}) / (${total})`;
  }
  const sel = selector([equals('slo', slo.name)]);
  return `sum_over_time(${SLO_EVENT_RECORDS.errors}${sel}[${window}]) / sum_over_time(${SLO_EVENT_RECORDS.total}${sel}[${window}])`;
}

export function sloWindows(slo: SloConfig): string[] {
  return [...new Set<string>([...SLO_BURN_WINDOWS, slo.window])].sort((a, b) => windowSeconds(a) - windowSeconds(b));
}

/** The longest window any SLO's rules read: retention must cover it. */
export function longestSloWindowSeconds(slos: readonly SloConfig[]): number {
  return Math.max(0, ...slos.flatMap((slo) => sloWindows(slo).map(windowSeconds)));
}

function sloRules(config: PerfstackConfig): RecordingRule[] {
  return config.slos.flatMap((slo) => {
    const labels = { slo: slo.name, service: slo.service };
    const events = sloEventRates(config, slo, '5m');
    return [
      { record: SLO_EVENT_RECORDS.errors, expr: events.errors, labels },
      { record: SLO_EVENT_RECORDS.total, expr: events.total, labels },
      ...sloWindows(slo).map((window) => ({ record: recorded.sloErrorRatio(window), expr: sloErrorRatioExpr(config, slo, window), labels })),
    ];
  });
}

const POOL = dbClient.labels.pool;

function databaseRules(): RecordingRule[] {
  const sumByPool = (expr: string) => `sum by (${POOL}) (${expr})`;
  const sumByDatabase = (expr: string) => `sum by (datname) (${expr})`;
  const hitRatio = (hit: string, miss: string, window: string) =>
    `${sumByDatabase(`rate(${hit}[${window}])`)} / (${sumByDatabase(`rate(${hit}[${window}])`)} + ${sumByDatabase(`rate(${miss}[${window}])`)})`;
  return [
    {
      record: recorded.poolUtilisation,
      expr: `${sumByPool(`${dbClient.connectionCount}${selector([equals(dbClient.labels.state, 'used')])}`)} / ${sumByPool(dbClient.connectionMax)}`,
    },
    {
      record: recorded.dbAverageQuery,
      expr: `${sumByPool(`rate(${dbClient.operationDuration}_sum[5m])`)} / ${sumByPool(`rate(${dbClient.operationDuration}_count[5m])`)}`,
    },
    { record: recorded.indexUsage, expr: hitRatio(pgServer.idxScan, pgServer.seqScan, '1h') },
    { record: recorded.cacheHit, expr: hitRatio(pgServer.blksHit, pgServer.blksRead, '10m') },
  ];
}

export function recordingRuleFile(config: PerfstackConfig): RuleFile {
  return {
    name: 'recording',
    dependsOn: [],
    groups: [
      { name: 'perfstack-http-recording', recordingRules: serviceRules(config) },
      { name: 'perfstack-slo-recording', recordingRules: sloRules(config) },
      { name: 'perfstack-database-recording', recordingRules: databaseRules() },
    ],
  };
}
