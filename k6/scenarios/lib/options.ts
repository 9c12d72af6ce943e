// k6 options every scenario shares: the SLA thresholds generated from perfstack.config.ts
// (k6/thresholds.json), the summary statistics the verdicts need, and bounded stops.

import type { Options, Scenario, Threshold } from 'k6/options';
import { ROUTE_SERVICE, SUMMARY_TREND_STATS, TRACKING_THRESHOLDS, type ServiceName } from './catalog.ts';

interface GeneratedThresholds {
  thresholds: Record<string, string[]>;
  throughput: Record<string, string[]>;
}

// open() resolves relative to this module: k6/scenarios/lib → k6/thresholds.json.
const GENERATED = JSON.parse(open('../../thresholds.json')) as GeneratedThresholds;

export interface SlaOptions {
  /** Hold these services to their minimum throughput too (load-shaped scenarios only). */
  throughputFor?: readonly ServiceName[];
  /** Stop the run as soon as an SLA threshold fails (breakpoint). */
  abortOnFail?: boolean;
  /** How long a threshold must have data before an abort is considered. Default 10s. */
  delayAbortEval?: string;
}

function serviceOf(key: string): string | undefined {
  return /\{service:([^}]+)\}/.exec(key)?.[1];
}

/** Latency and error-rate SLAs always; throughput only for the services named. */
export function slaThresholds(options: SlaOptions = {}): Record<string, Threshold[]> {
  const out: Record<string, Threshold[]> = {};
  const wrap = (expression: string): Threshold =>
    options.abortOnFail ? { threshold: expression, abortOnFail: true, delayAbortEval: options.delayAbortEval ?? '10s' } : expression;
  for (const [key, expressions] of Object.entries(GENERATED.thresholds)) out[key] = expressions.map(wrap);
  const services: readonly string[] = options.throughputFor ?? [];
  for (const [key, expressions] of Object.entries(GENERATED.throughput)) {
    const service = serviceOf(key);
    // Throughput is judged over the whole run, so it never aborts one early.
    if (service !== undefined && services.includes(service)) out[key] = [...expressions];
  }
  return out;
}

export interface ScenarioOptions extends SlaOptions {
  /** The k6 scenario; its key becomes the `scenario` tag of every metric. */
  name: string;
  scenario: Scenario;
  /** Extra thresholds (merged over the SLA ones). */
  thresholds?: Record<string, Threshold[]>;
  /** Share of checks that must pass. Default 0.99. */
  minChecksRate?: number;
}

/** Per-route sub-metrics for the summary (see TRACKING_THRESHOLDS), for every route of a service. */
function trackingThresholds(): Record<string, Threshold[]> {
  const out: Record<string, Threshold[]> = {};
  for (const [route, service] of Object.entries(ROUTE_SERVICE)) {
    if (service === null) continue;
    for (const [metric, expression] of Object.entries(TRACKING_THRESHOLDS)) out[`${metric}{name:${route}}`] = [expression];
  }
  return out;
}

/** Options of a scenario file: one named k6 scenario, the SLA thresholds, the summary statistics. */
export function scenarioOptions(options: ScenarioOptions): Options {
  return {
    scenarios: { [options.name]: { gracefulStop: '5s', ...options.scenario } as Scenario },
    thresholds: {
      ...trackingThresholds(),
      ...slaThresholds(options),
      checks: [`rate>=${options.minChecksRate ?? 0.99}`],
      ...options.thresholds,
    },
    summaryTrendStats: SUMMARY_TREND_STATS,
    // Setup only reads a page of entities and uploads one file.
    setupTimeout: '30s',
    teardownTimeout: '30s',
    // Keep remote-write series bounded: no per-VU or per-iteration labels.
    systemTags: ['status', 'method', 'name', 'url', 'group', 'check', 'error', 'error_code', 'scenario', 'expected_response'],
  };
}
