import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PerfstackConfig, ServiceConfig, SloConfig } from '../config/index.js';
import { http, recorded } from '../metrics/index.js';
import {
  BUDGET_REMAINING_THRESHOLDS,
  JOB_AND_INSTANCE,
  composeDashboard,
  formatNumber,
  formatPercent,
  gaugePanel,
  histogramQuantile,
  lowerLimit,
  promString,
  rate,
  regexAlternation,
  selector,
  standardVariables,
  statPanel,
  sumBy,
  timeseriesPanel,
  upperLimit,
  warningCriticalLimits,
  type AnyPanelBuilder,
  type Section,
} from './common.js';
import { budgetRemainingExpr } from './slo.js';
import { cacheSection, redisServerSection } from './cache.js';

// Service overview: a RED row per configured service, from the raw HTTP histogram.

const REQUEST_COUNT = `${http.requestDuration}_count`;
const SERVER_ERROR = `${http.labels.statusCode}=~"5.."`;
const ROUTE = http.labels.route;

/** $job/$instance, narrowed to the service's routes when it lists any. */
export function serviceMatchers(service: ServiceConfig): string[] {
  const routes = service.routes.length > 0 ? `${ROUTE}=~${promString(regexAlternation(service.routes))}` : undefined;
  return routes === undefined ? [...JOB_AND_INSTANCE] : [...JOB_AND_INSTANCE, routes];
}

/** 5xx share of requests; `or … * 0` turns "no errors" into 0 instead of no data. */
export function serverErrorRatio(matchers: readonly string[], by: readonly string[]): string {
  const all = sumBy(by, rate(selector(REQUEST_COUNT, matchers)));
  const errors = sumBy(by, rate(selector(REQUEST_COUNT, [...matchers, SERVER_ERROR])));
  return `(${errors} or ${all} * 0) / ${all}`;
}

const QUANTILES = [
  { name: 'p50', quantile: 0.5, target: (s: ServiceConfig) => s.sla.latency.p50Seconds },
  { name: 'p95', quantile: 0.95, target: (s: ServiceConfig) => s.sla.latency.p95Seconds },
  { name: 'p99', quantile: 0.99, target: (s: ServiceConfig) => s.sla.latency.p99Seconds },
] as const;

function routeScope(service: ServiceConfig): string {
  return service.routes.length > 0 ? `routes ${service.routes.join(', ')}` : 'every route of the job';
}

function serviceSection(service: ServiceConfig, slos: readonly SloConfig[]): Section {
  const matchers = serviceMatchers(service);
  const scope = `${service.title}: ${routeScope(service)}.`;
  const { minThroughputRps, errorRate, availability } = service.sla;
  const panels: AnyPanelBuilder[] = [
    timeseriesPanel({
      title: `${service.title}: request rate by route`,
      description: `Requests per second per route, and in total. ${scope}${
        minThroughputRps === undefined ? '' : ` Dashed line: SLA minimum throughput ${formatNumber(minThroughputRps)} req/s (compare with the total).`
      }`,
      unit: 'reqps',
      queries: [
        { expr: sumBy([ROUTE], rate(selector(REQUEST_COUNT, matchers))), legend: `{{${ROUTE}}}` },
        { expr: sumBy([], rate(selector(REQUEST_COUNT, matchers))), legend: 'total' },
      ],
      thresholds: minThroughputRps === undefined ? undefined : lowerLimit(minThroughputRps),
      min: 0,
    }),
    timeseriesPanel({
      title: `${service.title}: error ratio (5xx) by route`,
      description: `Share of requests answered with a 5xx status, per route. ${scope}${
        errorRate === undefined
          ? ''
          : ` Dashed lines: SLA warning ${formatPercent(errorRate.warning)} and critical ${formatPercent(errorRate.critical)}.`
      }`,
      unit: 'percentunit',
      queries: [{ expr: serverErrorRatio(matchers, [ROUTE]), legend: `{{${ROUTE}}}` }],
      thresholds: errorRate === undefined ? undefined : warningCriticalLimits(errorRate.warning, errorRate.critical),
      min: 0,
    }),
    ...QUANTILES.map(({ name, quantile, target }) => {
      const sla = target(service);
      return timeseriesPanel({
        title: `${service.title}: ${name} latency by route`,
        description: `${name} of the server-side request duration per route, from the ${http.requestDuration} histogram. ${scope}${
          sla === undefined ? ` No ${name} SLA is configured.` : ` Dashed line: SLA ${name} ≤ ${formatNumber(sla)} s.`
        }`,
        unit: 's',
        queries: [{ expr: histogramQuantile(quantile, http.requestDuration, matchers, [ROUTE]), legend: `{{${ROUTE}}}` }],
        thresholds: sla === undefined ? undefined : upperLimit(sla),
        min: 0,
        width: 8,
      });
    }),
    statPanel({
      title: `${service.title}: availability`,
      description: `Share of requests without a 5xx status, averaged over the selected time range. ${scope}${
        availability === undefined ? '' : ` Green at or above the SLA of ${formatPercent(availability)}.`
      }`,
      unit: 'percentunit',
      queries: [{ expr: `1 - (${serverErrorRatio(matchers, [])})`, legend: 'availability' }],
      thresholds: availability === undefined ? undefined : lowerLimit(availability),
      reduce: 'mean',
      width: 6,
    }),
  ];
  if (slos.length > 0) {
    panels.push(
      gaugePanel({
        title: `${service.title}: error budget remaining`,
        description: `Error budget left per SLO of ${service.title}: 1 - (error ratio over the SLO window / (1 - objective)), from the ${recorded.sloErrorRatio(
          '<window>',
        )} recording rules. ${slos.map((s) => `${s.name}: ${formatPercent(s.objective)} over ${s.window}`).join('; ')}. Below 0 the budget is spent.`,
        unit: 'percentunit',
        queries: slos.map((slo) => ({ expr: budgetRemainingExpr(slo), legend: slo.name })),
        thresholds: BUDGET_REMAINING_THRESHOLDS,
        min: 0,
        max: 1,
        width: 6,
      }),
    );
  }
  panels.push(
    timeseriesPanel({
      title: `${service.title}: active requests`,
      description: `Requests in flight per instance (${http.activeRequests}). The gauge counts the whole process, not single routes.`,
      unit: 'short',
      queries: [{ expr: sumBy(['instance'], selector(http.activeRequests, JOB_AND_INSTANCE)), legend: '{{instance}}' }],
      min: 0,
      width: slos.length > 0 ? 12 : 18,
    }),
  );
  return { title: `${service.title} (${service.name})`, panels };
}

export function serviceOverviewDashboard(config: PerfstackConfig): dashboard.Dashboard {
  return composeDashboard({
    key: 'service',
    title: 'Service overview',
    description: 'Rate, errors and duration per route for every configured service, with the SLA drawn on each panel.',
    tags: ['services', 'red'],
    variables: standardVariables(REQUEST_COUNT),
    sections: [
      ...config.services.map((service) =>
        serviceSection(
          service,
          config.slos.filter((slo) => slo.service === service.name),
        ),
      ),
      cacheSection(config),
      redisServerSection(),
    ],
  });
}
