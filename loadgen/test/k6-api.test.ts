// k6's API as scripts use it (scripts/api.ts): check() with tags and the checks rate, async group()
// keeping its tag across awaits, custom metrics in the summary, k6/execution, setup data,
// handleSummary, __ENV and open().

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run, startTarget, tempDir, type Arrival, type Ran, type Target } from './helpers.js';

interface ExecReport {
  vu: { idInTest: number; idInInstance: number; iterationInInstance: number; iterationInScenario: number };
  scenario: { name: string; executor: string; startTime: number; progress: number; iterationInInstance: number; iterationInTest: number };
  instance: { vusActive: number; vusInitialized: number; iterationsCompleted: number; currentTestRunDuration: number };
  options: { scenarios: Record<string, { executor: string }> };
  globals: { vu: number; iter: number };
  data: { token: string; list: number[] };
  env: { MY_VAR: string; SCENARIO_VAR: string | null };
  fixture: { users: string[] };
  fromEntry: { users: string[] };
}

let target: Target;
let dir: Awaited<ReturnType<typeof tempDir>>;
let result: Ran;
let stdout = '';
/** group tag of every request, by path, from the samples file. */
const groupsByPath = new Map<string, Set<string>>();
const tagsByPath = new Map<string, Record<string, string>>();

beforeAll(async () => {
  target = await startTarget();
  dir = await tempDir();
  const samplesPath = join(dir.path, 'samples.json.gz');
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdout += String(chunk);
    return write(chunk, ...(rest as [])) as boolean;
  });
  try {
    result = await run('api.ts', target, { env: { MY_VAR: 'hello', SUMMARY_OUT: join(dir.path, 'out', 'custom-summary.json') }, samplesPath });
  } finally {
    spy.mockRestore();
  }
  const lines = gunzipSync(await readFile(samplesPath)).toString('utf8').trim().split('\n');
  for (const line of lines) {
    const point = JSON.parse(line) as { data: { tags: Record<string, string> } };
    const path = new URL(point.data.tags.url ?? '').pathname;
    const groups = groupsByPath.get(path) ?? new Set<string>();
    groups.add(point.data.tags.group ?? '(none)');
    groupsByPath.set(path, groups);
    tagsByPath.set(path, point.data.tags);
  }
});
afterAll(async () => {
  await target.close();
  await dir.remove();
});

const reports = (path: string) => target.on(path).map((a: Arrival) => JSON.parse(a.body) as ExecReport);

