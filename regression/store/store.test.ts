// The store against a real PostgreSQL 15: migrations, imports (and what a rejected import leaves
// behind: nothing), baselines, history and stored distributions.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { BaselineStoreError, MIGRATIONS_TABLE, openBaselineStore, parseSummaryText, type BaselineStore } from './index.js';

const FIXTURE_TEXT = readFileSync(new URL('./fixtures/k6-summary.json', import.meta.url), 'utf8');
const FIXTURE_TESTID = '20260101T120000Z-smoke-fx01';

/** The fixture as another run: new testid, latency scaled. */
function runOf(testid: string, scale = 1, scenario = 'smoke'): unknown {
  const data = JSON.parse(FIXTURE_TEXT) as { perfstack: Record<string, unknown>; metrics: Record<string, { values: Record<string, number> }> };
  data.perfstack.testid = testid;
  data.perfstack.scenario = scenario;
  for (const stat of ['p(50)', 'p(95)', 'p(99)']) (data.metrics.http_req_duration as { values: Record<string, number> }).values[stat]! *= scale;
  return data;
}

let postgres: TestPostgres | undefined;
let store: BaselineStore;

async function counts(): Promise<Record<string, number>> {
  const rows = await postgres!.query<{ runs: string; kpi_values: string; kpi_samples: string; baselines: string }>(
    'SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM kpi_values) AS kpi_values, (SELECT count(*) FROM kpi_samples) AS kpi_samples, (SELECT count(*) FROM baselines) AS baselines',
  );
  const row = rows[0]!;
  return { runs: Number(row.runs), kpi_values: Number(row.kpi_values), kpi_samples: Number(row.kpi_samples), baselines: Number(row.baselines) };
}

async function rejected(promise: Promise<unknown>): Promise<BaselineStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BaselineStoreError);
  return error as BaselineStoreError;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

beforeAll(async () => {
  postgres = await startPostgres();
  store = openBaselineStore(postgres.url);
});

afterAll(async () => {
  await store?.close();
  await postgres?.stop();
});

