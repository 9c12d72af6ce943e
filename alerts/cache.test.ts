// Cache alerts beyond the generated promtool tests: a low hit ratio over too few cached reads stays
// quiet (the MIN_CACHED_READS guard), so a smoke run's first reads of new keys page nobody.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../config/index.js';
import { cache as names } from '../metrics/index.js';
import rawConfig from '../perfstack.config.js';
import { runPromtool } from './promtool.js';
import { HIT_RATIO_WINDOW, hitRatioAlerts, MIN_CACHED_READS } from './rules/cache.js';
import { counter } from './rules/fixtures.js';
import { expandTemplate } from './rules/format.js';
import { generateRules, RULES_DIR } from './rules/index.js';

const config = parseConfig(rawConfig);
const root = mkdtempSync(join(tmpdir(), 'perfstack-cache-rules-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('cache alerts', () => {
  it(`a low hit ratio over fewer than ${MIN_CACHED_READS} cached reads in ${HIT_RATIO_WINDOW} stays quiet; with enough reads it fires`, async () => {
    const rulesFile = generateRules(config).find((f) => f.path === `${RULES_DIR}/cache.yml`)!;
    writeFileSync(join(root, 'cache.yml'), rulesFile.content);
    const job = { job: 'perfstack-app', instance: 'app:8080' };
    const evalMinutes = config.cache.hitRatioForMinutes + 15;
    // A hit ratio of 0.2, far below the floor; per minute 8 reads (80 in the window) or 20 (200).
    const reads = (perMinute: number) => [
      counter(names.requests, { ...job, [names.labels.cache]: 'search', [names.labels.result]: 'hit' }, perMinute * 0.2, evalMinutes + 1),
      counter(names.requests, { ...job, [names.labels.cache]: 'search', [names.labels.result]: 'miss' }, perMinute * 0.8, evalMinutes + 1),
    ];
    expect(8 * 10).toBeLessThan(MIN_CACHED_READS);
    expect(20 * 10).toBeGreaterThanOrEqual(MIN_CACHED_READS);
    const alert = hitRatioAlerts(config).find((a) => a.labels[names.labels.cache] === 'search')!;
    const resultLabels = { job: job.job, [names.labels.cache]: 'search' };
    const annotations = Object.fromEntries(Object.entries(alert.annotations).map(([key, text]) => [key, expandTemplate(text, resultLabels, 0.2)]));
    const test = (name: string, series: unknown, expAlerts: unknown[]) => ({
      name,
      interval: '1m',
      input_series: series,
      alert_rule_test: [{ eval_time: `${evalMinutes}m`, alertname: 'CacheHitRatioLow', exp_alerts: expAlerts }],
    });
    writeFileSync(
      join(root, 'guard.test.yml'),
      stringify({
        rule_files: ['cache.yml'],
        evaluation_interval: '1m',
        tests: [test('few reads', reads(8), []), test('enough reads', reads(20), [{ exp_labels: { ...resultLabels, ...alert.labels }, exp_annotations: annotations }])],
      }),
    );
    const result = await runPromtool(['test', 'rules', 'guard.test.yml'], root);
    expect(result.code, result.output).toBe(0);
  });
});
