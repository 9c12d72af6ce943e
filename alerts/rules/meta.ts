import type { PerfstackConfig, ServiceConfig, Severity } from '../../config/index.js';
import { INFRASTRUCTURE_JOBS } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type AlertSpec, type RuleFile } from './alert.js';
import { counter, gauge, justAbove, justBelow, sparseCounter, type InputSeries } from './fixtures.js';
import { equals, promNumber, selector } from './format.js';
import { BLACKBOX_JOB, HEALTH_PATH, probe } from './probes.js';

// The monitoring pipeline watching itself (after the prometheus-mixin and alertmanager-mixin, and
// kube-prometheus's Watchdog): every scrape job down or gone, the dead man's switch, Prometheus
// failing to evaluate, notify, receive or store, Alertmanager failing to deliver, and each
// service's health endpoint as a client (the blackbox exporter) sees it.

export const WATCHDOG = 'Watchdog';

/** Self-monitoring thresholds, one place, each with why. */
export const META = {
  /** A target missing scrapes for 2m (8 scrapes at 15 s) is down, not a blip. */
  targetDownForMinutes: 2,
  /** A job with no target at all is a configuration mistake: 10m leaves room for a restart. */
  targetAbsentForMinutes: 10,
  /** A failed probe of a health endpoint pages after 1m (4 probes at 15 s). */
  probeFailedForMinutes: 1,
  /** Share of notifications Prometheus fails to hand to Alertmanager (prometheus-mixin: 1 %). */
  notificationErrorRatio: 0.01,
  /** Notification queue use that warns before it overflows. */
  notificationQueueRatio: 0.8,
  /** Share of remote-write requests the receiver fails (5xx) or of samples Prometheus fails to send. */
  remoteWriteErrorRatio: 0.01,
  /** Share of notifications Alertmanager fails to deliver, per integration (alertmanager-mixin: 1 %). */
  alertmanagerFailureRatio: 0.01,
} as const;

interface JobTarget {
  job: string;
  what: string;
  severity: Severity;
  team: string;
  /** Jobs with their own, more specific down alert (pg-stats: DatabaseExporterDown; redis: RedisDown). */
  ownDownAlert?: boolean;
}

/** Every scrape job Prometheus runs (stack/prometheus-config.ts writes the same list) and what its loss means. */
export function scrapeJobs(config: PerfstackConfig): JobTarget[] {
  const serviceJobs = new Map<string, ServiceConfig[]>();
  for (const service of config.services) serviceJobs.set(service.job, [...(serviceJobs.get(service.job) ?? []), service]);
  return [
    // A service's metrics endpoint: the blackbox probe (ServiceProbeFailed) pages when clients are hurt.
    ...[...serviceJobs].map(([job, services]) => ({
      job,
      what: `the metrics of ${services.map((s) => s.name).join(' and ')}: SLA and SLO alerts are blind`,
      severity: 'warning' as const,
      team: services[0]!.team,
    })),
    { job: INFRASTRUCTURE_JOBS.pgStats, what: 'PostgreSQL statistics', severity: 'warning', team: config.database.team, ownDownAlert: true },
    { job: INFRASTRUCTURE_JOBS.nodeExporter, what: 'host metrics and the regression verdicts', severity: 'warning', team: config.host.team },
    // RedisDown (rules/redis.ts) covers the exporter unreachable as well as Redis itself.
    { job: INFRASTRUCTURE_JOBS.redis, what: 'the Redis server’s own metrics (memory, evictions, clients)', severity: 'warning', team: config.cache.team, ownDownAlert: true },
    { job: INFRASTRUCTURE_JOBS.prometheus, what: 'Prometheus’s own metrics: the self-monitoring alerts are blind', severity: 'warning', team: config.host.team },
    // Without Alertmanager nothing reaches anyone: the Watchdog's heartbeat stopping is the backstop.
    { job: INFRASTRUCTURE_JOBS.alertmanager, what: 'Alertmanager: notifications are not delivered', severity: 'critical', team: config.host.team },
    { job: BLACKBOX_JOB, what: 'the blackbox probes: the availability SLI is blind', severity: 'warning', team: config.host.team },
  ];
}

const PROMETHEUS = { job: INFRASTRUCTURE_JOBS.prometheus, instance: 'prometheus:9090' };
const ALERTMANAGER = { job: INFRASTRUCTURE_JOBS.alertmanager, instance: 'alertmanager:9093' };
const promSel = selector([equals('job', INFRASTRUCTURE_JOBS.prometheus)]);
const amSel = selector([equals('job', INFRASTRUCTURE_JOBS.alertmanager)]);

