import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PerfstackConfig, SloConfig } from '../config/index.js';
import { http, recorded } from '../metrics/index.js';
import {
  BUDGET_REMAINING_THRESHOLDS,
  composeDashboard,
  customVariable,
  formatNumber,
  formatPercent,
  gaugePanel,
  lowerLimit,
  promString,
  selector,
  standardVariables,
  statPanel,
  tablePanel,
  timeseriesPanel,
  type Section,
  type Thresholds,
} from './common.js';

// SLOs: read from the slo:sli_error:ratio_rate<window> recording rules (label slo="<name>").

/** Burn-rate windows of the multi-window, multi-burn-rate alerts (Sloth / Pyrra style). */
export const BURN_RATE_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Burn rates that page (14.4, 6) or open a ticket (3, 1), drawn as dashed lines. */
const BURN_RATE_THRESHOLDS: Thresholds = {
  base: 'green',
  steps: [
    { value: 1, color: 'yellow' },
    { value: 3, color: 'orange' },
    { value: 6, color: 'red' },
    { value: 14.4, color: 'dark-red' },
  ],
};

/** The recorded error ratio of one SLO over one window. */
function sloErrorRatio(slo: SloConfig, window: string, extraMatchers: readonly string[] = []): string {
  return selector(recorded.sloErrorRatio(window), [`slo=${promString(slo.name)}`, ...extraMatchers]);
}

/** The error budget as a ratio of requests: 1 - objective, without float noise. */
function errorBudget(slo: SloConfig): string {
  return formatNumber(1 - slo.objective);
}

/** 1 - (error ratio over the SLO window / (1 - objective)). */
export function budgetRemainingExpr(slo: SloConfig, extraMatchers: readonly string[] = []): string {
  return `1 - (${sloErrorRatio(slo, slo.window, extraMatchers)} / ${errorBudget(slo)})`;
}

function describeSli(slo: SloConfig): string {
  return slo.sli.kind === 'availability'
    ? 'requests answered without a 5xx status'
    : `requests answered within ${formatNumber(slo.sli.thresholdSeconds)} s`;
}

function overviewSection(slos: readonly SloConfig[]): Section {
  return {
    title: 'Overview',
    panels: [
      tablePanel({
        title: 'Error budget remaining per SLO',
        description: `Share of each SLO's error budget left over its window: 1 - (error ratio over the window / (1 - objective)). Red when spent, yellow below 25 %. Filtered by the SLO variable.`,
        unit: 'percentunit',
        // One instant query; each part keeps its slo label, so each SLO is one table row.
        queries: [{ expr: slos.map((slo) => `(${budgetRemainingExpr(slo, ['slo=~"$slo"'])})`).join(' or ') }],
        valueColumn: 'budget remaining',
        thresholds: BUDGET_REMAINING_THRESHOLDS,
        height: 6,
      }),
    ],
  };
}

function sloSection(slo: SloConfig): Section {
  const about = `SLO ${slo.name} (service ${slo.service}): ${formatPercent(slo.objective)} of ${describeSli(slo)} over ${slo.window}.`;
  return {
    title: `${slo.name}: ${formatPercent(slo.objective)} over ${slo.window}`,
    panels: [
      statPanel({
        title: `${slo.name}: SLI now`,
        description: `${about} The SLI over the last 5 minutes: 1 - ${recorded.sloErrorRatio('5m')}. Green at or above the objective.`,
        unit: 'percentunit',
        queries: [{ expr: `1 - ${sloErrorRatio(slo, '5m')}`, legend: slo.name }],
        thresholds: lowerLimit(slo.objective),
        width: 4,
      }),
      gaugePanel({
        title: `${slo.name}: error budget remaining`,
        description: `${about} Budget left over the ${slo.window} window: 1 - (${recorded.sloErrorRatio(slo.window)} / ${errorBudget(slo)}). Below 0 the budget is spent.`,
        unit: 'percentunit',
        queries: [{ expr: budgetRemainingExpr(slo), legend: slo.name }],
        thresholds: BUDGET_REMAINING_THRESHOLDS,
        min: 0,
        max: 1,
        width: 4,
      }),
      timeseriesPanel({
        title: `${slo.name}: burn rate`,
        description: `${about} How fast the budget burns per window: error ratio over the window / ${errorBudget(slo)}. 1 spends the budget exactly over ${slo.window}. Dashed lines: 14.4 and 6 page (with 1h/5m and 6h/30m), 3 and 1 open a ticket (with 1d/2h and 3d/6h).`,
        unit: 'suffix:x',
        queries: BURN_RATE_WINDOWS.map((window) => ({ expr: `${sloErrorRatio(slo, window)} / ${errorBudget(slo)}`, legend: window })),
        thresholds: BURN_RATE_THRESHOLDS,
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: `${slo.name}: error budget remaining over time`,
        description: `${about} Budget left over the rolling ${slo.window} window, as it changes over the selected time range.`,
        unit: 'percentunit',
        queries: [{ expr: budgetRemainingExpr(slo), legend: slo.name }],
        thresholds: { base: 'red', steps: [{ value: 0, color: 'green' }] },
        max: 1,
        width: 8,
      }),
    ],
  };
}

export function sloDashboard(config: PerfstackConfig): dashboard.Dashboard {
  const slos = config.slos;
  return composeDashboard({
    key: 'slo',
    title: 'SLOs',
    description: 'Service level objectives: SLI, multi-window burn rates and the error budget left, from the SLO recording rules.',
    tags: ['slos'],
    from: 'now-7d',
    variables: [...standardVariables(`${http.requestDuration}_count`), customVariable('slo', 'SLO', slos.map((s) => s.name))],
    sections: slos.length === 0 ? [] : [overviewSection(slos), ...slos.map(sloSection)],
  });
}
