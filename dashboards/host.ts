import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PerfstackConfig } from '../config/index.js';
import { node, nodejs, REAL_FILESYSTEM_MATCHER } from '../metrics/index.js';
import {
  JOB_AND_INSTANCE,
  composeDashboard,
  formatPercent,
  rate,
  selector,
  standardVariables,
  sumBy,
  timeseriesPanel,
  upperLimit,
  type Section,
} from './common.js';

// Host (node_exporter) and the Node.js process (prom-client defaults).

/** The same filesystems the host alerts watch. */
const REAL_FILESYSTEMS = REAL_FILESYSTEM_MATCHER;
const PHYSICAL_NETWORK = 'device!~"lo|veth.*|docker.*|br-.*"';

function hostSection(config: PerfstackConfig): Section {
  const { cpu, memory, disk } = config.host;
  const perDevice = (metric: string, extra: string[] = []) => sumBy(['instance', 'device'], rate(selector(metric, [...JOB_AND_INSTANCE, ...extra])));
  return {
    title: 'Host',
    panels: [
      timeseriesPanel({
        title: 'CPU utilisation',
        description: `Share of CPU time not idle, averaged over all cores (${node.cpuSeconds}). Dashed line: the ${formatPercent(cpu)} limit.`,
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - ${sumBy(['instance'], rate(selector(node.cpuSeconds, [...JOB_AND_INSTANCE, 'mode="idle"'])), 'avg')}`,
            legend: '{{instance}}',
          },
        ],
        thresholds: upperLimit(cpu),
        min: 0,
        max: 1,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Memory utilisation',
        description: `Share of memory not available to new processes: 1 - MemAvailable / MemTotal. Dashed line: the ${formatPercent(memory)} limit.`,
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - ${sumBy(['instance'], selector(node.memAvailable, JOB_AND_INSTANCE))} / ${sumBy(['instance'], selector(node.memTotal, JOB_AND_INSTANCE))}`,
            legend: '{{instance}}',
          },
        ],
        thresholds: upperLimit(memory),
        min: 0,
        max: 1,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Disk utilisation',
        description: `Share of each real filesystem in use: 1 - available / size (pseudo filesystems left out). Dashed line: the ${formatPercent(disk)} limit.`,
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - ${sumBy(['instance', 'mountpoint'], selector(node.fsAvail, [...JOB_AND_INSTANCE, REAL_FILESYSTEMS]))} / ${sumBy(
              ['instance', 'mountpoint'],
              selector(node.fsSize, [...JOB_AND_INSTANCE, REAL_FILESYSTEMS]),
            )}`,
            legend: '{{instance}} {{mountpoint}}',
          },
        ],
        thresholds: upperLimit(disk),
        min: 0,
        max: 1,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Network traffic',
        description: 'Bytes per second received and transmitted per network device (loopback and container bridges left out).',
        unit: 'Bps',
        queries: [
          { expr: perDevice(node.netReceive, [PHYSICAL_NETWORK]), legend: '{{instance}} {{device}} received' },
          { expr: perDevice(node.netTransmit, [PHYSICAL_NETWORK]), legend: '{{instance}} {{device}} transmitted' },
        ],
        min: 0,
      }),
      timeseriesPanel({
        title: 'Disk IO',
        description: 'Bytes per second read from and written to each block device.',
        unit: 'Bps',
        queries: [
          { expr: perDevice(node.diskReadBytes), legend: '{{instance}} {{device}} read' },
          { expr: perDevice(node.diskWrittenBytes), legend: '{{instance}} {{device}} written' },
        ],
        min: 0,
      }),
    ],
  };
}

function processSection(): Section {
  const perInstance = (metric: string) => sumBy(['instance'], selector(metric, JOB_AND_INSTANCE));
  return {
    title: 'Node.js process',
    panels: [
      timeseriesPanel({
        title: 'Event-loop lag p99',
        description: `99th percentile of the event-loop delay (${nodejs.eventLoopLagP99}). High lag delays every request the process serves.`,
        unit: 's',
        queries: [{ expr: perInstance(nodejs.eventLoopLagP99), legend: '{{instance}}' }],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Heap used and total',
        description: `V8 heap in use (${nodejs.heapUsed}) and allocated (${nodejs.heapTotal}).`,
        unit: 'bytes',
        queries: [
          { expr: perInstance(nodejs.heapUsed), legend: '{{instance}} used' },
          { expr: perInstance(nodejs.heapTotal), legend: '{{instance}} total' },
        ],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Time in garbage collection by kind',
        description: `Share of wall-clock time spent in GC pauses, per GC kind (rate of ${nodejs.gcDuration}_sum).`,
        unit: 'percentunit',
        queries: [{ expr: sumBy(['instance', 'kind'], rate(selector(`${nodejs.gcDuration}_sum`, JOB_AND_INSTANCE))), legend: '{{instance}} {{kind}}' }],
        min: 0,
        width: 8,
      }),
      timeseriesPanel({
        title: 'Process resident memory',
        description: `Resident set size of the process (${nodejs.residentMemory}).`,
        unit: 'bytes',
        queries: [{ expr: perInstance(nodejs.residentMemory), legend: '{{instance}}' }],
        min: 0,
      }),
      timeseriesPanel({
        title: 'Process CPU',
        description: `CPU time used by the process per second (${nodejs.cpuSeconds}); 100 % is one full core.`,
        unit: 'percentunit',
        queries: [{ expr: sumBy(['instance'], rate(selector(nodejs.cpuSeconds, JOB_AND_INSTANCE))), legend: '{{instance}}' }],
        min: 0,
      }),
    ],
  };
}

export function hostDashboard(config: PerfstackConfig): dashboard.Dashboard {
  return composeDashboard({
    key: 'host',
    title: 'Host and process',
    description: 'The machine (node_exporter) and the Node.js process of the service (event loop, heap, GC, CPU, memory).',
    tags: ['host', 'nodejs'],
    // Jobs of both node_exporter and the instrumented Node.js processes.
    variables: standardVariables(`{__name__=~"${node.cpuSeconds}|${nodejs.cpuSeconds}"}`),
    sections: [hostSection(config), processSection()],
  });
}
