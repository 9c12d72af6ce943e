// Stable dashboard UIDs: alerts link to them and dashboards link to each other,
// so they are fixed names, never random.
export const DASHBOARD_UIDS = {
  service: 'perfstack-service-overview',
  database: 'perfstack-database',
  k6: 'perfstack-load-tests',
  slo: 'perfstack-slos',
  host: 'perfstack-host-process',
  regression: 'perfstack-regressions',
  frontend: 'perfstack-frontend',
} as const;

export type DashboardKey = keyof typeof DASHBOARD_UIDS;

/** The provisioned Prometheus datasource uid every panel references. */
export const PROMETHEUS_DATASOURCE_UID = 'perfstack-prometheus';

/**
 * What every panel, query and query variable references: the `$datasource` variable, whose default
 * is the provisioned datasource (PROMETHEUS_DATASOURCE_UID). Picking another Prometheus in the
 * variable moves the whole dashboard.
 */
export const DATASOURCE_VARIABLE_REF = '${datasource}';
