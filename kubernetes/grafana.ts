import { basename } from 'node:path';
import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { DASHBOARDS_DIR, DASHBOARD_FILES, PROMETHEUS_DATASOURCE_UID, generateDashboards } from '../dashboards/index.js';
import { configMap, objectFile, objectMeta } from './objects.js';

// The generated dashboards twice over, for the two ways Grafana runs in a cluster:
// grafana-operator's GrafanaDashboard (grafana.integreatly.org/v1beta1), and a ConfigMap per
// dashboard for the Grafana Helm chart's sidecar (k8s-sidecar), which loads every ConfigMap
// labelled grafana_dashboard=1 and files it under the folder its grafana_folder annotation names.

export const GRAFANA_OPERATOR_DIR = 'grafana-operator';
export const GRAFANA_SIDECAR_DIR = 'grafana-sidecar';
/** The sidecar's default label (sidecar.dashboards.label / labelValue in the Grafana chart). */
export const SIDECAR_LABEL = { grafana_dashboard: '1' } as const;
/** The annotation the sidecar reads when sidecar.dashboards.folderAnnotation is set to it. */
export const SIDECAR_FOLDER_ANNOTATION = 'grafana_folder';

export interface DashboardSource {
  name: string;
  /** Grafana folder, as the file provider makes it from the subfolder. */
  folder: string;
  file: string;
  json: string;
}

/** Each generated dashboard with the Grafana folder it belongs in and a Kubernetes name. */
export function dashboardSources(config: PerfstackConfig): DashboardSource[] {
  const folderOf = new Map(Object.values(DASHBOARD_FILES).map(({ folder, file }) => [`${DASHBOARDS_DIR}/${folder}/${file}`, folder]));
  return generateDashboards(config).map((file) => {
    const folder = folderOf.get(file.path);
    if (folder === undefined) throw new Error(`${file.path} is not in dashboards' DASHBOARD_FILES`);
    return { name: `perfstack-${basename(file.path, '.json')}`, folder, file: basename(file.path), json: file.content };
  });
}

export function grafanaDashboard(config: PerfstackConfig, dashboard: DashboardSource): Record<string, unknown> {
  return {
    apiVersion: 'grafana.integreatly.org/v1beta1',
    kind: 'GrafanaDashboard',
    metadata: objectMeta(config, dashboard.name, 'dashboards'),
    spec: {
      instanceSelector: { matchLabels: Object.fromEntries(Object.entries(config.kubernetes.grafanaInstanceSelector).sort(([a], [b]) => a.localeCompare(b))) },
      folder: dashboard.folder,
      json: dashboard.json,
    },
  };
}

/** The sidecar's ConfigMap; throws, naming the dashboard, when it passes a ConfigMap's 1 MiB. */
export function dashboardConfigMap(config: PerfstackConfig, dashboard: DashboardSource): Record<string, unknown> {
  const meta = objectMeta(config, dashboard.name, 'dashboards', { labels: SIDECAR_LABEL, annotations: { [SIDECAR_FOLDER_ANNOTATION]: dashboard.folder } });
  return configMap(meta, { [dashboard.file]: dashboard.json }, `dashboard ${dashboard.folder}/${dashboard.file}`);
}

export function generateGrafanaObjects(config: PerfstackConfig): GeneratedFile[] {
  const datasourceNote = `Its queries use the datasource with uid ${PROMETHEUS_DATASOURCE_UID}.`;
  return dashboardSources(config).flatMap((dashboard) => [
    objectFile(`${GRAFANA_OPERATOR_DIR}/grafanadashboard-${dashboard.name.replace(/^perfstack-/, '')}.yaml`, grafanaDashboard(config, dashboard), datasourceNote),
    objectFile(`${GRAFANA_SIDECAR_DIR}/configmap-${dashboard.name.replace(/^perfstack-/, '')}.yaml`, dashboardConfigMap(config, dashboard), datasourceNote),
  ]);
}
