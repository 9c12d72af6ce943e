import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { renderYaml } from '../config/index.js';
import { INFRASTRUCTURE_JOBS } from '../metrics/index.js';
import { BLACKBOX_JOB, BLACKBOX_MODULE, HEALTH_PATH, blackboxConfig } from '../alerts/index.js';

/** Where each scrape job lives; the compose stack and the native stack differ only here. */
export interface StackTargets {
  /** host:port per service job. */
  serviceTargets: Record<string, string>;
  pgStats: string;
  nodeExporter: string;
  prometheus: string;
  alertmanager: string;
  /** host:port of redis_exporter (the read cache's Redis server); without it there is no redis job. */
  redisExporter?: string;
  /** host:port of the blackbox exporter; without it there is no probe job. */
  blackbox?: string;
  /** Health URL the blackbox exporter probes, per service name. */
  probeUrls?: Record<string, string>;
  /** The long-term store's remote-write URL; without it Prometheus keeps everything to itself. */
  longTermStore?: string;
}

/** The long-term store inside docker-compose.yml (the long-term-store profile's victoriametrics service). */
export const COMPOSE_VICTORIA_METRICS_URL = 'http://victoriametrics:8428';

/** Where Prometheus remote-writes when config.longTermStore is on: the configured store, else VictoriaMetrics at `victoriaMetricsUrl`. */
export function longTermStoreWriteUrl(config: PerfstackConfig, victoriaMetricsUrl: string): string {
  return config.longTermStore.remoteWriteUrl ?? `${victoriaMetricsUrl}/api/v1/write`;
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
    // node-exporter runs in the host's network (docker-compose.yml), reached through the docker0 gateway.
    nodeExporter: 'host.docker.internal:9100',
    prometheus: 'localhost:9090',
    alertmanager: 'alertmanager:9093',
    redisExporter: 'redis-exporter:9121',
    blackbox: 'blackbox-exporter:9115',
    probeUrls: Object.fromEntries(config.services.map((s) => [s.name, `http://${s.scrapeTarget ?? `${s.job}:8080`}${HEALTH_PATH}`])),
    ...(config.longTermStore.enabled ? { longTermStore: longTermStoreWriteUrl(config, COMPOSE_VICTORIA_METRICS_URL) } : {}),
  };
}

/**
 * The probe job: Prometheus asks the blackbox exporter to probe each service's health URL; the
 * URL becomes the instance label and the service name a label of its own (the SLO rules select on it).
 */
function blackboxJob(targets: StackTargets) {
  if (!targets.blackbox || !targets.probeUrls) return [];
  return [{
    job_name: BLACKBOX_JOB,
    metrics_path: '/probe',
    params: { module: [BLACKBOX_MODULE] },
    static_configs: Object.entries(targets.probeUrls)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([service, url]) => ({ targets: [url], labels: { service } })),
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: targets.blackbox },
    ],
  }];
}

export const BLACKBOX_CONFIG_PATH = 'provisioning/blackbox/blackbox.yml';

/**
 * How often the services under test are scraped, when the global interval is longer: a 10-second
 * load test needs a few samples of each route's counters for rate() and analyze to see it.
 */
export const SERVICE_SCRAPE_INTERVAL = '5s';

const DURATION_UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds of a simple Prometheus duration ("15s", "1m"); NaN for anything else. */
function durationSeconds(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(value);
  return match ? Number(match[1]) * DURATION_UNIT_SECONDS[match[2]!]! : Number.NaN;
}

/** The service jobs' interval: SERVICE_SCRAPE_INTERVAL, or the global one when that is shorter. */
export function serviceScrapeInterval(globalInterval: string): string {
  return durationSeconds(globalInterval) <= durationSeconds(SERVICE_SCRAPE_INTERVAL) ? globalInterval : SERVICE_SCRAPE_INTERVAL;
}

/** prometheus.yml: scrape jobs for every service and exporter, the rule files and Alertmanager. */
export function prometheusConfig(config: PerfstackConfig, targets: StackTargets, ruleFilesGlob = 'rules/*.yml'): unknown {
  const job = (name: string, target: string) => ({ job_name: name, static_configs: [{ targets: [target] }] });
  const serviceInterval = serviceScrapeInterval(config.scrape.interval);
  const serviceJobs = Object.entries(targets.serviceTargets)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, target]) =>
      serviceInterval === config.scrape.interval
        ? job(name, target)
        : { job_name: name, scrape_interval: serviceInterval, static_configs: [{ targets: [target] }] },
    );
  return {
    global: {
      scrape_interval: config.scrape.interval,
      evaluation_interval: config.scrape.evaluationInterval,
      external_labels: { stack: 'perfstack' },
    },
    // k6 pushes through remote-write; the receiver is the --web.enable-remote-write-receiver flag.
    rule_files: [ruleFilesGlob],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [targets.alertmanager] }] }] },
    // Everything Prometheus stores (scraped, received from load runs, recorded) is forwarded as well.
    ...(targets.longTermStore ? { remote_write: [{ name: 'long-term-store', url: targets.longTermStore }] } : {}),
    scrape_configs: [
      ...serviceJobs,
      job(INFRASTRUCTURE_JOBS.pgStats, targets.pgStats),
      job(INFRASTRUCTURE_JOBS.nodeExporter, targets.nodeExporter),
      job(INFRASTRUCTURE_JOBS.prometheus, targets.prometheus),
      job(INFRASTRUCTURE_JOBS.alertmanager, targets.alertmanager),
      ...(targets.redisExporter ? [job(INFRASTRUCTURE_JOBS.redis, targets.redisExporter)] : []),
      ...blackboxJob(targets),
    ],
  };
}

export function generatePrometheusConfig(config: PerfstackConfig): GeneratedFile[] {
  return [
    { path: 'provisioning/prometheus/prometheus.yml', content: renderYaml(prometheusConfig(config, composeTargets(config))) },
    { path: BLACKBOX_CONFIG_PATH, content: renderYaml(blackboxConfig()) },
  ];
}
