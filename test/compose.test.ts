import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';

const projectRoot = resolve(import.meta.dirname, '..');
const composeFile = resolve(projectRoot, 'docker-compose.yml');

const secrets = { GRAFANA_ADMIN_PASSWORD: 'test-only', POSTGRES_PASSWORD: 'test-only' };

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: unknown;
  ports?: string[];
  profiles?: string[];
}

function composeConfig(env: Record<string, string>, args: string[] = ['config', '-q']) {
  const cleanEnv = { ...process.env };
  for (const name of ['GRAFANA_ADMIN_PASSWORD', 'POSTGRES_PASSWORD', 'SCENARIO', 'TESTID']) delete cleanEnv[name];
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
    const result = composeConfig({ POSTGRES_PASSWORD: 'test-only' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set GRAFANA_ADMIN_PASSWORD');
  });

  it('runs the core services with pinned images, healthchecks and loopback-only ports', () => {
    for (const name of ['prometheus', 'alertmanager', 'grafana', 'postgres', 'node-exporter']) {
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
    expect(compose.services.k6?.profiles, 'k6 runs only on demand').toEqual(['k6']);
    expect(compose.services.k6?.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    expect(Object.keys(compose.volumes).sort()).toEqual(['alertmanager-data', 'grafana-data', 'postgres-data', 'prometheus-data']);
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

  it('keeps secrets out of the file and documents each one in .env.example', () => {
    const text = readFileSync(composeFile, 'utf8');
    expect(text).not.toMatch(/hooks\.slack\.com/);
    const variables = [...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!);
    const example = readFileSync(resolve(projectRoot, '.env.example'), 'utf8');
    for (const variable of new Set(variables)) expect(example, variable).toContain(`${variable}=`);
  });
});
