import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { findDrift, generateAll, validationSteps, writeGeneratedFiles } from '../cli/index.js';

const projectRoot = resolve(import.meta.dirname, '..');
const config = parseConfig(defaults);

describe('generated files', () => {
  it('are committed and up to date (run `npm run generate` if this fails)', () => {
    const drift = findDrift(projectRoot, generateAll(config));
    expect(drift.changed, 'stale or missing generated files').toEqual([]);
    expect(drift.orphaned, 'files no generator produces any more').toEqual([]);
  });

  it('are byte-identical when generated twice', () => {
    expect(generateAll(parseConfig(defaults))).toEqual(generateAll(parseConfig(defaults)));
  });

  it('are written atomically, only when changed, and orphans are removed', () => {
    const root = mkdtempSync(join(tmpdir(), 'perfstack-generate-'));
    try {
      const files = generateAll(config);
      const first = writeGeneratedFiles(root, files);
      expect(first.changed).toHaveLength(files.length);
      const second = writeGeneratedFiles(root, files);
      expect(second).toEqual({ changed: [], orphaned: [] });

      const orphan = join(root, 'provisioning/prometheus/rules/removed-group.yml');
      mkdirSync(join(root, 'provisioning/prometheus/rules'), { recursive: true });
      writeFileSync(orphan, 'groups: []\n');
      const edited = files[0]!;
      writeFileSync(join(root, edited.path), 'hand edit\n');
      const third = writeGeneratedFiles(root, files);
      expect(third).toEqual({ changed: [edited.path], orphaned: ['provisioning/prometheus/rules/removed-group.yml'] });
      expect(existsSync(orphan)).toBe(false);
      expect(readFileSync(join(root, edited.path), 'utf8')).toBe(edited.content);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('follow the config: a changed SLA changes the k6 thresholds', () => {
    const changed = structuredClone(defaults);
    changed.services[0]!.sla.latency = { p95Seconds: 0.25 };
    const thresholds = generateAll(parseConfig(changed)).find((f) => f.path === 'k6/thresholds.json')!;
    expect(JSON.parse(thresholds.content).thresholds['http_req_duration{service:api}']).toEqual(['p(95)<250']);
  });
});

describe('committed generated files pass the tools that will load them', () => {
  it.each(validationSteps(projectRoot).map((step) => [step.name, step] as const))('%s', (_name, step) => {
    expect(step.result.output).not.toMatch(/FAILED|error/i);
    expect(step.result.ok, step.result.output).toBe(true);
  });
});
