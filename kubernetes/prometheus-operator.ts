import { basename } from 'node:path';
import { parse } from 'yaml';
import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { BLACKBOX_JOB, BLACKBOX_MODULE, RULES_DIR, generateRules, scrapeJobs } from '../alerts/index.js';
import { composeTargets } from '../stack/index.js';
import { INFRASTRUCTURE_JOBS } from '../metrics/index.js';
import { objectFile, objectMeta } from './objects.js';

// prometheus-operator's objects: one PrometheusRule per generated rule file, and a
// ServiceMonitor, PodMonitor or Probe for every scrape job prometheus.yml has, each keeping
// prometheus.yml's job label so the rules' selectors (up{job="pg-stats"}, …) still match.

export const PROMETHEUS_OPERATOR_DIR = 'prometheus-operator';
const MONITORING_V1 = 'monitoring.coreos.com/v1';

/** The rule files' groups, unchanged, as PrometheusRule objects (name: perfstack-<file>). */
export function prometheusRules(config: PerfstackConfig): { name: string; source: string; object: Record<string, unknown> }[] {
  return generateRules(config)
    .filter((file) => file.path.startsWith(`${RULES_DIR}/`) && file.path.endsWith('.yml'))
    .map((file) => {
      const name = `perfstack-${basename(file.path, '.yml')}`;
      const { groups } = parse(file.content) as { groups: unknown[] };
      return {
        name,
        source: file.path,
        object: { apiVersion: MONITORING_V1, kind: 'PrometheusRule', metadata: objectMeta(config, name, 'rules'), spec: { groups } },
      };
    });
}

/** How the cluster exposes a scrape job: which objects carry its metrics, on which named port. */
interface ScrapeTarget {
  kind: 'ServiceMonitor' | 'PodMonitor';
  /** Labels of the Services (ServiceMonitor) or Pods (PodMonitor) to scrape. */
  selector: Record<string, string>;
  port: string;
}

function scrapeTargets(config: PerfstackConfig): Map<string, ScrapeTarget> {
  const targets = new Map<string, ScrapeTarget>();
  // A service's Service carries app.kubernetes.io/name=<job> and names its HTTP port "http".
  for (const service of config.services) targets.set(service.job, { kind: 'ServiceMonitor', selector: { 'app.kubernetes.io/name': service.job }, port: 'http' });
  targets.set(INFRASTRUCTURE_JOBS.pgStats, { kind: 'ServiceMonitor', selector: { 'app.kubernetes.io/name': INFRASTRUCTURE_JOBS.pgStats }, port: 'metrics' });
  // node_exporter runs as a DaemonSet with no Service of its own: scrape its pods (labels of the
  // prometheus-community chart).
  targets.set(INFRASTRUCTURE_JOBS.nodeExporter, { kind: 'PodMonitor', selector: { 'app.kubernetes.io/name': 'prometheus-node-exporter' }, port: 'metrics' });
  // redis_exporter next to the cache's Redis, as the prometheus-community prometheus-redis-exporter
  // chart deploys it: a Service labelled app=prometheus-redis-exporter, port "redis-exporter".
  targets.set(INFRASTRUCTURE_JOBS.redis, { kind: 'ServiceMonitor', selector: { app: 'prometheus-redis-exporter' }, port: 'redis-exporter' });
  // The governing Services prometheus-operator creates for every Prometheus and Alertmanager.
  targets.set(INFRASTRUCTURE_JOBS.prometheus, { kind: 'ServiceMonitor', selector: { 'operated-prometheus': 'true' }, port: 'web' });
  targets.set(INFRASTRUCTURE_JOBS.alertmanager, { kind: 'ServiceMonitor', selector: { 'operated-alertmanager': 'true' }, port: 'web' });
  return targets;
}

/** Keeps prometheus.yml's job name, whatever the Service or Pod is called. */
function jobRelabeling(job: string) {
  return [{ action: 'replace', targetLabel: 'job', replacement: job }];
}

function monitor(config: PerfstackConfig, job: string, target: ScrapeTarget): Record<string, unknown> {
  const endpoint = { port: target.port, path: '/metrics', interval: config.scrape.interval, relabelings: jobRelabeling(job) };
  const spec =
    target.kind === 'ServiceMonitor'
      ? { selector: { matchLabels: target.selector }, endpoints: [endpoint] }
      : { selector: { matchLabels: target.selector }, podMetricsEndpoints: [endpoint] };
  // perfstack-app stays perfstack-app; pg-stats becomes perfstack-pg-stats.
  const name = job.startsWith('perfstack-') ? job : `perfstack-${job}`;
  return { apiVersion: MONITORING_V1, kind: target.kind, metadata: objectMeta(config, name, 'monitoring'), spec };
}

/**
 * One Probe per service: the blackbox exporter probes its health URL, with the service name as a
 * label of its own (the SLO rules select on it), as prometheus.yml's blackbox job does.
 */
function probes(config: PerfstackConfig): Record<string, unknown>[] {
  const targets = composeTargets(config);
  if (!targets.blackbox || !targets.probeUrls) return [];
  const prober = targets.blackbox;
  return Object.entries(targets.probeUrls)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, url]) => ({
      apiVersion: MONITORING_V1,
      kind: 'Probe',
      metadata: objectMeta(config, `perfstack-probe-${service}`, 'monitoring'),
      spec: {
        jobName: BLACKBOX_JOB,
        interval: config.scrape.interval,
        module: BLACKBOX_MODULE,
        prober: { url: prober, path: '/probe' },
        targets: { staticConfig: { static: [url], labels: { service } } },
      },
    }));
}

/** The monitors and probes for every scrape job the alerts expect (alerts' scrapeJobs). */
export function scrapeObjects(config: PerfstackConfig): Record<string, unknown>[] {
  const targets = scrapeTargets(config);
  const objects: Record<string, unknown>[] = [];
  for (const { job } of scrapeJobs(config)) {
    if (job === BLACKBOX_JOB) {
      objects.push(...probes(config));
      continue;
    }
    const target = targets.get(job);
    if (!target) throw new Error(`scrape job "${job}" has no ServiceMonitor or PodMonitor in kubernetes/prometheus-operator.ts: add it to scrapeTargets()`);
    objects.push(monitor(config, job, target));
  }
  return objects;
}

export function generatePrometheusOperatorObjects(config: PerfstackConfig): GeneratedFile[] {
  const rules = prometheusRules(config).map(({ object, source, name }) =>
    objectFile(`${PROMETHEUS_OPERATOR_DIR}/prometheusrule-${name.replace(/^perfstack-/, '')}.yaml`, object, `The groups of ${source}.`),
  );
  // servicemonitor-<job>.yaml, podmonitor-<job>.yaml, probe-<service>.yaml
  const monitors = scrapeObjects(config).map((object) => {
    const spec = object.spec as { endpoints?: { relabelings: { replacement: string }[] }[]; podMetricsEndpoints?: { relabelings: { replacement: string }[] }[] };
    const stem = (spec.endpoints ?? spec.podMetricsEndpoints)?.[0]?.relabelings[0]?.replacement ?? (object.metadata as { name: string }).name.replace(/^perfstack-probe-/, '');
    return objectFile(`${PROMETHEUS_OPERATOR_DIR}/${String(object.kind).toLowerCase()}-${stem}.yaml`, object);
  });
  return [...rules, ...monitors];
}
