import type { PerfstackConfig, Severity } from '../../config/index.js';
import { DASHBOARD_UIDS, type DashboardKey } from '../../dashboards/index.js';
import { expandTemplate, promDuration, promNumber, type Labels } from './format.js';
import { FIXTURE_INTERVAL_MINUTES, type InputSeries } from './fixtures.js';

// The one alert shape every builder produces: the rule, and next to it the promtool fixtures
// that prove it fires and that it stays quiet.

/** How long after the alert fires the quiet test looks: lets 5m rates fill and recording rules run first. */
export const SETTLE_MINUTES = 5;

/**
 * The number an alert compares against, as it appears in the expression. The mutation check
 * (alerts/mutation.test.ts) rewrites `text` in a copy of the rule and expects the promtool tests to fail.
 */
export interface Threshold {
  /** The comparison operator in front of the number (`>`, `<`, `==`), or '' for a bare number. */
  op: string;
  /** The number as written in `expr`, e.g. `0.5` or `(14.4 * 0.001)`; `${op} ${text}` is rewritten everywhere it occurs. */
  text: string;
  value: number;
}

/** The text a threshold occupies in an expression. */
export function thresholdText(threshold: Threshold): string {
  return threshold.op ? `${threshold.op} ${threshold.text}` : threshold.text;
}

/** `> 0.5` as a Threshold. */
export function compare(op: string, value: number, text = promNumber(value)): Threshold {
  return { op, text, value };
}

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

/** `none`: only the Watchdog, which notifies no one but the heartbeat receiver. */
export type AlertSeverity = Severity | 'none';

export interface AlertDefinition {
  name: string;
  severity: AlertSeverity;
  expr: string;
  forMinutes: number;
  /** Rule labels: severity, team, and service/slo where meaningful. */
  labels: Labels;
  annotations: AlertAnnotations;
  /** The compared number, for the mutation check; undefined for alerts without one (Watchdog, absent()). */
  threshold: Threshold | undefined;
  /** First evaluation (minutes into the fixture) at which the firing fixture makes the expression true. */
  activeFromMinutes: number;
  /** `activeFromMinutes + forMinutes`: firing here, still pending one evaluation earlier. */
  firingAtMinutes: number;
  /** When the quiet test looks: `firingAtMinutes + SETTLE_MINUTES`. */
  evalMinutes: number;
  firing: FiringFixture;
  /** Undefined only for an alert that must always fire (Watchdog). */
  quiet: InputSeries[] | undefined;
}

export interface AlertSpec {
  name: string;
  severity: AlertSeverity;
  team: string;
  /** Labels beyond severity and team, such as service or slo. */
  labels?: Labels;
  expr: string;
  forMinutes: number;
  summary: string;
  /** Go template; may use $labels of the expression result and `$value | humanize...`. */
  description: string;
  dashboard: DashboardKey;
  /** The compared number as it appears in expr; null when the alert has none (say why in a comment). */
  threshold: Threshold | null;
  /**
   * First evaluation at which the firing fixture makes expr true. Default: 1 minute when expr has a
   * range selector (rate() needs two samples), else 0.
   */
  activeFromMinutes?: number;
  /** Fixtures get the number of samples that covers the test's evaluation time. */
  firing: (samples: number) => FiringFixture;
  /** null only for an alert that must always fire. */
  quiet: ((samples: number) => InputSeries[]) | null;
}

/** Lower-cased alert name: the heading anchor in docs/runbooks.md. */
export function runbookAnchor(alertName: string): string {
  return alertName.toLowerCase();
}

export function dashboardUrl(config: PerfstackConfig, dashboard: DashboardKey): string {
  return `${config.links.grafanaUrl}/d/${DASHBOARD_UIDS[dashboard]}`;
}

/**
 * Default first active evaluation: rate(), increase() and friends need two samples, and so do the
 * recording rules behind perfstack's alerts (minute 1); a plain gauge comparison holds from minute 0.
 * Fixtures that differ say so with activeFromMinutes.
 */
export function defaultActiveFrom(expr: string): number {
  const readsRecorded = /[a-z_]+:[a-z_0-9]+:[a-z_0-9]+/.test(expr);
  return readsRecorded || /\[[0-9]+[smhdwy]/.test(expr) ? FIXTURE_INTERVAL_MINUTES : 0;
}

export function defineAlert(config: PerfstackConfig, spec: AlertSpec): AlertDefinition {
  if (spec.threshold && !spec.expr.includes(thresholdText(spec.threshold))) {
    throw new Error(`${spec.name}: threshold ${JSON.stringify(thresholdText(spec.threshold))} does not appear in its expression ${spec.expr}`);
  }
  const activeFromMinutes = spec.activeFromMinutes ?? defaultActiveFrom(spec.expr);
  const firingAtMinutes = activeFromMinutes + spec.forMinutes;
  const evalMinutes = firingAtMinutes + SETTLE_MINUTES;
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
    threshold: spec.threshold ?? undefined,
    activeFromMinutes,
    firingAtMinutes,
    evalMinutes,
    firing: spec.firing(samples),
    quiet: spec.quiet ? spec.quiet(samples) : undefined,
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

/**
 * The promtool test groups of an alert. "fires": pending (no alert) one evaluation before `for:`
 * has elapsed, firing with full labels and annotations once it has — this pins `for:` from both
 * sides. "stays quiet": a fixture just on the other side of the threshold never fires.
 */
export function alertTestGroups(alert: AlertDefinition): Record<string, unknown>[] {
  const interval = promDuration(FIXTURE_INTERVAL_MINUTES);
  const expandedAnnotations = Object.fromEntries(
    Object.entries(alert.annotations).map(([key, text]) => [key, expandTemplate(text, alert.firing.resultLabels, alert.firing.value)]),
  );
  const pendingAt = alert.firingAtMinutes - FIXTURE_INTERVAL_MINUTES;
  const groups: Record<string, unknown>[] = [
    {
      name: `${alertId(alert)} fires`,
      interval,
      input_series: alert.firing.series,
      alert_rule_test: [
        ...(alert.forMinutes > 0 && pendingAt >= 0 ? [{ eval_time: promDuration(pendingAt), alertname: alert.name, exp_alerts: [] }] : []),
        {
          eval_time: promDuration(alert.firingAtMinutes),
          alertname: alert.name,
          exp_alerts: [{ exp_labels: { ...alert.firing.resultLabels, ...alert.labels }, exp_annotations: expandedAnnotations }],
        },
      ],
    },
  ];
  if (alert.quiet) {
    groups.push({
      name: `${alertId(alert)} stays quiet`,
      interval,
      input_series: alert.quiet,
      alert_rule_test: [{ eval_time: promDuration(alert.evalMinutes), alertname: alert.name, exp_alerts: [] }],
    });
  }
  return groups;
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
