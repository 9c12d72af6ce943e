import type { PerfstackConfig } from '../../config/index.js';
import { node, pgServer } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { linear } from './fixtures.js';
import { humanizers, promNumber } from './format.js';
import { FIXTURE_DISK_BYTES, FIXTURE_FILESYSTEM, REAL_FILESYSTEMS } from './host.js';

// Capacity forecasts: linear extrapolation of recent growth, so there is time to act.

export const DISK_FILL_HORIZON_HOURS = 24;
export const DATABASE_GROWTH_HORIZON_DAYS = 7;
const FORECAST_FOR_MINUTES = 60;

/** Fixtures sit 10 % inside or outside the horizon, seen from the test's evaluation time. */
const EARLY = 0.9;
const LATE = 1.1;

export function capacityAlerts(config: PerfstackConfig): AlertDefinition[] {
  // Seen from the evaluation at which the alert fires (predict_linear needs two samples: minute 1).
  const evalMinutes = 1 + FORECAST_FOR_MINUTES;
  const diskHorizon = DISK_FILL_HORIZON_HOURS * 60;
  const sizeHorizon = DATABASE_GROWTH_HORIZON_DAYS * 1440;
  const limit = config.database.sizeLimitBytes;
  // Free space drains so that, seen from the evaluation time, it runs out after `fraction` of the horizon.
  const draining = (fraction: number, samples: number) => {
    const perMinute = FIXTURE_DISK_BYTES / (evalMinutes + fraction * diskHorizon);
    return [linear(node.fsAvail, FIXTURE_FILESYSTEM, FIXTURE_DISK_BYTES, -perMinute, samples)];
  };
  // The database grows from half the limit so that the forecast lands at `fraction` of the limit.
  const growing = (fraction: number, samples: number) => {
    const start = limit / 2;
    const perMinute = (fraction * limit - start) / (evalMinutes + sizeHorizon);
    return [linear(pgServer.databaseSize, { datname: 'perfstack' }, start, perMinute, samples)];
  };
  return [
    defineAlert(config, {
      name: 'HostDiskWillFillIn24h',
      severity: 'warning',
      team: config.host.team,
      expr: `predict_linear(${node.fsAvail}${REAL_FILESYSTEMS}[6h], ${DISK_FILL_HORIZON_HOURS} * 3600) < 0`,
      // The number that matters is the horizon: 24h pinned by fixtures that empty at 0.9 and 1.1 of it.
      threshold: compare('', DISK_FILL_HORIZON_HOURS * 3600, `${DISK_FILL_HORIZON_HOURS} * 3600`),
      forMinutes: FORECAST_FOR_MINUTES,
      summary: `Filesystem predicted to fill within ${DISK_FILL_HORIZON_HOURS}h`,
      description: `At the rate of the last 6 hours, {{ $labels.mountpoint }} on {{ $labels.instance }} runs out of space within ${DISK_FILL_HORIZON_HOURS} hours.`,
      dashboard: 'host',
      firing: (samples) => ({ series: draining(EARLY, samples), resultLabels: FIXTURE_FILESYSTEM }),
      quiet: (samples) => draining(LATE, samples),
    }),
    defineAlert(config, {
      name: 'DatabaseSizeWillExceedLimit',
      severity: 'ticket',
      team: config.database.team,
      expr: `predict_linear(${pgServer.databaseSize}[1d], ${DATABASE_GROWTH_HORIZON_DAYS} * 86400) > ${promNumber(limit)}`,
      threshold: compare('>', limit),
      forMinutes: FORECAST_FOR_MINUTES,
      summary: `Database predicted to exceed ${humanizers.humanize1024(limit)}B within ${DATABASE_GROWTH_HORIZON_DAYS} days`,
      description: `At the growth rate of the last day, database {{ $labels.datname }} reaches {{ $value | humanize1024 }}B in ${DATABASE_GROWTH_HORIZON_DAYS} days, above the limit of ${humanizers.humanize1024(limit)}B.`,
      dashboard: 'database',
      firing: (samples) => ({ series: growing(LATE, samples), resultLabels: { datname: 'perfstack' }, value: LATE * limit }),
      quiet: (samples) => growing(EARLY, samples),
    }),
  ];
}

export function capacityRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'capacity', dependsOn: [], groups: [{ name: 'perfstack-capacity', alerts: capacityAlerts(config) }] };
}
