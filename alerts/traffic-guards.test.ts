// Ratio alerts beyond the generated promtool tests: a bad ratio over too little traffic stays quiet
// (the cache's MIN_CACHED_READS, the database's MIN_TABLE_SCANS_PER_HOUR and
// MIN_BLOCK_ACCESSES_PER_10_MINUTES), so a smoke run on a fresh stack pages nobody.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../config/index.js';
import { cache as names, pgServer } from '../metrics/index.js';
import rawConfig from '../perfstack.config.js';
import { runPromtool } from './promtool.js';
import { HIT_RATIO_WINDOW, hitRatioAlerts, MIN_CACHED_READS } from './rules/cache.js';
import { databaseAlerts, MIN_BLOCK_ACCESSES_PER_10_MINUTES, MIN_TABLE_SCANS_PER_HOUR } from './rules/database.js';
import { counter } from './rules/fixtures.js';
import { expandTemplate } from './rules/format.js';
import { generateRules, RULES_DIR } from './rules/index.js';

const config = parseConfig(rawConfig);
const root = mkdtempSync(join(tmpdir(), 'perfstack-guard-rules-'));
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

  it.each([
    { alertname: 'DatabaseIndexUsageLow', part: pgServer.idxScan, other: pgServer.seqScan, minimum: MIN_TABLE_SCANS_PER_HOUR, windowMinutes: 60, forMinutes: 30 },
    { alertname: 'DatabaseCacheHitLow', part: pgServer.blksHit, other: pgServer.blksRead, minimum: MIN_BLOCK_ACCESSES_PER_10_MINUTES, windowMinutes: 10, forMinutes: 15 },
  ])('$alertname: a low ratio on an idle database stays quiet; with enough activity it fires', async ({ alertname, part, other, minimum, windowMinutes, forMinutes }) => {
    const rulesFile = generateRules(config).find((f) => f.path === `${RULES_DIR}/database.yml`)!;
    const recording = generateRules(config).find((f) => f.path === `${RULES_DIR}/recording.yml`)!;
    writeFileSync(join(root, 'database.yml'), rulesFile.content);
    writeFileSync(join(root, 'recording.yml'), recording.content);
    const database = { job: 'pg-stats', instance: 'pg-stats:9187', datname: 'perfstack' };
    const evalMinutes = windowMinutes + forMinutes + 15;
    // A ratio of 0.5, below either floor; per minute a tenth of the guard over the window (idle), or twice it.
    const idle = minimum / windowMinutes / 10;
    const busy = (minimum / windowMinutes) * 2;
    const traffic = (perMinute: number) => [counter(part, database, perMinute / 2, evalMinutes + 1), counter(other, database, perMinute / 2, evalMinutes + 1)];
    const alert = databaseAlerts(config).find((a) => a.name === alertname)!;
    const annotations = Object.fromEntries(Object.entries(alert.annotations).map(([key, text]) => [key, expandTemplate(text, { datname: 'perfstack' }, 0.5)]));
    const test = (name: string, series: unknown, expAlerts: unknown[]) => ({
      name,
      interval: '1m',
      input_series: series,
      alert_rule_test: [{ eval_time: `${evalMinutes}m`, alertname, exp_alerts: expAlerts }],
    });
    const file = `guard-${alertname}.test.yml`;
    writeFileSync(
      join(root, file),
      stringify({
        rule_files: ['recording.yml', 'database.yml'],
        evaluation_interval: '1m',
        tests: [test('idle', traffic(idle), []), test('busy', traffic(busy), [{ exp_labels: { datname: 'perfstack', ...alert.labels }, exp_annotations: annotations }])],
      }),
    );
    const result = await runPromtool(['test', 'rules', file], root);
    expect(result.code, result.output).toBe(0);
  });
});
