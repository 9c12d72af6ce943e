import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { longestSloWindowSeconds, windowSeconds } from '../alerts/index.js';

const projectRoot = resolve(import.meta.dirname, '..');
const composeFile = resolve(projectRoot, 'docker-compose.yml');

const secrets = {
  GRAFANA_ADMIN_PASSWORD: 'test-only',
  POSTGRES_PASSWORD: 'test-only',
  PERFSTACK_APP_PASSWORD: 'app-test-only',
  PERFSTACK_EXPORTER_PASSWORD: 'exporter-test-only',
  PERFSTACK_STORE_PASSWORD: 'store-test-only',
};

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: (string | { source?: string; target?: string })[];
  network_mode?: string;
  pid?: string;
  extra_hosts?: string[] | Record<string, string>;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: unknown;
  ports?: string[];
  profiles?: string[];
}

function composeConfig(env: Record<string, string>, args: string[] = ['config', '-q']) {
  const cleanEnv = { ...process.env };
  for (const name of [...Object.keys(secrets), 'SCENARIO', 'TESTID', 'NODE_EXPORTER_ADDRESS']) delete cleanEnv[name];
  return spawnSync('docker-compose', ['-f', composeFile, ...args], {
    cwd: projectRoot,
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
  });
}

/** The file as docker-compose resolves it with one profile enabled (variables interpolated). */
function resolvedWithProfile(profile: string, env: Record<string, string> = {}) {
  const result = composeConfig({ ...secrets, ...env }, ['--profile', profile, 'config']);
  expect(result.stderr, `--profile ${profile}`).toBe('');
  expect(result.status, `--profile ${profile}`).toBe(0);
  return parse(result.stdout) as { services: Record<string, ComposeService> };
}

