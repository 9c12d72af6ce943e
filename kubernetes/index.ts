// perfstack on Kubernetes: the generated rules, monitors, routing and dashboards as
// prometheus-operator and grafana-operator objects (and sidecar ConfigMaps), under
// provisioning/kubernetes/ beside the load engine's Indexed Job (loadgen-deploy/).
import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { generateKubernetesJob } from '../loadgen-deploy/index.js';
import { generatePrometheusOperatorObjects } from './prometheus-operator.js';
import { generateAlertmanagerObjects } from './alertmanager-config.js';
import { generateGrafanaObjects } from './grafana.js';
import { KUBERNETES_DIR } from './objects.js';

export { KUBERNETES_DIR, CONFIGMAP_MAX_BYTES, configMapDataBytes } from './objects.js';
export { prometheusRules, scrapeObjects, PROMETHEUS_OPERATOR_DIR } from './prometheus-operator.js';
export { alertmanagerConfig, alertmanagerTemplates, parseMatcher, ALERTMANAGER_CONFIG_NAME, ALERTMANAGER_TEMPLATES_CONFIGMAP } from './alertmanager-config.js';
export { dashboardSources, grafanaDashboard, dashboardConfigMap, GRAFANA_OPERATOR_DIR, GRAFANA_SIDECAR_DIR, SIDECAR_LABEL, SIDECAR_FOLDER_ANNOTATION } from './grafana.js';
export type { DashboardSource } from './grafana.js';

/** The Kubernetes objects perfstack generates (not the Indexed Job: loadgen-deploy owns it). */
export function generateKubernetesObjects(config: PerfstackConfig): GeneratedFile[] {
  return [...generatePrometheusOperatorObjects(config), ...generateAlertmanagerObjects(config), ...generateGrafanaObjects(config)];
}

/** Everything under provisioning/kubernetes/: what `perfstack generate --target kubernetes` writes. */
export function generateKubernetes(config: PerfstackConfig): GeneratedFile[] {
  return [...generateKubernetesObjects(config), ...generateKubernetesJob(config)].sort((a, b) => a.path.localeCompare(b.path));
}

/** True for a path `perfstack generate --target kubernetes` owns. */
export function isKubernetesPath(path: string): boolean {
  return path.startsWith(`${KUBERNETES_DIR}/`);
}
