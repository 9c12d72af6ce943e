import { generateConfigurationReference, type GeneratedFile, type PerfstackConfig } from '../config/index.js';
import { generatePrometheusConfig, generateGrafanaProvisioning } from '../stack/index.js';
import { generateK6Thresholds } from '../k6/index.js';
import { generateAlertmanager, generateRules } from '../alerts/index.js';
import { generateDashboards } from '../dashboards/index.js';
import { generateKubernetesJob } from '../loadgen-deploy/index.js';
import { generateKubernetesObjects } from '../kubernetes/index.js';

/** Every file `perfstack generate` owns, computed in memory from one validated config. */
export function generateAll(config: PerfstackConfig): GeneratedFile[] {
  return [
    ...generatePrometheusConfig(config),
    ...generateAlertmanager(config),
    ...generateRules(config),
    ...generateDashboards(config),
    ...generateGrafanaProvisioning(config),
    ...generateK6Thresholds(config),
    ...generateKubernetesJob(config),
    ...generateKubernetesObjects(config),
    ...generateConfigurationReference(),
  ].sort((a, b) => a.path.localeCompare(b.path));
}
