import type { ServiceConfig } from '../../config/index.js';
import { HTTP_DURATION_BUCKETS, http } from '../../metrics/index.js';
import { equals, escapeRegex, promString, selector } from './format.js';
import { FIXTURE_INTERVAL_MINUTES, histogram, type InputSeries } from './fixtures.js';

// Which HTTP series belong to a service, shared by the recording rules and the fixtures that feed them.

export const SERVER_ERROR_MATCHER = `${http.labels.statusCode}=~"5.."`;

/** job plus, when the service lists routes, an anchored alternation of those route templates. */
export function serviceMatchers(service: ServiceConfig): string[] {
  const matchers = [equals('job', service.job)];
  if (service.routes.length > 0) {
    matchers.push(`${http.labels.route}=~${promString(service.routes.map(escapeRegex).join('|'))}`);
  }
  return matchers;
}

/** `metric{job=...,http_route=~...,extra}` for one of the request-duration histogram's series. */
export function serviceSeries(service: ServiceConfig, suffix: '_count' | '_bucket' | '_sum', extra: string[] = []): string {
  return `${http.requestDuration}${suffix}${selector([...serviceMatchers(service), ...extra])}`;
}

/** 5xx responses divided by all responses over `window`; 0 (not empty) while there is traffic but no 5xx series yet. */
export function serverErrorRatioExpr(service: ServiceConfig, window: string): string {
  const all = `sum(rate(${serviceSeries(service, '_count')}[${window}]))`;
  const errors = `sum(rate(${serviceSeries(service, '_count', [SERVER_ERROR_MATCHER])}[${window}]))`;
  return `(${errors} or on() (0 * ${all})) / ${all}`;
}

/** Requests slower than `thresholdSeconds` divided by all requests over `window`. */
export function slowRequestRatioExpr(service: ServiceConfig, thresholdSeconds: number, window: string): string {
  const fast = `sum(rate(${serviceSeries(service, '_bucket', [equals('le', String(thresholdSeconds))])}[${window}]))`;
  return `1 - (${fast} / sum(rate(${serviceSeries(service, '_count')}[${window}])))`;
}

/** How many requests of each kind a fixture service receives per sample. */
export interface TrafficPerSample {
  ok: number;
  serverErrors?: number;
  /** Every response takes this long; defaults to the smallest bucket. */
  seconds?: number;
  /** Alternatively, an explicit latency mix for the successful responses. */
  okLatencies?: { seconds: number; count: number }[];
}

/** Request-duration histogram series that the service's selectors pick up (first listed route, or "/"). */
export function serviceTraffic(service: ServiceConfig, traffic: TrafficPerSample, samples: number): InputSeries[] {
  const base = {
    job: service.job,
    [http.labels.service]: service.name,
    [http.labels.method]: 'GET',
    [http.labels.route]: service.routes[0] ?? '/',
  };
  const seconds = traffic.seconds ?? HTTP_DURATION_BUCKETS[0];
  const okLatencies = traffic.okLatencies ?? [{ seconds, count: traffic.ok }];
  const series = histogram(http.requestDuration, { ...base, [http.labels.statusCode]: '200' }, HTTP_DURATION_BUCKETS, okLatencies, samples);
  if (traffic.serverErrors) {
    series.push(
      ...histogram(http.requestDuration, { ...base, [http.labels.statusCode]: '500' }, HTTP_DURATION_BUCKETS, [{ seconds, count: traffic.serverErrors }], samples),
    );
  }
  return series;
}

/** Requests per fixture sample at `rps`. */
export function requestsPerSample(rps: number): number {
  return rps * 60 * FIXTURE_INTERVAL_MINUTES;
}

/** Splits a fixed number of requests per sample so that `errorRatio` of them fail. */
export function requestsWithErrorRatio(errorRatio: number, perSample = 100_000): TrafficPerSample {
  const serverErrors = errorRatio * perSample;
  return { ok: perSample - serverErrors, serverErrors };
}
