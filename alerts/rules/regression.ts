import type { PerfstackConfig } from '../../config/index.js';
import { regression } from '../../metrics/index.js';
import { defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { gauge } from './fixtures.js';

// A verdict of `perfstack compare` becomes an alert like any other, routed by severity and team.

const L = regression.labels;
const FIXTURE_VERDICT = { [L.scenario]: 'load', [L.kpi]: 'latency_p95', [L.endpoint]: '/api/search', [L.testid]: 'fixture-run' };

export function regressionAlerts(config: PerfstackConfig): AlertDefinition[] {
  return [
    defineAlert(config, {
      name: 'PerformanceRegression',
      severity: 'warning',
      team: config.regression.team,
      expr: `max by (${L.scenario}, ${L.kpi}, ${L.endpoint}, ${L.testid}) (${regression.detected}) == 1`,
      // A verdict is already the outcome of a statistical test over whole runs: no need to wait.
      forMinutes: 0,
      summary: 'A load-test run regressed against its baseline',
      description: `Run {{ $labels.${L.testid} }} of scenario {{ $labels.${L.scenario} }} regressed on {{ $labels.${L.kpi} }} {{ $labels.${L.endpoint} }}: significant and beyond the minimum effect (${Math.round(config.regression.minEffect * 100)} % by default). The compare report has the numbers and plots.`,
      dashboard: 'regression',
      firing: (samples) => ({ series: [gauge(regression.detected, FIXTURE_VERDICT, 1, samples)], resultLabels: FIXTURE_VERDICT, value: 1 }),
      quiet: (samples) => [gauge(regression.detected, FIXTURE_VERDICT, 0, samples)],
    }),
  ];
}

export function regressionRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'regression', dependsOn: [], groups: [{ name: 'perfstack-regression', alerts: regressionAlerts(config) }] };
}
