import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PerfstackConfig } from '../config/index.js';
import { regression } from '../metrics/index.js';
import {
  PROMETHEUS,
  composeDashboard,
  datasourceVariable,
  queryVariable,
  selector,
  statPanel,
  tablePanel,
  timeseriesPanel,
  upperLimit,
  type Section,
} from './common.js';

// Performance regressions: the verdicts `perfstack compare` publishes (node_exporter's textfile
// collector serves them), baseline against candidate for each KPI, regressions as annotations.

const L = regression.labels;
const PICKED = [`${L.scenario}=~"$scenario"`, `${L.kpi}=~"$kpi"`, `${L.endpoint}=~"$endpoint"`];

function overviewSection(config: PerfstackConfig): Section {
  return {
    title: 'Verdicts',
    panels: [
      statPanel({
        title: 'KPIs regressed in the latest comparison',
        description: 'How many KPIs the latest `perfstack compare` judged regressed (statistically significant and beyond the minimum effect).',
        unit: 'short',
        queries: [{ expr: `sum(${selector(regression.detected, PICKED)})`, instant: true }],
        thresholds: upperLimit(0.5),
        width: 6,
      }),
      tablePanel({
        title: 'Latest verdicts',
        description: `Every KPI of the latest comparison with its relative change (positive = higher than the baseline). A change below ${Math.round(config.regression.minEffect * 100)} % never counts (regression.minEffect).`,
        unit: 'percentunit',
        valueColumn: 'Value',
        queries: [{ expr: selector(regression.relativeChange, PICKED), instant: true, table: true }],
        width: 18,
      }),
    ],
  };
}

function kpiSection(): Section {
  return {
    title: 'Baseline against candidate',
    panels: [
      timeseriesPanel({
        title: 'KPI value: candidate and baseline',
        description: 'The candidate run’s value of each KPI beside its baseline (median of the baseline runs). Units follow the KPI: seconds for latencies, requests per second for throughput, ratios for rates.',
        unit: 'short',
        queries: [
          { expr: selector(regression.candidateValue, PICKED), legend: 'candidate {{kpi}} {{endpoint}}' },
          { expr: selector(regression.baselineValue, PICKED), legend: 'baseline {{kpi}} {{endpoint}}' },
        ],
      }),
      timeseriesPanel({
        title: 'Relative change against the baseline',
        description: 'Candidate over baseline minus one, per KPI: +0.10 is 10 % higher. For latencies higher is worse; for throughput and checks higher is better.',
        unit: 'percentunit',
        queries: [{ expr: selector(regression.relativeChange, PICKED), legend: '{{kpi}} {{endpoint}}' }],
      }),
    ],
  };
}

export function regressionDashboard(config: PerfstackConfig): dashboard.Dashboard {
  const regressions = new dashboard.AnnotationQueryBuilder()
    .name('Regressions')
    .datasource(PROMETHEUS)
    .enable(true)
    .iconColor('red')
    .expr(`${regression.detected} == 1`)
    .titleFormat('Regression: {{kpi}} {{endpoint}}')
    .textFormat('scenario {{scenario}}, test run {{testid}}')
    .step('1m');
  return composeDashboard({
    key: 'regression',
    title: 'Performance regressions',
    description: 'Verdicts of perfstack compare: each KPI of a candidate run against its baseline, with regressions marked.',
    tags: ['regression', 'k6'],
    from: 'now-7d',
    variables: [
      datasourceVariable(),
      queryVariable({ name: 'scenario', label: 'Scenario', query: `label_values(${regression.detected}, ${L.scenario})` }),
      queryVariable({ name: 'kpi', label: 'KPI', query: `label_values(${selector(regression.detected, [`${L.scenario}=~"$scenario"`])}, ${L.kpi})` }),
      queryVariable({ name: 'endpoint', label: 'Endpoint', query: `label_values(${selector(regression.detected, [`${L.scenario}=~"$scenario"`])}, ${L.endpoint})` }),
    ],
    annotations: [regressions],
    sections: [overviewSection(config), kpiSection()],
  });
}
