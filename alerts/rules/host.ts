import type { PerfstackConfig } from '../../config/index.js';
import { node, INFRASTRUCTURE_JOBS, REAL_FILESYSTEM_MATCHER } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type AlertSpec, type RuleFile } from './alert.js';
import { counter, gauge, justAbove, justBelow, type InputSeries } from './fixtures.js';
import { humanizers, promNumber, selector } from './format.js';

// Host resource alerts from node_exporter.

/** Pseudo and read-only image filesystems never fill up in a way anyone can act on. */
export const REAL_FILESYSTEMS = selector([REAL_FILESYSTEM_MATCHER]);

export const FIXTURE_HOST = { instance: 'node-exporter:9100', job: INFRASTRUCTURE_JOBS.nodeExporter };
export const FIXTURE_FILESYSTEM = { ...FIXTURE_HOST, device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' };
export const FIXTURE_DISK_BYTES = 100 * 1024 ** 3;

function idleCpu(utilisation: number, samples: number): InputSeries[] {
  // Two CPUs, both busy at `utilisation`: idle seconds grow by (1 - utilisation) per second.
  return ['0', '1'].map((cpu) => counter(node.cpuSeconds, { ...FIXTURE_HOST, cpu, mode: 'idle' }, 60 * (1 - utilisation), samples));
}

function memory(utilisation: number, samples: number): InputSeries[] {
  const total = 16 * 1024 ** 3;
  return [gauge(node.memTotal, FIXTURE_HOST, total, samples), gauge(node.memAvailable, FIXTURE_HOST, Math.round(total * (1 - utilisation)), samples)];
}

function disk(utilisation: number, samples: number): InputSeries[] {
  return [
    gauge(node.fsSize, FIXTURE_FILESYSTEM, FIXTURE_DISK_BYTES, samples),
    gauge(node.fsAvail, FIXTURE_FILESYSTEM, Math.round(FIXTURE_DISK_BYTES * (1 - utilisation)), samples),
  ];
}

export function hostAlerts(config: PerfstackConfig): AlertDefinition[] {
  const host = config.host;
  const alert = (spec: Omit<AlertSpec, 'team' | 'dashboard' | 'severity' | 'forMinutes'>) =>
    defineAlert(config, { ...spec, team: host.team, dashboard: 'host', severity: 'warning', forMinutes: 15 });
  const used = (threshold: number) => ({ firing: justAbove(threshold, 1), quiet: justBelow(threshold) });
  const cpu = used(host.cpu);
  const mem = used(host.memory);
  const fs = used(host.disk);
  return [
    alert({
      name: 'HostCpuHigh',
      expr: `1 - avg by (instance) (rate(${node.cpuSeconds}{mode="idle"}[5m])) > ${promNumber(host.cpu)}`,
      threshold: compare('>', host.cpu),
      summary: `Host CPU busy above ${humanizers.humanizePercentage(host.cpu)}`,
      description: `CPU on {{ $labels.instance }} is {{ $value | humanizePercentage }} busy over 5 minutes (limit ${humanizers.humanizePercentage(host.cpu)}); load test results from this host are suspect.`,
      firing: (samples) => ({ series: idleCpu(cpu.firing, samples), resultLabels: { instance: FIXTURE_HOST.instance }, value: cpu.firing }),
      quiet: (samples) => idleCpu(cpu.quiet, samples),
    }),
    alert({
      name: 'HostMemoryHigh',
      expr: `1 - (${node.memAvailable} / ${node.memTotal}) > ${promNumber(host.memory)}`,
      threshold: compare('>', host.memory),
      summary: `Host memory use above ${humanizers.humanizePercentage(host.memory)}`,
      description: `{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory (limit ${humanizers.humanizePercentage(host.memory)}).`,
      firing: (samples) => ({ series: memory(mem.firing, samples), resultLabels: FIXTURE_HOST, value: mem.firing }),
      quiet: (samples) => memory(mem.quiet, samples),
    }),
    alert({
      name: 'HostDiskHigh',
      expr: `1 - (${node.fsAvail}${REAL_FILESYSTEMS} / ${node.fsSize}${REAL_FILESYSTEMS}) > ${promNumber(host.disk)}`,
      threshold: compare('>', host.disk),
      summary: `Filesystem use above ${humanizers.humanizePercentage(host.disk)}`,
      description: `{{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full (limit ${humanizers.humanizePercentage(host.disk)}).`,
      firing: (samples) => ({ series: disk(fs.firing, samples), resultLabels: FIXTURE_FILESYSTEM, value: fs.firing }),
      quiet: (samples) => disk(fs.quiet, samples),
    }),
  ];
}

export function hostRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'host', dependsOn: [], groups: [{ name: 'perfstack-host', alerts: hostAlerts(config) }] };
}
