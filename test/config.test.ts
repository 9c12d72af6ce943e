import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import defaults from '../perfstack.config.js';
import { ConfigError, parseConfig, type PerfstackConfigInput } from '../config/index.js';

const projectRoot = resolve(import.meta.dirname, '..');

/** A deep copy of the default config, changed by `edit`. */
function variant(edit: (config: any) => void): PerfstackConfigInput {
  const copy = structuredClone(defaults);
  edit(copy);
  return copy;
}

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input, 'test.config.ts');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('config validation', () => {
  it('accepts the default config and fills in defaults', () => {
    const config = parseConfig(defaults);
    expect(config.services.map((s) => s.name)).toEqual(['api', 'search']);
    expect(config.services[0]?.sla.latency.p95Seconds).toBe(0.5);
    expect(config.services[1]?.sla.latency).toEqual({ p50Seconds: 0.4, p95Seconds: 3 });
    expect(config.database).toMatchObject({ avgQuerySeconds: 0.1, maxQuerySeconds: 1, poolUtilisation: 0.8, indexUsage: 0.95, cacheHit: 0.99 });
    expect(config.host).toMatchObject({ cpu: 0.7, memory: 0.8, disk: 0.8 });
  });

  it.each([
    ['a negative latency', (c: any) => (c.services[0].sla.latency.p95Seconds = -0.5), 'services[0].sla.latency.p95Seconds'],
    ['an availability of 120 %', (c: any) => (c.services[0].sla.availability = 1.2), 'services[0].sla.availability'],
    ['an SLO naming an unknown service', (c: any) => (c.slos[1].service = 'checkout'), 'slos[1].service: unknown service "checkout"'],
    ['an SLO objective of 100 %', (c: any) => (c.slos[0].objective = 1), 'slos[0].objective'],
    ['a latency SLO off the bucket boundaries', (c: any) => (c.slos[1].sli.thresholdSeconds = 0.3), 'slos[1].sli.thresholdSeconds: must be a histogram bucket boundary'],
    ['a warning error rate above critical', (c: any) => (c.services[0].sla.errorRate.warning = 0.5), 'services[0].sla.errorRate.warning'],
    ['a duplicate service', (c: any) => c.services.push(structuredClone(c.services[0])), 'services[2].name: duplicate service name "api"'],
    ['a Slack channel without #', (c: any) => (c.alerting.severities.critical.channel = 'oncall'), 'alerting.severities.critical.channel'],
    ['a bad Prometheus duration', (c: any) => (c.alerting.severities.warning.repeatInterval = '4 hours'), 'alerting.severities.warning.repeatInterval'],
    ['an unknown field (a typo)', (c: any) => (c.database.poolUtilization = 0.8), 'database: Unrecognized key: "poolUtilization"'],
    ['a relative Grafana URL', (c: any) => (c.links.grafanaUrl = 'grafana:3000'), 'links.grafanaUrl'],
  ])('rejects %s, naming the field', (_label, edit, expected) => {
    const problems = problemsOf(variant(edit));
    expect(problems.join('\n')).toContain(expected);
  });

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf(
      variant((c) => {
        c.services[0].sla.latency.p95Seconds = -1;
        c.host.cpu = 7;
      }),
    );
    expect(problems).toHaveLength(2);
  });
});

describe('perfstack generate with a bad config', () => {
  it('exits non-zero, names the field and writes no file', () => {
    const folder = mkdtempSync(join(tmpdir(), 'perfstack-badconfig-'));
    try {
      const configModule = join(projectRoot, 'config/index.ts');
      writeFileSync(
        join(folder, 'bad.config.mts'),
        `import { defineConfig } from ${JSON.stringify(configModule)};
import base from ${JSON.stringify(join(projectRoot, 'perfstack.config.ts'))};
const copy = structuredClone(base);
copy.services[0]!.sla.latency = { p95Seconds: -1 };
export default defineConfig(copy);
`,
      );
      const result = spawnSync(process.execPath, [join(projectRoot, 'bin/perfstack.js'), 'generate', '--config', 'bad.config.mts'], {
        cwd: folder,
        encoding: 'utf8',
      });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('bad.config.mts: invalid config');
      expect(result.stderr).toContain('services[0].sla.latency.p95Seconds: must be a positive number of seconds');
      expect(readdirSync(folder)).toEqual(['bad.config.mts']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