describe('the k6 API', () => {
  it('runs to the end, thresholds on tagged sub-metrics passing', () => {
    expect(result.error).toBeUndefined();
    expect(result.exitCode).toBe(0);
    expect(result.iterations).toEqual({ completed: 7, interrupted: 0, failed: 0 });
    expect(result.evaluation?.ok).toBe(true);
  });

  it('check(): tags reach the samples, the checks rate counts every checker, the summary groups them', () => {
    const metrics = result.summary?.metrics ?? {};
    // Per iteration: 1 pass (status), 1 fail (never), 1 pass (inside outer); 6 iterations of api.
    expect(metrics.checks?.values).toEqual({ rate: 12 / 18, passes: 12, fails: 6 });
    expect(metrics['checks{kind:status}']?.values).toEqual({ rate: 1, passes: 6, fails: 0 });
    expect(metrics['checks{kind:never}']?.values).toEqual({ rate: 0, passes: 0, fails: 6 });
    const root = result.summary?.root_group;
    expect(root?.checks.map((c) => [c.name, c.passes, c.fails])).toEqual([
      ['status is 200', 6, 0],
      ['never', 0, 6],
    ]);
    const outer = root?.groups.find((g) => g.name === 'outer');
    expect(outer?.path).toBe('::outer');
    expect(outer?.checks.map((c) => [c.name, c.passes, c.fails])).toEqual([['inside outer', 6, 0]]);
  });

  it('group() with async functions keeps the group tag across awaits, nested and concurrent', () => {
    expect(Object.fromEntries([...groupsByPath].map(([path, groups]) => [path, [...groups]]))).toMatchObject({
      '/ok': [''],
      '/in-outer': ['::outer'],
      '/in-inner': ['::outer::inner'],
      '/in-outer-after': ['::outer'],
      '/left': ['::left'],
      '/right': ['::right'],
      '/right-again': ['::right'],
      '/no-group': [''],
    });
    // group_duration is measured per group.
    expect(result.summary?.metrics.group_duration?.values.count).toBe(6 * 4);
    // The scenario's tags and name ride along on every sample.
    expect(tagsByPath.get('/in-inner')).toMatchObject({ scenario: 'api', team: 'perf', method: 'GET', status: '200', name: `${target.url}/in-inner` });
  });

  it('Counter, Gauge, Rate and Trend appear in the summary with k6’s values', () => {
    const metrics = result.summary?.metrics ?? {};
    expect(metrics.my_counter).toMatchObject({ type: 'counter', contains: 'default', values: { count: 12 } });
    expect(metrics.my_counter?.values.rate).toBeGreaterThan(0);
    expect(metrics.my_gauge).toMatchObject({ type: 'gauge', values: { min: 1, max: 2 } });
    expect([1, 2]).toContain(metrics.my_gauge?.values.value);
    expect(metrics.my_rate).toMatchObject({ type: 'rate', values: { rate: 12 / 18, passes: 12, fails: 6 } });
    expect(metrics.my_trend).toMatchObject({ type: 'trend', contains: 'time', values: { avg: 20, min: 10, max: 30, count: 12 } });
    expect(metrics['my_trend{phase:b}']?.values).toMatchObject({ min: 30, max: 30, count: 6 });
  });

  it('k6/execution: vu, scenario, instance and test report where the code runs', () => {
    const seen = reports('/exec');
    expect(seen).toHaveLength(6);
    const byVu = new Map<number, ExecReport[]>();
    for (const r of seen) byVu.set(r.vu.idInTest, [...(byVu.get(r.vu.idInTest) ?? []), r]);
    expect([...byVu.keys()].sort()).toEqual([1, 2]);
    for (const [vu, own] of byVu) {
      // Per VU: its own iteration counters, 0, 1, 2 (per-vu-iterations, 3 each); __VU and __ITER agree.
      expect(own.map((r) => r.vu.iterationInInstance)).toEqual([0, 1, 2]);
      expect(own.map((r) => r.vu.iterationInScenario)).toEqual([0, 1, 2]);
      expect(own.map((r) => r.globals)).toEqual([0, 1, 2].map((iter) => ({ vu, iter })));
      expect(own.every((r) => r.vu.idInInstance === vu)).toBe(true);
    }
    // Per scenario: every iteration has its own number, in the instance and in the test.
    expect(seen.map((r) => r.scenario.iterationInInstance).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.map((r) => r.scenario.iterationInTest).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const r of seen) {
      expect(r.scenario).toMatchObject({ name: 'api', executor: 'per-vu-iterations' });
      expect(r.scenario.progress).toBeGreaterThanOrEqual(0);
      expect(r.scenario.progress).toBeLessThanOrEqual(1);
      expect(Math.abs(r.scenario.startTime - Date.now())).toBeLessThan(120_000);
      expect(r.instance.vusActive).toBeGreaterThanOrEqual(1);
      expect(r.instance.vusInitialized).toBeGreaterThanOrEqual(r.instance.vusActive);
      expect(r.instance.currentTestRunDuration).toBeGreaterThanOrEqual(0);
      expect(r.options.scenarios.api?.executor).toBe('per-vu-iterations');
    }
    expect(Math.max(...seen.map((r) => r.instance.iterationsCompleted))).toBeGreaterThanOrEqual(4);
    // The other scenario's VU has an id of its own.
    const other = target.on('/other').map((a) => JSON.parse(a.body) as { scenario: string });
    expect(other).toEqual([expect.objectContaining({ scenario: 'other' })]);
  });

  it("setup()'s data reaches default and teardown (as a copy), and the summary", () => {
    const expected = { token: 'tok-hello', list: [1, 2, 3] };
    for (const r of reports('/exec')) expect(r.data).toEqual(expected);
    expect(target.on('/teardown').map((a) => JSON.parse(a.body) as unknown)).toEqual([{ data: expected }]);
    expect(target.on('/other').map((a) => (JSON.parse(a.body) as { data: unknown }).data)).toEqual([expected]);
    expect(result.summary?.setup_data).toEqual(expected);
  });

  it("handleSummary()'s files are written and its stdout printed", async () => {
    const path = join(dir.path, 'out', 'custom-summary.json');
    expect(result.written).toContain(path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ iterations: 7, counter: 12 });
    expect(stdout).toContain('handleSummary: 7 iterations\n');
  });

  it("__ENV holds the run's variables, plus a scenario's own env in that scenario", () => {
    for (const r of reports('/exec')) expect(r.env).toEqual({ MY_VAR: 'hello', SCENARIO_VAR: null });
    expect(target.on('/other').map((a) => (JSON.parse(a.body) as { env: unknown }).env)).toEqual([{ MY_VAR: 'hello', SCENARIO_VAR: 'from-scenario' }]);
  });

  it('open() reads relative to the calling file in init, and is refused outside init', () => {
    for (const r of reports('/exec')) {
      expect(r.fixture).toEqual({ users: ['ada', 'grace'] }); // lib/fixture.ts: open('./data/fixture.json')
      expect(r.fromEntry).toEqual({ users: ['ada', 'grace'] }); // api.ts: open('./lib/data/fixture.json')
    }
    const refused = target.on('/open-refused').map((a) => (JSON.parse(a.body) as { refused: string }).refused);
    expect(refused).toHaveLength(6);
    for (const message of refused) expect(message).toMatch(/open\(\) can only be called in the init context/);
  });
});
