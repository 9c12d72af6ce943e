// Ratio alerts beyond the generated promtool tests: a bad ratio over too little traffic stays quiet
// (the cache's MIN_CACHED_READS, the database's MIN_TABLE_SCANS_PER_HOUR and
// MIN_BLOCK_ACCESSES_PER_10_MINUTES), so a smoke run on a fresh stack pages nobody.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { cache as names, pgServer } from '../metrics/index.js';
import rawConfig from '../perfstack.config.js';
import { expectedAlert, testAlertCases } from './promtool.js';
import { HIT_RATIO_WINDOW, hitRatioAlerts, MIN_CACHED_READS } from './rules/cache.js';
import { databaseAlerts, MIN_BLOCK_ACCESSES_PER_10_MINUTES, MIN_TABLE_SCANS_PER_HOUR } from './rules/database.js';
import { counter } from './rules/fixtures.js';
import { generateRules, RULES_DIR } from './rules/index.js';

const config = parseConfig(rawConfig);
const root = mkdtempSync(join(tmpdir(), 'perfstack-guard-rules-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Generated rule files by name (e.g. "cache.yml"), as promtool reads them. */
function ruleFiles(...names: string[]): Record<string, string> {
  const generated = generateRules(config);
  return Object.fromEntries(names.map((name) => [name, generated.find((f) => f.path === `${RULES_DIR}/${name}`)!.content]));
}

describe('cache alerts', () => {
  it(`a low hit ratio over fewer than ${MIN_CACHED_READS} cached reads in ${HIT_RATIO_WINDOW} stays quiet; with enough reads it fires`, async () => {
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
    const result = await testAlertCases({
      dir: root,
      ruleFiles: ruleFiles('cache.yml'),
      alertname: 'CacheHitRatioLow',
      evalMinutes,
      cases: [
        { name: 'few reads', series: reads(8), expAlerts: [] },
        { name: 'enough reads', series: reads(20), expAlerts: [expectedAlert(alert, { job: job.job, [names.labels.cache]: 'search' }, 0.2)] },
      ],
    });
    expect(result.code, result.output).toBe(0);
  });

  it.each([
    { alertname: 'DatabaseIndexUsageLow', part: pgServer.idxScan, other: pgServer.seqScan, minimum: MIN_TABLE_SCANS_PER_HOUR, windowMinutes: 60, forMinutes: 30 },
    { alertname: 'DatabaseCacheHitLow', part: pgServer.blksHit, other: pgServer.blksRead, minimum: MIN_BLOCK_ACCESSES_PER_10_MINUTES, windowMinutes: 10, forMinutes: 15 },
  ])('$alertname: a low ratio on an idle database stays quiet; with enough activity it fires', async ({ alertname, part, other, minimum, windowMinutes, forMinutes }) => {
    const database = { job: 'pg-stats', instance: 'pg-stats:9187', datname: 'perfstack' };
    const evalMinutes = windowMinutes + forMinutes + 15;
    // A ratio of 0.5, below either floor; per minute a tenth of the guard over the window (idle), or twice it.
    const idle = minimum / windowMinutes / 10;
    const busy = (minimum / windowMinutes) * 2;
    const traffic = (perMinute: number) => [counter(part, database, perMinute / 2, evalMinutes + 1), counter(other, database, perMinute / 2, evalMinutes + 1)];
    const alert = databaseAlerts(config).find((a) => a.name === alertname)!;
    const result = await testAlertCases({
      dir: root,
      ruleFiles: ruleFiles('recording.yml', 'database.yml'),
      alertname,
      evalMinutes,
      cases: [
        { name: 'idle', series: traffic(idle), expAlerts: [] },
        { name: 'busy', series: traffic(busy), expAlerts: [expectedAlert(alert, { datname: 'perfstack' }, 0.5)] },
      ],
    });
    expect(result.code, result.output).toBe(0);
  });
});
