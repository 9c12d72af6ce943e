import type { PerfstackConfig } from '../../config/index.js';
import { regression } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { gauge } from './fixtures.js';
import { equals, humanizers, selector } from './format.js';
import { windowSeconds } from './recording.js';

// A verdict of `perfstack compare` becomes an alert like any other, routed by severity and team:
// only for runs on the baseline branch (a pull request's regression is the CI gate's business),
// and only while the verdict is fresh (a verdict stays in the textfile until the next compare).

const L = regression.labels;
/** The candidate run's branch on the verdict series (regression/publish.ts writes it). */
export const VERDICT_BRANCH_LABEL = L.branch;
const FIXTURE_VERDICT = { [L.scenario]: 'load', [L.kpi]: 'latency_p95', [L.endpoint]: '/api/search', [L.testid]: 'fixture-run' };

export function regressionAlerts(config: PerfstackConfig): AlertDefinition[] {
  const branch = config.regression.baselineBranch;
  const maxAge = windowSeconds(config.alerting.regressionVerdictMaxAge);
  const by = `${L.scenario}, ${L.kpi}, ${L.endpoint}, ${L.testid}`;
  // The verdict (detected 1) of scenario S compared `age` seconds before the evaluation at minute `at`.
  const verdict = (labels: Record<string, string>, onBranch: string, age: number, at: number, samples: number) => [
    gauge(regression.detected, { ...labels, [VERDICT_BRANCH_LABEL]: onBranch }, 1, samples),
    gauge(regression.comparedAt, { [L.scenario]: labels[L.scenario]! }, at * 60 - age, samples),
  ];
  return [
    defineAlert(config, {
      name: 'PerformanceRegression',
      severity: 'warning',
      team: config.regression.team,
      expr:
        `max by (${by}) (${regression.detected}${selector([equals(VERDICT_BRANCH_LABEL, branch)])}) == 1 ` +
        `and on(${L.scenario}) (time() - max by (${L.scenario}) (${regression.comparedAt})) < ${maxAge}`,
      threshold: compare('<', maxAge),
      // A verdict is already the outcome of a statistical test over whole runs: no need to wait.
      forMinutes: 0,
      summary: `A load-test run on ${branch} regressed against its baseline`,
      description: `Run {{ $labels.${L.testid} }} of scenario {{ $labels.${L.scenario} }} on ${branch} regressed on {{ $labels.${L.kpi} }} {{ $labels.${L.endpoint} }}: significant and beyond the minimum effect (${Math.round(config.regression.minEffect * 100)} % by default). The compare report has the numbers and plots. The alert ends ${humanizers.humanizeDuration(maxAge)} after the comparison.`,
      dashboard: 'regression',
      // Fires at minute 0 with a verdict 90 % of the maximum age old.
      firing: (samples) => ({ series: verdict(FIXTURE_VERDICT, branch, 0.9 * maxAge, 0, samples), resultLabels: FIXTURE_VERDICT, value: 1 }),
      // Quiet at minute 5: a main verdict 110 % of the maximum age old, and a fresh one from another branch.
      quiet: (samples) => [
        ...verdict(FIXTURE_VERDICT, branch, 1.1 * maxAge, 5, samples),
        ...verdict({ ...FIXTURE_VERDICT, [L.scenario]: 'soak' }, `${branch}-feature`, 60, 5, samples),
      ],
    }),
  ];
}

export function regressionRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'regression', dependsOn: [], groups: [{ name: 'perfstack-regression', alerts: regressionAlerts(config) }] };
}
