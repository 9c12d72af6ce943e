import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// The one place that knows system package names. Each tool is checked by a file it installs,
// so a second run installs nothing.

interface Tool {
  /** What the user reads. */
  name: string;
  /** A file that exists once the package is installed. */
  provides: string;
  /** The Debian package that brings it. */
  aptPackage: string;
}

export const TOOL_GROUPS = {
  prometheus: [
    { name: 'prometheus', provides: '/usr/bin/prometheus', aptPackage: 'prometheus' },
    { name: 'promtool', provides: '/usr/bin/promtool', aptPackage: 'prometheus' },
    { name: 'alertmanager', provides: '/usr/bin/prometheus-alertmanager', aptPackage: 'prometheus-alertmanager' },
    { name: 'amtool', provides: '/usr/bin/amtool', aptPackage: 'prometheus-alertmanager' },
    { name: 'node_exporter', provides: '/usr/bin/prometheus-node-exporter', aptPackage: 'prometheus-node-exporter' },
    // Probes each service's health endpoint: availability as clients see it.
    { name: 'blackbox_exporter', provides: '/usr/bin/prometheus-blackbox-exporter', aptPackage: 'prometheus-blackbox-exporter' },
  ],
  compose: [{ name: 'docker-compose (validation only)', provides: '/usr/bin/docker-compose', aptPackage: 'docker-compose' }],
  // The browser scenario drives Debian's Chromium (through playwright-core).
  browser: [{ name: 'Chromium', provides: '/usr/bin/chromium', aptPackage: 'chromium' }],
  postgres: [
    { name: 'PostgreSQL 15', provides: '/usr/lib/postgresql/15/bin/initdb', aptPackage: 'postgresql-15' },
    { name: 'pg_stat_statements and pg_trgm', provides: '/usr/share/postgresql/15/extension/pg_trgm.control', aptPackage: 'postgresql-contrib' },
    { name: 'postgres_exporter', provides: '/usr/bin/prometheus-postgres-exporter', aptPackage: 'prometheus-postgres-exporter' },
  ],
  // The reference service's cache in front of search and entity reads, and the exporter that watches
  // the server itself (memory, evictions, clients). Under systemd the package starts its own service
  // on :9121, as prometheus-node-exporter does on :9100: perfstack leaves both alone, runs the binary
  // with its own flags, and takes another port when the default is busy.
  redis: [
    { name: 'redis-server', provides: '/usr/bin/redis-server', aptPackage: 'redis-server' },
    { name: 'redis_exporter', provides: '/usr/bin/prometheus-redis-exporter', aptPackage: 'prometheus-redis-exporter' },
  ],
  // The opt-in long-term store (`perfstack start --long-term-store`); vmalert evaluates the rules there.
  longTermStore: [
    { name: 'VictoriaMetrics', provides: '/usr/bin/victoria-metrics', aptPackage: 'victoria-metrics' },
    { name: 'vmalert', provides: '/usr/bin/vmalert', aptPackage: 'victoria-metrics' },
  ],
} as const satisfies Record<string, readonly Tool[]>;

export type ToolGroup = keyof typeof TOOL_GROUPS;

export function missingTools(groups: readonly ToolGroup[]): Tool[] {
  return groups.flatMap((group) => TOOL_GROUPS[group] as readonly Tool[]).filter((tool) => !existsSync(tool.provides));
}

function run(command: string, args: string[]): void {
  console.log(`bootstrap: $ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) throw new Error(`bootstrap: could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`bootstrap: ${command} ${args.join(' ')} exited with ${result.status}`);
}

/** Installs the Debian packages behind any missing tool; idempotent, and says what it does. */
export async function bootstrapTools(groups: readonly ToolGroup[], options: { dryRun: boolean }): Promise<void> {
  const missing = missingTools(groups);
  if (missing.length === 0) {
    console.log(`bootstrap: all tools present (${groups.join(', ')}); nothing to install.`);
    return;
  }
  const packages = [...new Set(missing.map((tool) => tool.aptPackage))].sort();
  console.log(`bootstrap: missing ${missing.map((tool) => tool.name).join(', ')}`);
  if (options.dryRun) {
    console.log(`bootstrap: would run apt-get install -y ${packages.join(' ')}`);
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`bootstrap: installing ${packages.join(' ')} needs root; run as root or install them with apt-get yourself`);
  }
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages]);
  const stillMissing = missingTools(groups);
  if (stillMissing.length > 0) {
    throw new Error(`bootstrap: still missing after install: ${stillMissing.map((t) => `${t.name} (${t.provides})`).join(', ')}`);
  }
  console.log(`bootstrap: installed ${packages.join(', ')}`);
}
