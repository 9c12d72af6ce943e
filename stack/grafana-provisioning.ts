import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { renderYaml } from '../config/index.js';
import { PROMETHEUS_DATASOURCE_UID } from '../dashboards/index.js';
import { COMPOSE_VICTORIA_METRICS_URL } from './prometheus-config.js';

/** The long-term store's datasource uid (Prometheus type: VictoriaMetrics, vmselect, Thanos Query and Mimir all speak its API). */
export const LONG_TERM_STORE_DATASOURCE_UID = 'perfstack-long-term-store';

const COMPOSE_PROMETHEUS_URL = 'http://prometheus:9090';

/**
 * Grafana provisioning: the Prometheus datasource with its fixed uid, and the dashboard provider;
 * with config.longTermStore on, a second datasource for the long-term store at `longTermStoreUrl`
 * (default: the configured queryUrl, else compose's VictoriaMetrics when provisioning compose's
 * Grafana; elsewhere no guess, so no datasource pointing at a host that is not there).
 */
export function generateGrafanaProvisioning(
  config: PerfstackConfig,
  prometheusUrl = COMPOSE_PROMETHEUS_URL,
  longTermStoreUrl: string | undefined = config.longTermStore.queryUrl ?? (prometheusUrl === COMPOSE_PROMETHEUS_URL ? COMPOSE_VICTORIA_METRICS_URL : undefined),
): GeneratedFile[] {
  const longTermStore = config.longTermStore.enabled && longTermStoreUrl
    ? [
        {
          name: 'Long-term store',
          type: 'prometheus',
          uid: LONG_TERM_STORE_DATASOURCE_UID,
          access: 'proxy',
          url: longTermStoreUrl,
          isDefault: false,
          editable: false,
          jsonData: { timeInterval: config.scrape.interval, httpMethod: 'POST' },
        },
      ]
    : [];
  const datasources = {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        type: 'prometheus',
        uid: PROMETHEUS_DATASOURCE_UID,
        access: 'proxy',
        url: prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: config.scrape.interval, httpMethod: 'POST' },
      },
      ...longTermStore,
    ],
  };
  const dashboardProvider = {
    apiVersion: 1,
    providers: [
      {
        name: 'perfstack',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        // Each subfolder of dashboards/ becomes a Grafana folder (one per area).
        options: { path: '/etc/grafana/provisioning/dashboards', foldersFromFilesStructure: true },
      },
    ],
  };
  return [
    { path: 'provisioning/grafana/datasources/prometheus.yml', content: renderYaml(datasources) },
    { path: 'provisioning/grafana/dashboards/perfstack.yml', content: renderYaml(dashboardProvider) },
  ];
}
