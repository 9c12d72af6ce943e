import type { PerfstackConfig, ServiceConfig, SloConfig } from '../../config/index.js';
import { HTTP_DURATION_BUCKETS, recorded } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { bucketAbove, justAbove, justBelow, type InputSeries } from './fixtures.js';
import { equals, humanizers, promNumber, selector } from './format.js';
import { requestsWithErrorRatio, serviceTraffic } from './http.js';

// Multi-window, multi-burn-rate SLO alerts (Google SRE workbook, as in Sloth and Pyrra): a
// long window proves the burn is significant, a short one that it is still happening.

/**
 * Fastest burn first. `for:` grows as the burn slows, so a slower tier is still pending when a
 * faster one fires: each tier can then be tested alone (and pages are not delayed by tickets).
 */
export const BURN_RATE_TIERS = [
  { factor: 14.4, longWindow: '1h', shortWindow: '5m', severity: 'critical', forMinutes: 2 },
  { factor: 6, longWindow: '6h', shortWindow: '30m', severity: 'critical', forMinutes: 15 },
  { factor: 3, longWindow: '1d', shortWindow: '2h', severity: 'ticket', forMinutes: 30 },
  { factor: 1, longWindow: '3d', shortWindow: '6h', severity: 'ticket', forMinutes: 60 },
] as const;

const FIXTURE_REQUESTS_PER_SAMPLE = 100_000;

function sloService(config: PerfstackConfig, slo: SloConfig): ServiceConfig {
  const service = config.services.find((s) => s.name === slo.service);
  if (!service) throw new Error(`slos: "${slo.name}" names unknown service "${slo.service}"`);
  return service;
}

/** Traffic whose SLI error ratio is exactly `ratio` in every window. */
function sliTraffic(service: ServiceConfig, slo: SloConfig, ratio: number, samples: number): InputSeries[] {
  if (slo.sli.kind === 'availability') return serviceTraffic(service, requestsWithErrorRatio(ratio), samples);
  const threshold = slo.sli.thresholdSeconds;
  const slow = bucketAbove(HTTP_DURATION_BUCKETS, threshold, `slos.${slo.name}.sli.thresholdSeconds`);
  const slowCount = ratio * FIXTURE_REQUESTS_PER_SAMPLE;
  return serviceTraffic(
    service,
    { ok: 0, okLatencies: [{ seconds: threshold, count: FIXTURE_REQUESTS_PER_SAMPLE - slowCount }, { seconds: slow.upper, count: slowCount }] },
    samples,
  );
}

function sloAlerts(config: PerfstackConfig, slo: SloConfig): AlertDefinition[] {
  const service = sloService(config, slo);
  const budget = 1 - slo.objective;
  const ratioAt = (factor: number | undefined, fallback: number) => (factor === undefined ? fallback : factor * budget);
  const sliText = slo.sli.kind === 'availability' ? 'requests answered with 5xx' : `requests slower than ${humanizers.humanizeDuration(slo.sli.thresholdSeconds)}`;
  return BURN_RATE_TIERS.map((tier, i) => {
    const threshold = tier.factor * budget;
    if (threshold >= 1) {
      throw new Error(
        `slos.${slo.name}.objective: ${slo.objective} leaves a budget so large that a ${tier.factor}x burn can never happen; use an objective of at least ${promNumber(1 - 1 / BURN_RATE_TIERS[0].factor)}`,
      );
    }
    const thresholdExpr = `(${promNumber(tier.factor)} * ${promNumber(budget)})`;
    const window = (w: string) => `${recorded.sloErrorRatio(w)}${selector([equals('slo', slo.name)])} > ${thresholdExpr}`;
    // Just above this tier but below the next faster one, and just below this tier but above the next slower one.
    const firingRatio = justAbove(threshold, Math.min(ratioAt(BURN_RATE_TIERS[i - 1]?.factor, 1), 1));
    const quietRatio = justBelow(threshold, ratioAt(BURN_RATE_TIERS[i + 1]?.factor, 0));
    return defineAlert(config, {
      name: 'SLOErrorBudgetBurn',
      severity: tier.severity,
      team: service.team,
      labels: { slo: slo.name, service: service.name, long_window: tier.longWindow, short_window: tier.shortWindow },
      expr: `${window(tier.longWindow)} and ${window(tier.shortWindow)}`,
      forMinutes: tier.forMinutes,
      summary: `SLO ${slo.name}: error budget burning at ${tier.factor}x over ${tier.longWindow} and ${tier.shortWindow}`,
      description:
        `${humanizers.humanizePercentage(Number(promNumber(threshold)))} is ${tier.factor}x the error budget of SLO ${slo.name} ` +
        `(objective ${humanizers.humanizePercentage(slo.objective)} over ${slo.window}); ${sliText} were {{ $value | humanizePercentage }} over the last ${tier.longWindow}, and still above it over ${tier.shortWindow}.`,
      dashboard: 'slo',
      threshold: compare('>', threshold, thresholdExpr),
      firing: (samples) => ({
        series: sliTraffic(service, slo, firingRatio, samples),
        resultLabels: { slo: slo.name, service: service.name },
        value: firingRatio,
      }),
      quiet: (samples) => sliTraffic(service, slo, quietRatio, samples),
    });
  });
}

export function sloRuleFile(config: PerfstackConfig): RuleFile {
  return {
    name: 'slo',
    dependsOn: ['recording'],
    groups: [{ name: 'perfstack-slo-burn-rate', alerts: config.slos.flatMap((slo) => sloAlerts(config, slo)) }],
  };
}
