export { DASHBOARD_UIDS, PROMETHEUS_DATASOURCE_UID } from './uids.js';
export type { DashboardKey } from './uids.js';
