import type { PerfstackConfig, Severity } from '../../config/index.js';
import { DASHBOARD_UIDS, type DashboardKey } from '../../dashboards/index.js';
import { expandTemplate, promDuration, type Labels } from './format.js';
import { FIXTURE_INTERVAL_MINUTES, type InputSeries } from './fixtures.js';

// The one alert shape every builder produces: the rule, and next to it the promtool fixtures
// that prove it fires and that it stays quiet.

/** How long after `for:` has elapsed a test looks: lets 5m rates fill and recording rules run first. */
export const SETTLE_MINUTES = 5;

export interface FiringFixture {
  series: InputSeries[];
  /** Labels of the series the expression returns (the alert adds its own labels on top). */
  resultLabels: Labels;
  /** The value the expression returns, for annotations that print `$value`. */
  value?: number;
}

export interface AlertAnnotations {
  summary: string;
  description: string;
  runbook_url: string;
  dashboard_url: string;
}

export interface AlertDefinition {
  name: string;
  severity: Severity;
  expr: string;
  forMinutes: number;
  /** Rule labels: severity, team, and service/slo where meaningful. */
  labels: Labels;
  annotations: AlertAnnotations;
  /** When both promtool tests look: `forMinutes + SETTLE_MINUTES`. */
  evalMinutes: number;
  firing: FiringFixture;
  quiet: InputSeries[];
}

export interface AlertSpec {
  name: string;
  severity: Severity;
  team: string;
  /** Labels beyond severity and team, such as service or slo. */
  labels?: Labels;
  expr: string;
  forMinutes: number;
  summary: string;
  /** Go template; may use $labels of the expression result and `$value | humanize...`. */
  description: string;
  dashboard: DashboardKey;
  /** Fixtures get the number of samples that covers the test's evaluation time. */
  firing: (samples: number) => FiringFixture;
  quiet: (samples: number) => InputSeries[];
}

/** Lower-cased alert name: the heading anchor in docs/runbooks.md. */
export function runbookAnchor(alertName: string): string {
  return alertName.toLowerCase();
}

export function dashboardUrl(config: PerfstackConfig, dashboard: DashboardKey): string {
  return `${config.links.grafanaUrl}/d/${DASHBOARD_UIDS[dashboard]}`;
}

export function defineAlert(config: PerfstackConfig, spec: AlertSpec): AlertDefinition {
  const evalMinutes = spec.forMinutes + SETTLE_MINUTES;
  const samples = Math.ceil(evalMinutes / FIXTURE_INTERVAL_MINUTES) + 1;
  return {
    name: spec.name,
    severity: spec.severity,
    expr: spec.expr,
    forMinutes: spec.forMinutes,
    labels: { severity: spec.severity, team: spec.team, ...spec.labels },
    annotations: {
      summary: spec.summary,
      description: spec.description,
      runbook_url: `${config.links.runbookUrl}#${runbookAnchor(spec.name)}`,
      dashboard_url: dashboardUrl(config, spec.dashboard),
    },
    evalMinutes,
    firing: spec.firing(samples),
    quiet: spec.quiet(samples),
  };
}

/** A name that tells same-named alerts apart in test output: ServiceErrorRateHigh{service=api,severity=critical}. */
export function alertId(alert: AlertDefinition): string {
  const distinguishing = Object.entries(alert.labels).filter(([name]) => name !== 'team');
  return `${alert.name}{${distinguishing.map(([n, v]) => `${n}=${v}`).join(',')}}`;
}

/** The alerting rule as Prometheus reads it. */
export function alertingRule(alert: AlertDefinition): Record<string, unknown> {
  return {
    alert: alert.name,
    expr: alert.expr,
    for: promDuration(alert.forMinutes),
    labels: alert.labels,
    annotations: alert.annotations,
  };
}

/** The two promtool test groups of an alert: it fires with full labels and annotations, and it stays quiet. */
export function alertTestGroups(alert: AlertDefinition): Record<string, unknown>[] {
  const evalTime = promDuration(alert.evalMinutes);
  const interval = promDuration(FIXTURE_INTERVAL_MINUTES);
  const expandedAnnotations = Object.fromEntries(
    Object.entries(alert.annotations).map(([key, text]) => [key, expandTemplate(text, alert.firing.resultLabels, alert.firing.value)]),
  );
  return [
    {
      name: `${alertId(alert)} fires`,
      interval,
      input_series: alert.firing.series,
      alert_rule_test: [
        {
          eval_time: evalTime,
          alertname: alert.name,
          exp_alerts: [{ exp_labels: { ...alert.firing.resultLabels, ...alert.labels }, exp_annotations: expandedAnnotations }],
        },
      ],
    },
    {
      name: `${alertId(alert)} stays quiet`,
      interval,
      input_series: alert.quiet,
      alert_rule_test: [{ eval_time: evalTime, alertname: alert.name, exp_alerts: [] }],
    },
  ];
}

/** A recording rule: `record` is a name from `recorded` in metrics/index.ts. */
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Labels;
}

export interface RuleGroup {
  name: string;
  recordingRules?: RecordingRule[];
  alerts?: AlertDefinition[];
}

/** One generated rule file (`provisioning/prometheus/rules/<name>.yml`). */
export interface RuleFile {
  name: string;
  groups: RuleGroup[];
  /** Rule files whose recorded series these alerts read; promtool tests load them too. */
  dependsOn: string[];
}