describe('baseline store', () => {
  it('migrates, and a second migrate is a no-op', async () => {
    const first = await store.migrate();
    expect(first).toEqual({ applied: [1, 2], skipped: [] });
    const tables = async () =>
      (await postgres!.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")).map((r) => r.table_name);
    const before = await tables();
    expect(before).toEqual(['baselines', 'kpi_samples', 'kpi_values', MIGRATIONS_TABLE, 'runs']);
    expect(await store.migrate()).toEqual({ applied: [], skipped: [1, 2] });
    // Two concurrent migrate() calls (two CI jobs) serialise on the advisory lock.
    const other = openBaselineStore(postgres!.url);
    try {
      expect(await Promise.all([store.migrate(), other.migrate()])).toEqual([{ applied: [], skipped: [1, 2] }, { applied: [], skipped: [1, 2] }]);
    } finally {
      await other.close();
    }
    expect(await tables()).toEqual(before);
    expect(await postgres!.query(`SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`)).toEqual([
      { version: 1, name: 'baseline_store' },
      { version: 2, name: 'lighthouse_runs' },
    ]);
  });

  it('imports the fixture with its KPI values in seconds', async () => {
    const id = await store.importK6Summary(parseSummaryText(FIXTURE_TEXT, 'fixtures/k6-summary.json'), {
      branch: 'main',
      environment: 'ci-2core',
      startedAt: at(0),
      k6Version: 'v1.8.1',
    });
    expect(id).toBeGreaterThan(0);
    const run = await store.getRun(FIXTURE_TESTID);
    expect(run).toMatchObject({ id, testid: FIXTURE_TESTID, scenario: 'smoke', gitSha: '301594d', branch: 'main', environment: 'ci-2core', k6Version: 'v1.8.1', importedFrom: 'k6-summary' });
    expect(run!.startedAt.toISOString()).toBe(at(0).toISOString());
    // The summary has the duration (testRunDurationMs 5313.42), not the clock times.
    expect(run!.endedAt.getTime() - run!.startedAt.getTime()).toBe(5313);

    const values = await store.kpiValues(FIXTURE_TESTID);
    const get = (kpi: string, endpoint = '') => values.find((v) => v.kpi === kpi && v.endpoint === endpoint)?.value;
    expect(get('latency_p50')).toBeCloseTo(0.003172088, 12);
    expect(get('latency_p95')).toBeCloseTo(0.0919330795, 12);
    expect(get('latency_p99')).toBeCloseTo(0.19001360009, 12);
    expect(get('throughput')).toBeCloseTo(45.545, 3);
    expect(get('error_rate')).toBe(0);
    expect(get('checks_rate')).toBe(1);
    expect(get('latency_p95', 'service:api')).toBeCloseTo(0.11807341585, 12);
    expect(get('latency_p95', 'service:search')).toBeCloseTo(0.0662166665, 12);
    // Run level first.
    expect(values.slice(0, 6).every((v) => v.endpoint === '')).toBe(true);
    expect(await store.samples(FIXTURE_TESTID, 'latency_p95', '')).toBeUndefined();
  });

  it('rejects a truncated file, a summary without http_req_duration and a duplicate testid, storing nothing', async () => {
    const before = await counts();

    const truncated = await rejected(store.importK6Summary(FIXTURE_TEXT.slice(0, 9000), { branch: 'main' }));
    expect(truncated.reason).toBe('invalid-json');
    expect(truncated.message).toMatch(/not valid JSON at line \d+, column \d+.*truncated/);
    expect(() => parseSummaryText(FIXTURE_TEXT.slice(0, 9000), 'runs/42/summary.json')).toThrow(/^runs\/42\/summary\.json: not valid JSON at line/);

    const noDuration = runOf('no-duration') as { metrics: Record<string, unknown> };
    delete noDuration.metrics.http_req_duration;
    const missing = await rejected(store.importK6Summary(noDuration, { branch: 'main' }));
    expect(missing).toMatchObject({ reason: 'missing-metric', field: 'metrics.http_req_duration' });
    expect(missing.message).toMatch(/http_req_duration/);

    const duplicate = await rejected(store.importK6Summary(JSON.parse(FIXTURE_TEXT), { branch: 'main' }));
    expect(duplicate).toMatchObject({ reason: 'duplicate-testid', field: 'testid' });
    expect(duplicate.message).toContain(FIXTURE_TESTID);

    // Metadata that contradicts the summary, or is missing, is rejected too.
    expect(await rejected(store.importK6Summary(runOf('other-1'), { branch: 'main', testid: 'other-2' }))).toMatchObject({ reason: 'invalid-metadata', field: 'testid' });
    expect(await rejected(store.importK6Summary(runOf('other-3'), { branch: ' ' }))).toMatchObject({ reason: 'invalid-metadata', field: 'branch' });
    // A bad sample fails the whole import: no run without its samples.
    const badSamples = await rejected(
      store.importK6Summary(runOf('other-4'), { branch: 'main' }, { samples: [{ kpi: 'latency_p95', endpoint: '', samples: [0.1, Number.NaN] }] }),
    );
    expect(badSamples.field).toBe('samples');

    expect(await counts()).toEqual(before);
  });

  it('rolls back a run whose samples fail inside the transaction', async () => {
    const before = await counts();
    const twice = [
      { kpi: 'latency_p95' as const, endpoint: '/x', samples: [0.1] },
      { kpi: 'latency_p95' as const, endpoint: '/x', samples: [0.2] },
    ];
    expect(await rejected(store.importK6Summary(runOf('rollback-1'), { branch: 'main' }, { samples: twice }))).toMatchObject({ reason: 'invalid-argument' });
    expect(await counts()).toEqual(before);
    expect(await store.getRun('rollback-1')).toBeUndefined();
  });

  it('stores per-request samples given with an import', async () => {
    await store.importK6Summary(runOf('with-samples'), { branch: 'feature/x', startedAt: at(1) }, {
      samples: [{ kpi: 'latency_p95', endpoint: '/api/search', samples: [0.01, 0.02, 0.5] }],
    });
    expect(await store.samples('with-samples', 'latency_p95', '/api/search')).toEqual({ kind: 'samples', kpi: 'latency_p95', endpoint: '/api/search', samples: [0.01, 0.02, 0.5] });
    expect(await store.samples('with-samples', 'latency_p95', '')).toBeUndefined();
    expect(await rejected(store.samples('nope', 'latency_p95', ''))).toMatchObject({ reason: 'not-found' });
  });

  it('baselineRuns: the last N on a branch, oldest first, without other branches or the candidate', async () => {
    // main: fixture at minute 0, then m1..m5 at minutes 10..50; a feature-branch run in between; another scenario.
    for (let i = 1; i <= 5; i++) await store.importK6Summary(runOf(`m${i}`, 1 + i / 10), { branch: 'main', startedAt: at(i * 10), environment: 'ci-2core' });
    await store.importK6Summary(runOf('f1', 3), { branch: 'feature/slow', startedAt: at(35), environment: 'ci-2core' });
    await store.importK6Summary(runOf('load-1', 1, 'load'), { branch: 'main', startedAt: at(36), environment: 'ci-2core' });
    await store.importK6Summary(runOf('m-laptop', 1), { branch: 'main', startedAt: at(45), environment: 'laptop' });

    const last3 = await store.baselineRuns('smoke', { branch: 'main', lastN: 3, environment: 'ci-2core' });
    expect(last3.map((r) => r.testid)).toEqual(['m3', 'm4', 'm5']);
    expect(last3[2]!.kpis.find((k) => k.kpi === 'latency_p95' && k.endpoint === '')?.value).toBeCloseTo(0.0919330795 * 1.5, 12);

    // The candidate is m5: it is excluded and only runs before it count.
    const forM5 = await store.baselineRuns('smoke', { branch: 'main', lastN: 3, candidate: 'm5' });
    expect(forM5.map((r) => r.testid)).toEqual(['m3', 'm4', 'm-laptop']);
    // A feature-branch candidate against main: main runs before it.
    const forF1 = await store.baselineRuns('smoke', { branch: 'main', lastN: 10, candidate: 'f1' });
    expect(forF1.map((r) => r.testid)).toEqual([FIXTURE_TESTID, 'm1', 'm2', 'm3']);
    expect((await store.baselineRuns('smoke', { branch: 'main', lastN: 100 })).every((r) => r.branch === 'main' && r.scenario === 'smoke')).toBe(true);
    expect(await rejected(store.baselineRuns('smoke', { branch: 'main', lastN: 0 }))).toMatchObject({ field: 'lastN' });

    const runs = await store.listRuns({ scenario: 'smoke', branch: 'main', limit: 2 });
    expect(runs.map((r) => r.testid)).toEqual(['m5', 'm-laptop']);
    expect((await store.listRuns({ branch: 'feature/slow' })).map((r) => r.testid)).toEqual(['f1']);
  });

  it('pins, lists and removes baselines', async () => {
    expect(await store.listBaselines()).toEqual([]);
    const pinned = await store.pin('release-1.4', 'm2');
    expect(pinned).toMatchObject({ name: 'release-1.4', kind: 'pinned', testid: 'm2', scenario: 'smoke', branch: 'main' });
    await store.pin('load-ref', 'load-1');
    expect((await store.listBaselines()).map((b) => [b.name, b.testid])).toEqual([['load-ref', 'load-1'], ['release-1.4', 'm2']]);

    const base = await store.baselineRuns('smoke', { pinned: 'release-1.4' });
    expect(base.map((r) => r.testid)).toEqual(['m2']);
    expect(base[0]!.kpis.length).toBeGreaterThan(5);
    expect(await store.baselineRuns('smoke', { pinned: 'release-1.4', candidate: 'm2' })).toEqual([]);
    expect(await rejected(store.baselineRuns('smoke', { pinned: 'load-ref' }))).toMatchObject({ reason: 'invalid-argument', field: 'pinned' });
    expect(await rejected(store.baselineRuns('smoke', { pinned: 'nope' }))).toMatchObject({ reason: 'not-found' });

    // Moving a name to another run.
    await store.pin('release-1.4', 'm3');
    expect((await store.listBaselines()).find((b) => b.name === 'release-1.4')?.testid).toBe('m3');
    expect(await rejected(store.pin('x', 'no-such-run'))).toMatchObject({ reason: 'not-found', field: 'testid' });

    expect(await store.removeBaseline('release-1.4')).toBe(true);
    expect(await store.removeBaseline('release-1.4')).toBe(false);
    expect((await store.listBaselines()).map((b) => b.name)).toEqual(['load-ref']);
  });

  it('kpiHistory returns a KPI across runs in time order', async () => {
    const all = await store.kpiHistory('smoke', 'latency_p95', '', { branch: 'main' });
    expect(all.map((p) => p.testid)).toEqual([FIXTURE_TESTID, 'm1', 'm2', 'm3', 'm4', 'm-laptop', 'm5']);
    for (let i = 1; i < all.length; i++) expect(all[i]!.startedAt.getTime()).toBeGreaterThanOrEqual(all[i - 1]!.startedAt.getTime());
    expect(all[1]!.value).toBeCloseTo(0.0919330795 * 1.1, 12);
    const newest2 = await store.kpiHistory('smoke', 'latency_p95', '', { branch: 'main', limit: 2 });
    expect(newest2.map((p) => p.testid)).toEqual(['m-laptop', 'm5']);
    const everyBranch = await store.kpiHistory('smoke', 'latency_p95', 'service:api');
    expect(everyBranch.map((p) => p.testid)).toContain('f1');
    expect(await store.kpiHistory('smoke', 'latency_p95', '/no/such/route')).toEqual([]);
    expect(await rejected(store.kpiHistory('smoke', 'latency_p42' as never, ''))).toMatchObject({ field: 'kpi' });
  });
});
