import type { PerfstackConfig, ServiceConfig } from '../../config/index.js';
import { HTTP_DURATION_BUCKETS, k6, recorded } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { counter, justAbove, justBelow, quantileMix, type InputSeries } from './fixtures.js';
import { SCENARIOS } from '../../k6/scenarios.js';
import { equals, humanizers, promNumber, selector } from './format.js';
import { requestsPerSample, requestsWithErrorRatio, serviceTraffic } from './http.js';

// SLA alerts per service: latency percentiles, error ratio (warning and critical under one
// alertname so Alertmanager can inhibit the warning), and throughput while a load test runs.

const QUANTILE_TARGETS = [
  { key: 'p50Seconds', name: 'p50', q: 0.5 },
  { key: 'p95Seconds', name: 'p95', q: 0.95 },
  { key: 'p99Seconds', name: 'p99', q: 0.99 },
] as const;

/** Steady traffic for fixtures that are not about throughput. */
const FIXTURE_REQUESTS_PER_SAMPLE = 6000;

/**
 * The scenarios whose k6 thresholds assert throughput (k6/scenarios.ts; imported from the file
 * itself, not k6/index.ts, so rules do not load the load engine).
 */
export const THROUGHPUT_SCENARIOS = SCENARIOS.filter((s) => s.throughput).map((s) => s.name);

/** The service receives load-test requests from a scenario that asserts throughput. */
export function underThroughputLoad(service: ServiceConfig): string {
  const matchers = [equals('service', service.name), `${k6.labels.scenario}=~${JSON.stringify(THROUGHPUT_SCENARIOS.join('|'))}`];
  return `sum by (service) (rate(${k6.httpReqs}${selector(matchers)}[5m])) > 0`;
}

function recordedFor(service: ServiceConfig, record: string): string {
  return `${record}${selector([equals('service', service.name)])}`;
}

function latencyAlerts(config: PerfstackConfig, service: ServiceConfig): AlertDefinition[] {
  return QUANTILE_TARGETS.flatMap(({ key, name, q }) => {
    const threshold = service.sla.latency[key];
    if (threshold === undefined) return [];
    const field = `services.${service.name}.sla.latency.${key}`;
    const slow = justAbove(threshold);
    const fast = justBelow(threshold);
    const mix = (seconds: number) => quantileMix(HTTP_DURATION_BUCKETS, q, seconds, FIXTURE_REQUESTS_PER_SAMPLE, field);
    const alertName = `ServiceLatency${name.toUpperCase()}High`;
    return [
      defineAlert(config, {
        name: alertName,
        severity: 'warning',
        team: service.team,
        labels: { service: service.name },
        expr: `${recordedFor(service, recorded.latencyQuantile(name))} > ${promNumber(threshold)}`,
        forMinutes: 10,
        summary: `${service.title}: ${name} latency above the ${humanizers.humanizeDuration(threshold)} SLA`,
        description: `${name} latency of ${service.name} is {{ $value | humanizeDuration }} over the last 5 minutes, above the SLA of ${humanizers.humanizeDuration(threshold)}.`,
        dashboard: 'service',
        threshold: compare('>', threshold),
        // Latencies mixed so that the interpolated quantile is 10 % above (firing) or below (quiet) the SLA.
        firing: (samples) => ({
          series: serviceTraffic(service, { ok: 0, okLatencies: mix(slow) }, samples),
          resultLabels: { service: service.name },
          value: slow,
        }),
        quiet: (samples) => serviceTraffic(service, { ok: 0, okLatencies: mix(fast) }, samples),
      }),
    ];
  });
}

function errorRateAlerts(config: PerfstackConfig, service: ServiceConfig): AlertDefinition[] {
  const limits = service.sla.errorRate;
  if (!limits) return [];
  // The critical tier waits less than the warning tier so each can be tested alone; when both
  // fire, Alertmanager inhibits the warning (same alertname and service).
  const tiers = [
    { severity: 'critical', threshold: limits.critical, forMinutes: 5, firingRatio: justAbove(limits.critical, 1), quietRatio: justBelow(limits.critical, limits.warning) },
    { severity: 'warning', threshold: limits.warning, forMinutes: 15, firingRatio: justAbove(limits.warning, limits.critical), quietRatio: justBelow(limits.warning) },
  ] as const;
  return tiers.map((tier) =>
    defineAlert(config, {
      name: 'ServiceErrorRateHigh',
      severity: tier.severity,
      team: service.team,
      labels: { service: service.name },
      // No traffic gives no ratio; the request-rate guard makes that explicit.
      expr: `${recordedFor(service, recorded.errorRatio)} > ${promNumber(tier.threshold)} and on(service) ${recordedFor(service, recorded.requestRate)} > 0`,
      forMinutes: tier.forMinutes,
      summary: `${service.title}: 5xx ratio above ${humanizers.humanizePercentage(tier.threshold)}`,
      description: `${service.name} answers {{ $value | humanizePercentage }} of requests with a 5xx status over the last 5 minutes (${tier.severity} above ${humanizers.humanizePercentage(tier.threshold)}).`,
      dashboard: 'service',
      threshold: compare('>', tier.threshold),
      firing: (samples) => ({
        series: serviceTraffic(service, requestsWithErrorRatio(tier.firingRatio), samples),
        resultLabels: { service: service.name },
        value: tier.firingRatio,
      }),
      quiet: (samples) => serviceTraffic(service, requestsWithErrorRatio(tier.quietRatio), samples),
    }),
  );
}

function throughputAlerts(config: PerfstackConfig, service: ServiceConfig): AlertDefinition[] {
  const minimum = service.sla.minThroughputRps;
  if (minimum === undefined) return [];
  const loadTest = (scenario: string, samples: number): InputSeries[] => [
    counter(k6.httpReqs, { testid: 'fixture', [k6.labels.scenario]: scenario, service: service.name }, 600, samples),
  ];
  const withRate = (rps: number, samples: number, scenario = THROUGHPUT_SCENARIOS[0] ?? 'load') => [
    ...serviceTraffic(service, { ok: requestsPerSample(rps) }, samples),
    ...loadTest(scenario, samples),
  ];
  const firingRps = justBelow(minimum);
  return [
    defineAlert(config, {
      name: 'ServiceThroughputLow',
      severity: 'warning',
      team: service.team,
      labels: { service: service.name },
      // Only for a service that a throughput-asserting scenario (load, soak, …) is driving right now:
      // an idle service, or one that a smoke or stress run does not hold to throughput, is no breach.
      expr: `${recordedFor(service, recorded.requestRate)} < ${promNumber(minimum)} and on(service) ${underThroughputLoad(service)}`,
      forMinutes: 5,
      summary: `${service.title}: throughput below ${humanizers.humanize(minimum)} req/s during a load test`,
      description: `${service.name} serves {{ $value | humanize }} req/s while a load test that asserts throughput drives it, below the SLA minimum of ${humanizers.humanize(minimum)} req/s.`,
      dashboard: 'k6',
      threshold: compare('<', minimum),
      firing: (samples) => ({ series: withRate(firingRps, samples), resultLabels: { service: service.name }, value: firingRps }),
      quiet: (samples) => withRate(justAbove(minimum), samples),
    }),
  ];
}

export function slaRuleFile(config: PerfstackConfig): RuleFile {
  return {
    name: 'sla',
    dependsOn: ['recording'],
    groups: [
      {
        name: 'perfstack-sla',
        alerts: config.services.flatMap((service) => [
          ...latencyAlerts(config, service),
          ...errorRateAlerts(config, service),
          ...throughputAlerts(config, service),
        ]),
      },
    ],
  };
}
