// How perfstack runs the Debian binaries on loopback: one place for their flags, shared by the
// native stack and the tests.

export interface BinaryLaunch {
  command: string;
  args: string[];
  /** Path on the listen address that answers 2xx once the binary is ready. */
  readyPath: string;
}

export function prometheusLaunch(options: { configFile: string; dataDir: string; port: number; fastAlerts?: boolean; retention?: string }): BinaryLaunch {
  return {
    command: 'prometheus',
    args: [
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${options.dataDir}`,
      // config.retention: covers the longest SLO window plus margin (the config check enforces it).
      ...(options.retention ? [`--storage.tsdb.retention.time=${options.retention}`] : []),
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--web.enable-remote-write-receiver', // load runs push here (the engine, or k6's experimental-prometheus-rw)
      '--web.enable-lifecycle', // POST /-/reload after regenerating
      // Without it the first notification of a new alert waits a minute (tests only).
      ...(options.fastAlerts ? ['--rules.alert.resend-delay=1s'] : []),
      // An alert whose `for` is over a minute keeps its pending time across a restart, so a short
      // Prometheus restart neither resolves it at Alertmanager nor pages again (default grace: 10m).
      '--rules.alert.for-grace-period=1m',
    ],
    readyPath: '/-/ready',
  };
}

export function alertmanagerLaunch(options: { configFile: string; dataDir: string; port: number }): BinaryLaunch {
  return {
    command: 'prometheus-alertmanager',
    args: [
      `--config.file=${options.configFile}`,
      `--storage.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--cluster.listen-address=', // a single instance: no gossip port
    ],
    readyPath: '/-/ready',
  };
}

export function nodeExporterLaunch(options: { port: number; textfileDir?: string }): BinaryLaunch {
  return {
    command: 'prometheus-node-exporter',
    args: [
      `--web.listen-address=127.0.0.1:${options.port}`,
      // Where `perfstack compare` drops its regression verdicts (*.prom).
      ...(options.textfileDir ? [`--collector.textfile.directory=${options.textfileDir}`] : []),
    ],
    readyPath: '/metrics',
  };
}

/** Debian's prometheus-blackbox-exporter, probing the services' health endpoints. */
export function blackboxLaunch(options: { configFile: string; port: number }): BinaryLaunch {
  return {
    command: 'prometheus-blackbox-exporter',
    args: [`--config.file=${options.configFile}`, `--web.listen-address=127.0.0.1:${options.port}`],
    readyPath: '/-/healthy',
  };
}

/** Seconds redis_exporter waits for Redis: well inside Prometheus's 10 s scrape timeout, so a hung Redis reads as redis_up 0, not a failed scrape. */
export const REDIS_EXPORTER_CONNECTION_TIMEOUT = '3s';

/** Debian's prometheus-redis-exporter (oliver006/redis_exporter 1.45, MIT), watching one Redis server. */
export function redisExporterLaunch(options: { port: number; redisUrl: string }): BinaryLaunch {
  if (!/^rediss?:\/\/[^/\s]+/.test(options.redisUrl)) {
    throw new Error(`redisExporterLaunch: redisUrl must be redis://HOST:PORT (or rediss://), got ${JSON.stringify(options.redisUrl)}`);
  }
  return {
    command: 'prometheus-redis-exporter',
    args: [
      `-web.listen-address=127.0.0.1:${options.port}`,
      `-redis.addr=${options.redisUrl}`,
      `-connection-timeout=${REDIS_EXPORTER_CONNECTION_TIMEOUT}`,
      // Keep its own scrape cheap: Redis's INFO only, no Go runtime series. Key scans
      // (-check-keys), client lists and config metrics stay off, as they are by default.
      '-redis-only-metrics',
    ],
    // Answers "ok" once it listens, whether Redis is up or not (redis_up says that).
    readyPath: '/health',
  };
}

/**
 * Debian's single-node VictoriaMetrics: the long-term store Prometheus remote-writes to
 * (/api/v1/write), serving the Prometheus query API on the same port.
 */
export function victoriaMetricsLaunch(options: { dataDir: string; port: number; retention: string; fastQueries?: boolean }): BinaryLaunch {
  return {
    command: 'victoria-metrics',
    args: [
      `-httpListenAddr=127.0.0.1:${options.port}`,
      `-storageDataPath=${options.dataDir}`,
      // config.longTermStore.retention: h, d, w or y (a bare number would mean months).
      `-retentionPeriod=${options.retention}`,
      // Tests only: show samples as soon as they land (default: 30 s late) and cache no query result.
      ...(options.fastQueries ? ['-search.latencyOffset=0s', '-search.disableCache'] : []),
    ],
    readyPath: '/health',
  };
}

/**
 * Debian's vmalert: evaluates Prometheus rule files against a Prometheus-compatible query API
 * (VictoriaMetrics or vmselect), sends alerts to Alertmanager, and writes recording-rule results
 * (and alert state) back through remote-write.
 */
export function vmalertLaunch(options: {
  ruleFiles: string[];
  datasourceUrl: string;
  notifierUrl: string;
  port: number;
  remoteWriteUrl?: string;
  evaluationInterval?: string;
  /** Labels added to every alert and recorded series (name=value), e.g. to tell vmalert's results from Prometheus's. */
  externalLabels?: Record<string, string>;
}): BinaryLaunch {
  return {
    command: 'vmalert',
    args: [
      ...options.ruleFiles.map((file) => `-rule=${file}`),
      `-datasource.url=${options.datasourceUrl}`,
      `-notifier.url=${options.notifierUrl}`,
      ...(options.remoteWriteUrl ? [`-remoteWrite.url=${options.remoteWriteUrl}`] : []),
      ...(options.evaluationInterval ? [`-evaluationInterval=${options.evaluationInterval}`] : []),
      ...Object.entries(options.externalLabels ?? {}).map(([name, value]) => `-external.label=${name}=${value}`),
      `-httpListenAddr=127.0.0.1:${options.port}`,
    ],
    readyPath: '/health',
  };
}
