import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { renderYaml } from '../config/index.js';
import { PROMETHEUS_DATASOURCE_UID } from '../dashboards/index.js';

/** Grafana provisioning: the Prometheus datasource with its fixed uid, and the dashboard provider. */
export function generateGrafanaProvisioning(config: PerfstackConfig, prometheusUrl = 'http://prometheus:9090'): GeneratedFile[] {
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