/** The value that follows a flag in a command list. */
function flag(command: string[] | undefined, name: string): string | undefined {
  const at = command?.indexOf(name) ?? -1;
  return at < 0 ? undefined : command?.[at + 1];
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(composeFile, 'utf8')) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };

  it('is valid for docker-compose config -q when the secrets are set', () => {
    const result = composeConfig(secrets);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses to start without a Grafana admin password: there is no default', () => {
    const { GRAFANA_ADMIN_PASSWORD: _unset, ...others } = secrets;
    const result = composeConfig(others);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set GRAFANA_ADMIN_PASSWORD');
  });

  it('runs the core services with pinned images, healthchecks and loopback-only ports', () => {
    for (const name of ['prometheus', 'alertmanager', 'grafana', 'postgres', 'redis', 'redis-exporter', 'node-exporter', 'blackbox-exporter']) {
      const service = compose.services[name];
      expect(service, name).toBeDefined();
      expect(service?.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+[\w.-]*$/);
      expect(service?.healthcheck, name).toBeDefined();
      for (const port of service?.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
    for (const name of ['perfstack-app', 'pg-stats']) {
      expect(compose.services[name]?.build, `${name} is built from this repository`).toBe('.');
      expect(compose.services[name]?.healthcheck, name).toBeDefined();
      expect(compose.services[name]?.profiles, `${name} runs by default`).toBeUndefined();
    }
    // Redis 7.0 (BSD-3); 7.4 and later changed licence.
    expect(compose.services.redis?.image).toMatch(/^redis:7\.0\.\d+-alpine$/);
    expect(compose.services['perfstack-app']?.environment?.PERFSTACK_REDIS_URL).toBe('redis://redis:6379');
    expect(compose.services.k6?.profiles, 'k6 runs only on demand').toEqual(['k6']);
    expect(compose.services.k6?.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    expect(Object.keys(compose.volumes).sort()).toEqual(['alertmanager-data', 'grafana-data', 'postgres-data', 'prometheus-data', 'victoriametrics-data']);
  });

  it('resolves with the k6 profile and with the loadgen profile', () => {
    for (const profile of ['k6', 'loadgen']) {
      const { services } = resolvedWithProfile(profile);
      expect(services[profile]?.profiles, profile).toEqual([profile]);
    }
  });

  it('runs perfstack’s engine from the repository image in the loadgen profile, pushing to prometheus:9090', () => {
    const raw = compose.services.loadgen;
    expect(raw?.profiles, 'loadgen runs only on demand').toEqual(['loadgen']);
    expect(raw?.build, 'built from this repository').toBe('.');
    // One image for everything built from this repository, the name the Kubernetes Job uses too.
    const repositoryImage = parseConfig(defaults).loadgen.image;
    for (const name of ['perfstack-app', 'pg-stats', 'loadgen']) expect(compose.services[name]?.image, name).toBe(repositoryImage);

    const { services } = resolvedWithProfile('loadgen');
    const command = services.loadgen?.command;
    // The image's entry point is `node bin/perfstack.js`: the command is the `run` subcommand.
    expect(command?.slice(0, 2)).toEqual(['run', 'smoke']);
    expect(flag(command, '--base-url')).toBe('http://perfstack-app:8080');
    expect(flag(command, '--prometheus-url')).toBe('http://prometheus:9090');
    expect(command, 'remote-write stays on').not.toContain('--no-remote-write');
    expect(flag(command, '--testid')).toBe('compose');
    expect(command).toContain('--no-store');
    expect(services.loadgen?.depends_on?.['perfstack-app']?.condition).toBe('service_healthy');
    expect(services.loadgen?.depends_on?.prometheus?.condition).toBe('service_healthy');
    // The Prometheus it points at accepts remote-write.
    expect(services.prometheus?.command).toContain('--web.enable-remote-write-receiver');

    // SCENARIO and TESTID mean the same as for the k6 profile.
    const chosen = resolvedWithProfile('loadgen', { SCENARIO: 'load', TESTID: 'ci-42' }).services.loadgen?.command;
    expect(chosen?.[1]).toBe('load');
    expect(flag(chosen, '--testid')).toBe('ci-42');
    const k6 = resolvedWithProfile('k6', { SCENARIO: 'load', TESTID: 'ci-42' }).services.k6;
    expect(k6?.command).toContain('/perfstack/k6/scenarios/load.ts');
    expect(k6?.command).toContain('testid=ci-42');
  });

  it('pulls no k6 image outside the opt-in k6 profile', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!/k6/i.test(service.image ?? '')) continue;
      expect(name, `${name} uses ${service.image}`).toBe('k6');
      expect(service.profiles, `${name} uses ${service.image}`).toEqual(['k6']);
    }
    // Resolved too, with every variable at its default: the loadgen profile pulls nothing of k6's.
    const { services } = resolvedWithProfile('loadgen');
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'k6') expect(service.image ?? '', name).not.toMatch(/k6/i);
    }
  });

  it('builds an image that holds what perfstack’s engine needs', () => {
    const dockerfile = readFileSync(resolve(projectRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY \. \.$/m);
    // npm ci installs optional dependencies unless told not to: esbuild's platform binary is one.
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/--omit[= ]optional|--no-optional/);
    const ignored = readFileSync(resolve(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/^\/+|\/+$/g, ''))
      .filter((line) => line && !line.startsWith('#'));
    // Plain names only, so a prefix comparison is exact; a glob here needs a smarter check.
    for (const pattern of ignored) expect(pattern, '.dockerignore').toMatch(/^[\w.-]+(\/[\w.-]+)*$/);
    for (const needed of ['bin/perfstack.js', 'cli/main.ts', 'loadgen/index.ts', 'k6/scenarios/smoke.ts', 'k6/thresholds.json', 'perfstack.config.ts']) {
      for (const pattern of ignored) expect(needed === pattern || needed.startsWith(`${pattern}/`), `${needed} is excluded by ${pattern}`).toBe(false);
    }
    const manifest = JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const runtime of ['tsx', 'typescript', 'esbuild']) expect(manifest.dependencies[runtime], `${runtime} is a runtime dependency`).toBeDefined();
    const lock = JSON.parse(readFileSync(resolve(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { optional?: boolean }> };
    for (const platform of ['linux-x64', 'linux-arm64']) expect(lock.packages[`node_modules/@esbuild/${platform}`], `@esbuild/${platform} in the lock file`).toBeDefined();
  });

  it('is as correct as the native stack: asserted on `docker-compose config` output', () => {
    const { services } = resolvedWithProfile('loadgen');
    const all = { ...services, ...resolvedWithProfile('k6').services };
    // A healthcheck on every service, the one-shot load runs included.
    for (const [name, service] of Object.entries(all)) expect(service.healthcheck, name).toBeDefined();

    // pg_stat_statements (and pg_trgm) created when the database is initialised, with the roles.
    const postgres = services.postgres!;
    expect(postgres.command).toContain('shared_preload_libraries=pg_stat_statements');
    const initMount = (postgres.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`)).find((v) => v.includes('/docker-entrypoint-initdb.d'));
    expect(initMount, 'an init folder is mounted').toBeDefined();
    const init = readFileSync(resolve(projectRoot, 'provisioning/postgres/initdb/10-perfstack-roles.sh'), 'utf8');
    expect(init).toContain('CREATE EXTENSION IF NOT EXISTS pg_stat_statements;');
    expect(init).toMatch(/CREATE ROLE perfstack_exporter LOGIN PASSWORD :'exporter_password' IN ROLE pg_monitor;/);
    expect(init).toMatch(/CREATE ROLE perfstack_app LOGIN/);
    expect(init).toMatch(/CREATE DATABASE perfstack_baselines OWNER perfstack_store;/);
    expect(init, 'no role but the owner is a superuser').not.toMatch(/SUPERUSER|CREATEROLE/);

    // Each client connects with its own least-privilege role, never the owner (superuser).
    const userOf = (url: string | undefined) => (url ? new URL(url).username : undefined);
    expect(userOf(services['perfstack-app']?.environment?.DATABASE_URL)).toBe('perfstack_app');
    expect(userOf(services['pg-stats']?.environment?.DATABASE_URL)).toBe('perfstack_exporter');
    expect(services['perfstack-app']?.environment?.DATABASE_URL).toContain(':app-test-only@');
    expect(services['pg-stats']?.environment?.DATABASE_URL).toContain(':exporter-test-only@');
    expect(postgres.environment?.PERFSTACK_STORE_PASSWORD).toBe('store-test-only');

    // The app migrates on every start and seeds only when the entities table is empty.
    const appScript = (services['perfstack-app']?.command ?? []).join(' ');
    expect(services['perfstack-app']?.entrypoint).toEqual(['sh', '-c']);
    expect(appScript).toMatch(/^node bin\/perfstack\.js migrate &&/);
    expect(appScript).toContain('SELECT EXISTS (SELECT 1 FROM entities)');
    expect(appScript).toMatch(/-eq 1 \]; then node bin\/perfstack\.js seed small/);
    expect(appScript).toMatch(/exec node bin\/perfstack\.js app --host 0\.0\.0\.0 --port 8080$/);
    expect(appScript, 'never an unconditional --seed').not.toContain('--seed');

    // node-exporter sees the host's network and processes; Prometheus reaches it through the gateway.
    expect(services['node-exporter']?.network_mode).toBe('host');
    expect(services['node-exporter']?.pid).toBe('host');
    expect(JSON.stringify(services.prometheus?.extra_hosts)).toContain('host.docker.internal');
    const prometheusYml = readFileSync(resolve(projectRoot, 'provisioning/prometheus/prometheus.yml'), 'utf8');
    expect(prometheusYml).toContain('host.docker.internal:9100');

    // The blackbox exporter probes every service's health endpoint.
    expect(services['blackbox-exporter']?.image).toMatch(/^prom\/blackbox-exporter:v\d+\.\d+\.\d+$/);
    expect(prometheusYml).toContain('job_name: blackbox');
    expect(prometheusYml).toContain('http://perfstack-app:8080/health');

    // redis_exporter (MIT; the release Debian ships) watches the compose Redis, scraped as job redis.
    const redisExporter = services['redis-exporter'];
    expect(redisExporter?.image).toBe('oliver006/redis_exporter:v1.45.0');
    expect(redisExporter?.command).toContain('-redis.addr=redis://redis:6379');
    expect(compose.services['redis-exporter']?.ports).toEqual(['127.0.0.1:9121:9121']);
    expect(redisExporter?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(prometheusYml).toMatch(/job_name: redis\n\s+static_configs:\n\s+- targets:\n\s+- redis-exporter:9121/);

    // Retention from the config, covering the longest SLO window plus margin.
    const config = parseConfig(defaults);
    const retentionFlag = services.prometheus?.command?.find((c) => c.startsWith('--storage.tsdb.retention.time='));
    expect(retentionFlag).toBe(`--storage.tsdb.retention.time=${config.retention}`);
    expect(windowSeconds(config.retention)).toBeGreaterThan(longestSloWindowSeconds(config.slos));

    // Node in the image is a supported LTS line (22 until 2027-04, 24 until 2028-04).
    const from = /^FROM node:(\d+)-/m.exec(readFileSync(resolve(projectRoot, 'Dockerfile'), 'utf8'));
    expect(['22', '24']).toContain(from?.[1]);
  });

  it('keeps secrets out of the file and documents each one in .env.example', () => {
    const text = readFileSync(composeFile, 'utf8');
    expect(text).not.toMatch(/hooks\.slack\.com/);
    const variables = [...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!);
    const example = readFileSync(resolve(projectRoot, '.env.example'), 'utf8');
    for (const variable of new Set(variables)) expect(example, variable).toContain(`${variable}=`);
  });
});
