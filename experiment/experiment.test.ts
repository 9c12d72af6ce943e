// perfstack experiment end to end: a real PostgreSQL 15 (seeded 'small'), the reference service as
// its own process for each run, perfstack's engine, the baseline store, and the verdict. Short
// bounded runs on loopback; the verdicts themselves are not asserted (a busy 2-core machine decides
// them), their consistency with the stored runs is.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../app/index.js';
import { parseConfig } from '../config/index.js';
import projectConfig from '../perfstack.config.js';
import { openBaselineStore } from '../regression/index.js';
import { freePort, redisUrl, runTool, startRedisServer } from '../stack/index.js';
import type { TestPostgres } from '../test/support/postgres.js';
import { startSeededPostgres } from '../test/support/seeded-postgres.js';
import { interleavedOrder, parseOptimisation, recordExperiment, runExperiment, type ExperimentResult } from './index.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG_PATH = join(REPO_ROOT, 'perfstack.config.ts');
const config = parseConfig(projectConfig, 'perfstack.config.ts');

let db: TestPostgres;
let dir: string;

beforeAll(async () => {
  db = await startSeededPostgres();
  dir = await mkdtemp(join(tmpdir(), 'perfstack-experiment-'));
}, 120_000);

afterAll(async () => {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const short = { runsPerArm: 2, duration: '2s', warmup: '1s', vus: 2 } as const;

function checkConsistent(result: ExperimentResult): void {
  const { primary } = result;
  expect(primary.off.testids).toHaveLength(2);
  expect(primary.on.testids).toHaveLength(2);
  for (const v of [...primary.off.values, ...primary.on.values]) expect(v).toBeGreaterThan(0);
  expect(['improved', 'unchanged', 'regressed']).toContain(primary.verdict);
  expect(primary.pValue).toBeGreaterThanOrEqual(0);
  expect(primary.pValue).toBeLessThanOrEqual(1);
  expect(primary.ci[0]).toBeLessThanOrEqual(primary.effect);
  expect(primary.ci[1]).toBeGreaterThanOrEqual(primary.effect);
  // A verdict other than unchanged needs an interval that excludes 0.
  if (primary.verdict !== 'unchanged') expect(primary.ci[0] > 0 || primary.ci[1] < 0).toBe(true);
}

describe('perfstack experiment', () => {
  it('runs keyset pagination off and on, interleaved, stores both arms and judges on against off', async () => {
    const result = await runExperiment({
      optimisation: parseOptimisation('keyset-pagination'),
      config,
      configPath: CONFIG_PATH,
      databaseUrl: db.url,
      storeUrl: db.url,
      outputDir: join(dir, 'runs'),
      ...short,
    });
    expect(result.order).toEqual(['off', 'on', 'on', 'off']);
    expect(result.scenario).toBe('experiment-paging');
    expect(result.primary).toMatchObject({ kpi: 'latency_p95', endpoint: '/api/entities' });
    checkConsistent(result);
    expect(result.secondary.map((m) => m.metric)).toEqual(['throughput', 'bytes_received_per_request']);

    // Every run is in the store, on its arm's branch, with the KPI the verdict used.
    const store = openBaselineStore(db.url);
    try {
      for (const arm of ['off', 'on'] as const) {
        const runs = await store.listRuns({ branch: `experiment/keyset-pagination/${arm}` });
        expect(runs.map((r) => r.testid).sort()).toEqual([...result.primary[arm].testids].sort());
        for (const [i, testid] of result.primary[arm].testids.entries()) {
          const stored = (await store.kpiValues(testid)).find((v) => v.kpi === 'latency_p95' && v.endpoint === '/api/entities');
          expect(stored?.value).toBe(result.primary[arm].values[i]);
        }
      }
    } finally {
      await store.close();
    }

    const file = join(dir, 'optimisations.json');
    await recordExperiment(file, result);
    await recordExperiment(file, { ...result, optimisation: 'compression' });
    const recorded = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(recorded.experiments)).toEqual(['compression', 'keyset-pagination']);
    expect(recorded.experiments['keyset-pagination'].primary.pValue).toBe(result.primary.pValue);
  }, 240_000);

  it('drops the index for the off arm only with --allow-schema-changes, and always re-creates it', async () => {
    const base = { config, configPath: CONFIG_PATH, databaseUrl: db.url, storeUrl: db.url, outputDir: join(dir, 'runs'), ...short };
    const optimisation = parseOptimisation('index:entities_name_trgm_idx');
    await expect(runExperiment({ ...base, optimisation })).rejects.toThrow(/--allow-schema-changes/);
    await expect(runExperiment({ ...base, optimisation: parseOptimisation('index:entities_pkey'), allowSchemaChanges: true })).rejects.toThrow(/backs the constraint entities_pkey/);
    await expect(runExperiment({ ...base, optimisation: parseOptimisation('index:no_such_idx'), allowSchemaChanges: true })).rejects.toThrow(/no index named "no_such_idx"/);

    const before = await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'entities_name_trgm_idx'");
    const result = await runExperiment({ ...base, optimisation, allowSchemaChanges: true });
    expect(result.scenario).toBe('experiment-search');
    expect(result.primary.endpoint).toBe('/api/search');
    checkConsistent(result);
    const after = await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'entities_name_trgm_idx'");
    expect(after).toEqual(before);
  }, 240_000);

  const redisInstalled = runTool('redis-server', ['--version'], { timeoutMs: 5000 }).ok;
  it.skipIf(!redisInstalled)('runs the cache off (--no-cache) and on against a real Redis', async () => {
    const port = await freePort();
    const redis = await startRedisServer({ port, dir });
    try {
      const result = await runExperiment({
        optimisation: parseOptimisation('cache'),
        config,
        configPath: CONFIG_PATH,
        databaseUrl: db.url,
        storeUrl: db.url,
        redisUrl: redisUrl(port),
        outputDir: join(dir, 'runs'),
        ...short,
      });
      expect(result.scenario).toBe('experiment-search');
      expect(result.branches).toEqual({ off: 'experiment/cache/off', on: 'experiment/cache/on' });
      checkConsistent(result);
      // The on arm really read through Redis: it left cached searches behind.
      const client = new Redis(redisUrl(port), { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        expect((await client.keys('perfstack:*')).length).toBeGreaterThan(0);
      } finally {
        client.disconnect();
      }
    } finally {
      await redis.stop();
    }
  }, 240_000);

  it('rejects bad options naming the flag', async () => {
    expect(() => parseOptimisation('gzip')).toThrow(/--optimisation must be one of cache, compression, keyset-pagination, index:<name>/);
    expect(() => parseOptimisation('index:Drop Table')).toThrow(/--optimisation index:<name> needs a plain lower-case/);
    const base = { optimisation: parseOptimisation('compression'), config, configPath: CONFIG_PATH, databaseUrl: db.url, storeUrl: db.url, outputDir: join(dir, 'runs') };
    await expect(runExperiment({ ...base, runsPerArm: 1 })).rejects.toThrow(/--runs must be a whole number from 2 to 20/);
    await expect(runExperiment({ ...base, duration: 'ten' })).rejects.toThrow(/--duration must be a k6 duration/);
    await expect(runExperiment({ ...base, optimisation: parseOptimisation('cache') })).rejects.toThrow(/--redis-url/);
    await expect(runExperiment({ ...base, scenario: 'no-such-scenario' })).rejects.toThrow(/no-such-scenario/);
    expect(interleavedOrder(3)).toEqual(['off', 'on', 'on', 'off', 'off', 'on']);

    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'perfstack.js'), 'experiment', '--optimisation', 'zip', '--database-url', db.url], { encoding: 'utf8', timeout: 60_000 });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('--optimisation must be one of');
    const runs = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'perfstack.js'), 'experiment', '--optimisation', 'compression', '--runs', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(runs.status).toBe(2);
    expect(runs.stderr).toContain('--runs must be a whole number from 2 to 20');
  }, 120_000);
});
