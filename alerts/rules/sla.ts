import type { PerfstackConfig, ServiceConfig } from '../../config/index.js';
import { HTTP_DURATION_BUCKETS, k6, recorded } from '../../metrics/index.js';
import { defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { bucketAbove, bucketAtOrBelow, gauge, justAbove, justBelow, type InputSeries } from './fixtures.js';
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

/** A load test is running: k6 reports virtual users. */
export const LOAD_TEST_RUNNING = `on() sum(${k6.vus}) > 0`;

function recordedFor(service: ServiceConfig, record: string): string {
  return `${record}${selector([equals('service', service.name)])}`;
}

function latencyAlerts(config: PerfstackConfig, service: ServiceConfig): AlertDefinition[] {
  return QUANTILE_TARGETS.flatMap(({ key, name, q }) => {
    const threshold = service.sla.latency[key];
    if (threshold === undefined) return [];
    const field = `services.${service.name}.sla.latency.${key}`;
    const slow = bucketAbove(HTTP_DURATION_BUCKETS, threshold, field);
    const fast = bucketAtOrBelow(HTTP_DURATION_BUCKETS, threshold, field);
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
        // Every request lands in one bucket, so the quantile interpolates inside it.
        firing: (samples) => ({
          series: serviceTraffic(service, { ok: FIXTURE_REQUESTS_PER_SAMPLE, seconds: slow.upper }, samples),
          resultLabels: { service: service.name },
          value: slow.lower + (slow.upper - slow.lower) * q,
        }),
        quiet: (samples) => serviceTraffic(service, { ok: FIXTURE_REQUESTS_PER_SAMPLE, seconds: fast.upper }, samples),
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
  const loadTest = (samples: number): InputSeries[] => [gauge(k6.vus, { testid: 'fixture' }, 10, samples)];
  const withRate = (rps: number, samples: number) => [...serviceTraffic(service, { ok: requestsPerSample(rps) }, samples), ...loadTest(samples)];
  const firingRps = justBelow(minimum);
  return [
    defineAlert(config, {
      name: 'ServiceThroughputLow',
      severity: 'warning',
      team: service.team,
      labels: { service: service.name },
      // Only during a load test: an idle service is not an SLA breach. A service with no traffic
      // at all is left out too, because a load test may target only some services.
      expr: `${recordedFor(service, recorded.requestRate)} < ${promNumber(minimum)} and ${LOAD_TEST_RUNNING}`,
      forMinutes: 5,
      summary: `${service.title}: throughput below ${humanizers.humanize(minimum)} req/s during a load test`,
      description: `${service.name} serves {{ $value | humanize }} req/s while a k6 load test runs, below the SLA minimum of ${humanizers.humanize(minimum)} req/s.`,
      dashboard: 'k6',
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
