import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { renderYaml } from '../config/index.js';
import { INFRASTRUCTURE_JOBS } from '../metrics/index.js';

/** Where each scrape job lives; the compose stack and the native stack differ only here. */
export interface StackTargets {
  /** host:port per service job. */
  serviceTargets: Record<string, string>;
  pgStats: string;
  nodeExporter: string;
  prometheus: string;
  alertmanager: string;
}


/** Targets inside docker-compose.yml: compose service names and their container ports. */
export function composeTargets(config: PerfstackConfig): StackTargets {
  const serviceTargets: Record<string, string> = {};
  for (const service of config.services) {
    serviceTargets[service.job] ??= service.scrapeTarget ?? `${service.job}:8080`;
  }
  return {
    serviceTargets,
    pgStats: 'pg-stats:9187',
    nodeExporter: 'node-exporter:9100',
    prometheus: 'localhost:9090',
    alertmanager: 'alertmanager:9093',
  };
}

/** prometheus.yml: scrape jobs for every service and exporter, the rule files and Alertmanager. */
export function prometheusConfig(config: PerfstackConfig, targets: StackTargets, ruleFilesGlob = 'rules/*.yml'): unknown {
  const job = (name: string, target: string) => ({ job_name: name, static_configs: [{ targets: [target] }] });
  const serviceJobs = Object.entries(targets.serviceTargets)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, target]) => job(name, target));
  return {
    global: {
      scrape_interval: config.scrape.interval,
      evaluation_interval: config.scrape.evaluationInterval,
      external_labels: { stack: 'perfstack' },
    },
    // k6 pushes through remote-write; the receiver is the --web.enable-remote-write-receiver flag.
    rule_files: [ruleFilesGlob],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [targets.alertmanager] }] }] },
    scrape_configs: [
      ...serviceJobs,
      job(INFRASTRUCTURE_JOBS.pgStats, targets.pgStats),
      job(INFRASTRUCTURE_JOBS.nodeExporter, targets.nodeExporter),
      job(INFRASTRUCTURE_JOBS.prometheus, targets.prometheus),
      job(INFRASTRUCTURE_JOBS.alertmanager, targets.alertmanager),
    ],
  };
}

export function generatePrometheusConfig(config: PerfstackConfig): GeneratedFile[] {
  return [{ path: 'provisioning/prometheus/prometheus.yml', content: renderYaml(prometheusConfig(config, composeTargets(config))) }];
}
