import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { renderJson, type GeneratedFile, type PerfstackConfig } from '../config/index.js';
import { databaseDashboard } from './database.js';
import { hostDashboard } from './host.js';
import { loadTestDashboard } from './k6.js';
import { serviceOverviewDashboard } from './service.js';
import { sloDashboard } from './slo.js';
import { regressionDashboard } from './regression.js';
import { frontendDashboard } from './frontend.js';
import type { DashboardKey } from './uids.js';

export { DASHBOARD_UIDS, PROMETHEUS_DATASOURCE_UID } from './uids.js';
export type { DashboardKey } from './uids.js';
export { lintDashboard, dashboardQueries } from './lint.js';

/** Where Grafana's file provider finds the dashboards; subfolders become Grafana folders. */
export const DASHBOARDS_DIR = 'provisioning/grafana/dashboards';

/** Each dashboard's folder and file name under DASHBOARDS_DIR, and how to build it. */
export const DASHBOARD_FILES: Record<DashboardKey, { folder: string; file: string; build: (config: PerfstackConfig) => dashboard.Dashboard }> = {
  service: { folder: 'services', file: 'service-overview.json', build: serviceOverviewDashboard },
  database: { folder: 'database', file: 'database.json', build: databaseDashboard },
  k6: { folder: 'load-tests', file: 'k6-load-tests.json', build: loadTestDashboard },
  slo: { folder: 'slos', file: 'slos.json', build: sloDashboard },
  host: { folder: 'host', file: 'host-process.json', build: hostDashboard },
  regression: { folder: 'load-tests', file: 'regressions.json', build: regressionDashboard },
  frontend: { folder: 'frontend', file: 'frontend.json', build: frontendDashboard },
};

/** The dashboards as provisioning files; same config, byte-identical output. */
export function generateDashboards(config: PerfstackConfig): GeneratedFile[] {
  return (Object.keys(DASHBOARD_FILES) as DashboardKey[]).map((key) => {
    const { folder, file, build } = DASHBOARD_FILES[key];
    return { path: `${DASHBOARDS_DIR}/${folder}/${file}`, content: renderJson(build(config)) };
  });
}