/** Two counters whose 5m rates stand in `ratio` (part over all). */
function ratioCounters(part: string, all: string, labels: Record<string, string>, ratio: number, samples: number, partLabels = labels): InputSeries[] {
  return [counter(part, partLabels, 1000 * ratio, samples), counter(all, labels, 1000, samples)];
}

export function metaAlerts(config: PerfstackConfig): AlertDefinition[] {
  const team = config.host.team;
  const alerts: AlertDefinition[] = [];
  const add = (spec: Omit<AlertSpec, 'team' | 'dashboard'> & Partial<Pick<AlertSpec, 'team' | 'dashboard'>>) =>
    alerts.push(defineAlert(config, { team, dashboard: 'host', ...spec }));

  add({
    name: WATCHDOG,
    severity: 'none',
    expr: 'vector(1)',
    // Always true by design: there is nothing to compare, and nothing can keep it quiet.
    threshold: null,
    forMinutes: 0,
    summary: 'The alerting pipeline is alive (always firing)',
    description: 'Always firing, on purpose: Alertmanager sends it to the heartbeat (dead man’s switch) receiver every few minutes; when those heartbeats stop, Prometheus, Alertmanager or the path between them is down.',
    firing: () => ({ series: [], resultLabels: {} }),
    quiet: null,
  });

  const jobs = scrapeJobs(config);
  // absent() of one job must not see the others missing: every other job has its target.
  const targetsOf = (except: string | undefined, samples: number) =>
    jobs.filter((j) => j.job !== except).map((j) => gauge('up', { job: j.job, instance: `${j.job}:1` }, 1, samples));
  for (const target of jobs) {
    const up = `up${selector([equals('job', target.job)])}`;
    const labels = { job: target.job, instance: `${target.job}:1` };
    if (!target.ownDownAlert) {
      add({
        name: 'TargetDown',
        severity: target.severity,
        team: target.team,
        labels: { job: target.job },
        expr: `${up} == 0`,
        threshold: compare('==', 0),
        forMinutes: META.targetDownForMinutes,
        summary: `A ${target.job} target does not answer its scrapes`,
        description: `{{ $labels.instance }} of job {{ $labels.job }} has failed its scrapes for ${META.targetDownForMinutes} minutes: ${target.what}.`,
        firing: (samples) => ({ series: [gauge('up', labels, 0, samples)], resultLabels: labels }),
        quiet: (samples) => [gauge('up', labels, 1, samples)],
      });
    }
    add({
      name: 'TargetAbsent',
      severity: 'warning',
      team: target.team,
      labels: { job: target.job },
      expr: `absent(${up})`,
      // absent() has no number to compare.
      threshold: null,
      forMinutes: META.targetAbsentForMinutes,
      summary: `Prometheus has no ${target.job} target at all`,
      description: `No target of job {{ $labels.job }} is in Prometheus’s configuration or service discovery: ${target.what}.`,
      firing: (samples) => ({ series: targetsOf(target.job, samples), resultLabels: { job: target.job } }),
      quiet: (samples) => targetsOf(undefined, samples),
    });
  }

  for (const service of config.services) {
    const probeLabels = { job: BLACKBOX_JOB, instance: `http://${service.job}:8080${HEALTH_PATH}`, service: service.name };
    add({
      name: 'ServiceProbeFailed',
      severity: 'critical',
      team: service.team,
      labels: { service: service.name },
      expr: `${probe.success}${selector([equals('job', BLACKBOX_JOB), equals('service', service.name)])} == 0`,
      threshold: compare('==', 0),
      forMinutes: META.probeFailedForMinutes,
      summary: `${service.title}: the health endpoint fails as clients see it`,
      description: `The blackbox probe of {{ $labels.instance }} has failed for ${META.probeFailedForMinutes} minute(s): ${service.name} is down or unreachable, and every failed probe burns its availability SLO.`,
      dashboard: 'slo',
      firing: (samples) => ({ series: [gauge(probe.success, probeLabels, 0, samples)], resultLabels: probeLabels }),
      quiet: (samples) => [gauge(probe.success, probeLabels, 1, samples)],
    });
  }

  // Prometheus (prometheus-mixin).
  add({
    name: 'PrometheusBadConfig',
    severity: 'critical',
    expr: `max_over_time(prometheus_config_last_reload_successful${promSel}[5m]) == 0`,
    threshold: compare('==', 0),
    forMinutes: 10,
    summary: 'Prometheus failed to reload its configuration',
    description: 'Prometheus {{ $labels.instance }} could not load its last configuration: it runs on the previous one, and the next restart fails.',
    firing: (samples) => ({ series: [gauge('prometheus_config_last_reload_successful', PROMETHEUS, 0, samples)], resultLabels: PROMETHEUS }),
    quiet: (samples) => [gauge('prometheus_config_last_reload_successful', PROMETHEUS, 1, samples)],
    activeFromMinutes: 0,
  });
  const everyFive = (metric: string) => ({
    firing: (samples: number) => ({ series: [sparseCounter(metric, PROMETHEUS, 5, samples)], resultLabels: PROMETHEUS }),
    quiet: (samples: number) => [counter(metric, PROMETHEUS, 0, samples)],
    activeFromMinutes: 5,
  });
  add({
    name: 'PrometheusRuleFailures',
    severity: 'critical',
    expr: `increase(prometheus_rule_evaluation_failures_total${promSel}[5m]) > 0`,
    threshold: compare('>', 0),
    forMinutes: 15,
    summary: 'Prometheus fails to evaluate rules',
    description: 'Prometheus {{ $labels.instance }} failed to evaluate {{ $value | humanize }} rules in the last 5 minutes: alerts and recorded series may be missing.',
    ...everyFive('prometheus_rule_evaluation_failures_total'),
    firing: (samples) => ({ series: [sparseCounter('prometheus_rule_evaluation_failures_total', PROMETHEUS, 5, samples)], resultLabels: PROMETHEUS, value: 1 }),
  });
  add({
    name: 'PrometheusMissingRuleEvaluations',
    severity: 'warning',
    expr: `increase(prometheus_rule_group_iterations_missed_total${promSel}[5m]) > 0`,
    threshold: compare('>', 0),
    forMinutes: 15,
    summary: 'Prometheus misses rule evaluations: a rule group is too slow',
    description: 'Prometheus {{ $labels.instance }} skipped {{ $value | humanize }} rule group evaluations in the last 5 minutes because the previous one had not finished.',
    ...everyFive('prometheus_rule_group_iterations_missed_total'),
    firing: (samples) => ({ series: [sparseCounter('prometheus_rule_group_iterations_missed_total', PROMETHEUS, 5, samples)], resultLabels: PROMETHEUS, value: 1 }),
  });
  const errors = { firing: justAbove(META.notificationErrorRatio, 1), quiet: justBelow(META.notificationErrorRatio) };
  const amLabel = { ...PROMETHEUS, alertmanager: 'http://alertmanager:9093/api/v2/alerts' };
  add({
    name: 'PrometheusErrorSendingAlerts',
    severity: 'critical',
    expr: `rate(prometheus_notifications_errors_total${promSel}[5m]) / rate(prometheus_notifications_sent_total${promSel}[5m]) > ${promNumber(META.notificationErrorRatio)}`,
    threshold: compare('>', META.notificationErrorRatio),
    forMinutes: 15,
    summary: 'Prometheus fails to send alerts to Alertmanager',
    description: 'Prometheus {{ $labels.instance }} failed to send {{ $value | humanizePercentage }} of its alerts to {{ $labels.alertmanager }} over 5 minutes.',
    firing: (samples) => ({ series: ratioCounters('prometheus_notifications_errors_total', 'prometheus_notifications_sent_total', amLabel, errors.firing, samples), resultLabels: amLabel, value: errors.firing }),
    quiet: (samples) => ratioCounters('prometheus_notifications_errors_total', 'prometheus_notifications_sent_total', amLabel, errors.quiet, samples),
  });
  const queue = { firing: justAbove(META.notificationQueueRatio, 1), quiet: justBelow(META.notificationQueueRatio) };
  const queueSeries = (ratio: number, samples: number) => [
    gauge('prometheus_notifications_queue_length', PROMETHEUS, 10_000 * ratio, samples),
    gauge('prometheus_notifications_queue_capacity', PROMETHEUS, 10_000, samples),
  ];
  add({
    name: 'PrometheusNotificationQueueRunningFull',
    severity: 'warning',
    expr: `max_over_time(prometheus_notifications_queue_length${promSel}[5m]) / min_over_time(prometheus_notifications_queue_capacity${promSel}[5m]) > ${promNumber(META.notificationQueueRatio)}`,
    threshold: compare('>', META.notificationQueueRatio),
    forMinutes: 15,
    summary: 'Prometheus’s queue of alerts for Alertmanager is nearly full',
    description: 'The notification queue of Prometheus {{ $labels.instance }} is {{ $value | humanizePercentage }} full; once full, alerts are dropped.',
    firing: (samples) => ({ series: queueSeries(queue.firing, samples), resultLabels: PROMETHEUS, value: queue.firing }),
    quiet: (samples) => queueSeries(queue.quiet, samples),
    activeFromMinutes: 0,
  });
  add({
    name: 'PrometheusNotificationsDropped',
    severity: 'critical',
    expr: `increase(prometheus_notifications_dropped_total${promSel}[5m]) > 0`,
    threshold: compare('>', 0),
    forMinutes: 5,
    summary: 'Prometheus drops alerts meant for Alertmanager',
    description: 'Prometheus {{ $labels.instance }} dropped {{ $value | humanize }} alerts in the last 5 minutes (queue overflow or no Alertmanager): they never reach anyone.',
    ...everyFive('prometheus_notifications_dropped_total'),
    firing: (samples) => ({ series: [sparseCounter('prometheus_notifications_dropped_total', PROMETHEUS, 5, samples)], resultLabels: PROMETHEUS, value: 1 }),
  });
  add({
    name: 'PrometheusNotConnectedToAlertmanagers',
    severity: 'critical',
    expr: `max_over_time(prometheus_notifications_alertmanagers_discovered${promSel}[5m]) == 0`,
    threshold: compare('==', 0),
    forMinutes: 10,
    summary: 'Prometheus knows no Alertmanager',
    description: 'Prometheus {{ $labels.instance }} has no Alertmanager to send alerts to: every alert stays in Prometheus.',
    firing: (samples) => ({ series: [gauge('prometheus_notifications_alertmanagers_discovered', PROMETHEUS, 0, samples)], resultLabels: PROMETHEUS }),
    quiet: (samples) => [gauge('prometheus_notifications_alertmanagers_discovered', PROMETHEUS, 1, samples)],
    activeFromMinutes: 0,
  });
  const rw = { firing: justAbove(META.remoteWriteErrorRatio, 1), quiet: justBelow(META.remoteWriteErrorRatio) };
  const writeHandler = { ...PROMETHEUS, handler: '/api/v1/write' };
  const receiver = (ratio: number, samples: number) => [
    counter('prometheus_http_requests_total', { ...writeHandler, code: '500' }, 1000 * ratio, samples),
    counter('prometheus_http_requests_total', { ...writeHandler, code: '204' }, 1000 * (1 - ratio), samples),
  ];
  const requests = (codes: string) => `sum by (instance, job) (rate(prometheus_http_requests_total${selector([equals('job', INFRASTRUCTURE_JOBS.prometheus), equals('handler', '/api/v1/write'), ...(codes ? [`code=~"${codes}"`] : [])])}[5m]))`;
  add({
    name: 'PrometheusRemoteWriteReceiverErrors',
    severity: 'warning',
    expr: `${requests('5..')} / ${requests('')} > ${promNumber(META.remoteWriteErrorRatio)}`,
    threshold: compare('>', META.remoteWriteErrorRatio),
    forMinutes: 5,
    summary: 'Prometheus rejects load-test results pushed by remote-write',
    description: 'Prometheus {{ $labels.instance }} answered {{ $value | humanizePercentage }} of remote-write requests with a 5xx over 5 minutes: load-test series are being lost.',
    dashboard: 'k6',
    firing: (samples) => ({ series: receiver(rw.firing, samples), resultLabels: PROMETHEUS, value: rw.firing }),
    quiet: (samples) => receiver(rw.quiet, samples),
  });
  const sent = (ratio: number, samples: number) => [
    counter('prometheus_remote_storage_samples_failed_total', { ...PROMETHEUS, remote_name: 'r', url: 'http://remote/write' }, 1000 * ratio, samples),
    counter('prometheus_remote_storage_samples_total', { ...PROMETHEUS, remote_name: 'r', url: 'http://remote/write' }, 1000 * (1 - ratio), samples),
  ];
  add({
    name: 'PrometheusRemoteStorageFailures',
    severity: 'critical',
    expr: `rate(prometheus_remote_storage_samples_failed_total${promSel}[5m]) / (rate(prometheus_remote_storage_samples_failed_total${promSel}[5m]) + rate(prometheus_remote_storage_samples_total${promSel}[5m])) > ${promNumber(META.remoteWriteErrorRatio)}`,
    threshold: compare('>', META.remoteWriteErrorRatio),
    forMinutes: 15,
    summary: 'Prometheus fails to send samples to remote storage',
    description: 'Prometheus {{ $labels.instance }} failed to send {{ $value | humanizePercentage }} of its samples to {{ $labels.remote_name }} ({{ $labels.url }}) over 5 minutes.',
    firing: (samples) => ({ series: sent(rw.firing, samples), resultLabels: { ...PROMETHEUS, remote_name: 'r', url: 'http://remote/write' }, value: rw.firing }),
    quiet: (samples) => sent(rw.quiet, samples),
  });
  // TSDB and WAL: one failure in 3 hours, for 4 hours (prometheus-mixin).
  for (const [name, metric, summary] of [
    ['PrometheusTSDBReloadsFailing', 'prometheus_tsdb_reloads_failures_total', 'Prometheus fails to reload blocks from disk'],
    ['PrometheusTSDBCompactionsFailing', 'prometheus_tsdb_compactions_failed_total', 'Prometheus fails to compact blocks'],
    ['PrometheusTSDBWALCorruptions', 'prometheus_tsdb_wal_corruptions_total', 'Prometheus found a corrupted write-ahead log'],
    ['PrometheusTSDBWALTruncationsFailing', 'prometheus_tsdb_wal_truncations_failed_total', 'Prometheus fails to truncate its write-ahead log'],
  ] as const) {
    add({
      name,
      severity: 'warning',
      expr: `increase(${metric}${promSel}[3h]) > 0`,
      threshold: compare('>', 0),
      forMinutes: 240,
      summary,
      description: `Prometheus {{ $labels.instance }} counted {{ $value | humanize }} ${metric.replace(/^prometheus_tsdb_|_total$/g, '').replace(/_/g, ' ')} in the last 3 hours: storage is unhealthy; disk full or corrupt blocks are the usual causes.`,
      firing: (samples) => ({ series: [sparseCounter(metric, PROMETHEUS, 180, samples)], resultLabels: PROMETHEUS, value: 1 }),
      quiet: (samples) => [counter(metric, PROMETHEUS, 0, samples)],
      activeFromMinutes: 180,
    });
  }

  // Alertmanager (alertmanager-mixin).
  add({
    name: 'AlertmanagerFailedReload',
    severity: 'critical',
    expr: `max_over_time(alertmanager_config_last_reload_successful${amSel}[5m]) == 0`,
    threshold: compare('==', 0),
    forMinutes: 10,
    summary: 'Alertmanager failed to reload its configuration',
    description: 'Alertmanager {{ $labels.instance }} could not load its last configuration: it routes with the previous one.',
    firing: (samples) => ({ series: [gauge('alertmanager_config_last_reload_successful', ALERTMANAGER, 0, samples)], resultLabels: ALERTMANAGER }),
    quiet: (samples) => [gauge('alertmanager_config_last_reload_successful', ALERTMANAGER, 1, samples)],
    activeFromMinutes: 0,
  });
  const failed = { firing: justAbove(META.alertmanagerFailureRatio, 1), quiet: justBelow(META.alertmanagerFailureRatio) };
  const slack = { ...ALERTMANAGER, integration: 'slack' };
  const byIntegration = (metric: string) => `sum by (instance, job, integration) (rate(${metric}${amSel}[5m]))`;
  add({
    name: 'AlertmanagerFailedToSendAlerts',
    severity: 'critical',
    expr: `${byIntegration('alertmanager_notifications_failed_total')} / ${byIntegration('alertmanager_notifications_total')} > ${promNumber(META.alertmanagerFailureRatio)}`,
    threshold: compare('>', META.alertmanagerFailureRatio),
    forMinutes: 5,
    summary: 'Alertmanager fails to deliver notifications',
    description: 'Alertmanager {{ $labels.instance }} failed {{ $value | humanizePercentage }} of its {{ $labels.integration }} notifications over 5 minutes.',
    firing: (samples) => ({ series: ratioCounters('alertmanager_notifications_failed_total', 'alertmanager_notifications_total', slack, failed.firing, samples), resultLabels: slack, value: failed.firing }),
    quiet: (samples) => ratioCounters('alertmanager_notifications_failed_total', 'alertmanager_notifications_total', slack, failed.quiet, samples),
  });
  return alerts;
}

export function metaRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'meta', dependsOn: [], groups: [{ name: 'perfstack-meta', alerts: metaAlerts(config) }] };
}
