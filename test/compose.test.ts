import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';

const projectRoot = resolve(import.meta.dirname, '..');
const composeFile = resolve(projectRoot, 'docker-compose.yml');

function composeConfig(env: Record<string, string>) {
  const cleanEnv = { ...process.env };
  delete cleanEnv.GRAFANA_ADMIN_PASSWORD;
  delete cleanEnv.POSTGRES_PASSWORD;
  return spawnSync('docker-compose', ['-f', composeFile, 'config', '-q'], {
    cwd: projectRoot,
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
  });
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(composeFile, 'utf8')) as {
    services: Record<string, { image?: string; build?: unknown; healthcheck?: unknown; ports?: string[]; profiles?: string[] }>;
    volumes: Record<string, unknown>;
  };

  it('is valid for docker-compose config -q when the secrets are set', () => {
    const result = composeConfig({ GRAFANA_ADMIN_PASSWORD: 'test-only', POSTGRES_PASSWORD: 'test-only' });
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

  it('keeps secrets out of the file and documents each one in .env.example', () => {
    const text = readFileSync(composeFile, 'utf8');
    expect(text).not.toMatch(/hooks\.slack\.com/);
    const variables = [...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!);
    const example = readFileSync(resolve(projectRoot, '.env.example'), 'utf8');
    for (const variable of new Set(variables)) expect(example, variable).toContain(`${variable}=`);
  });
});
