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
