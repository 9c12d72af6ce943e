import type { PerfstackConfig, SloConfig } from '../../config/index.js';
import { dbClient, pgServer, recorded } from '../../metrics/index.js';
import type { RecordingRule, RuleFile } from './alert.js';
import { equals, selector } from './format.js';
import { serverErrorRatioExpr, serviceSeries, slowRequestRatioExpr } from './http.js';

// Recording rules (level:metric:operations): dashboards and alerts read these instead of
// repeating the raw expressions.

/** Burn-rate alert windows (Google SRE workbook); the SLO's own window is added per SLO. */
export const SLO_BURN_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

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

/** The SLO's error ratio (the fraction of bad events) over `window`. */
export function sloErrorRatioExpr(config: PerfstackConfig, slo: SloConfig, window: string): string {
  const service = config.services.find((s) => s.name === slo.service);
  if (!service) throw new Error(`slos: "${slo.name}" names unknown service "${slo.service}"`);
  return slo.sli.kind === 'availability'
    ? serverErrorRatioExpr(service, window)
    : slowRequestRatioExpr(service, slo.sli.thresholdSeconds, window);
}

export function sloWindows(slo: SloConfig): string[] {
  return [...new Set<string>([...SLO_BURN_WINDOWS, slo.window])];
}

function sloRules(config: PerfstackConfig): RecordingRule[] {
  return config.slos.flatMap((slo) =>
    sloWindows(slo).map((window) => ({
      record: recorded.sloErrorRatio(window),
      expr: sloErrorRatioExpr(config, slo, window),
      labels: { slo: slo.name, service: slo.service },
    })),
  );
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
