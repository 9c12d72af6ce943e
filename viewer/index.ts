// The dashboard viewer: renders the generated Grafana dashboards from their provisioned JSON
// against a live Prometheus, without Grafana (which these machines cannot install).
export { startViewer, clientBundle, DEFAULT_VIEWER_PORT } from './server.js';
export type { Viewer, ViewerOptions } from './server.js';
export { listDashboards, readDashboard, provisionedDatasources } from './catalog.js';
export type { CatalogEntry, ViewerDatasource } from './catalog.js';
export { startViewerProcess, startUserGrafana, stopViewerProcesses, readViewerState, findGrafana, writeGrafanaProvisioning, DEFAULT_GRAFANA_PORT, VIEWERS_STATE_FILE } from './launch.js';
export type { ViewerProcess } from './launch.js';
export { snapshotDashboards, openRenderer, viewQuery, problemsOf } from './snapshot.js';
export type { SnapshotOptions, SnapshotFile, RenderedPage, RenderedPanel, Renderer } from './snapshot.js';
export { allPanels } from './shared/model.js';
export type { Dashboard, Panel } from './shared/model.js';
export { parseTime } from './shared/template.js';
