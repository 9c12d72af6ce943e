// k6's API as a script uses it: check() with tags, async group() (nested and concurrent),
// Counter/Gauge/Rate/Trend, k6/execution, setup data in default and teardown, handleSummary,
// __ENV (the run's and a scenario's own), open() in init (relative to the calling file) and
// refused outside it. Each iteration reports what it saw to the target as JSON.
import http from 'k6/http';
import { check, group } from 'k6';
import exec from 'k6/execution';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { fixture } from './lib/fixture.js';

export const options = {
  scenarios: {
    api: { executor: 'per-vu-iterations', vus: 2, iterations: 3, tags: { team: 'perf' } },
    other: { executor: 'shared-iterations', vus: 1, iterations: 1, exec: 'other', env: { SCENARIO_VAR: 'from-scenario' }, startTime: '300ms' },
  },
  thresholds: {
    'checks{kind:status}': ['rate==1'],
    'checks{kind:never}': ['rate==0'],
    'my_trend{phase:b}': ['min>=30'],
  },
  summaryTrendStats: ['avg', 'min', 'max', 'count'],
};

const base = __ENV.PERFSTACK_BASE_URL;
const fromEntry = JSON.parse(open('./lib/data/fixture.json')) as { users: string[] };

const counter = new Counter('my_counter');
const gauge = new Gauge('my_gauge');
const rate = new Rate('my_rate');
const trend = new Trend('my_trend', true);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const get = (path: string) => http.asyncRequest('GET', `${base}${path}`);
const report = (path: string, body: unknown) => http.asyncRequest('POST', `${base}${path}`, JSON.stringify(body), { headers: { 'content-type': 'application/json' } });

interface Data {
  token: string;
  list: number[];
}

export function setup(): Data {
  return { token: `tok-${__ENV.MY_VAR}`, list: [1, 2, 3] };
}

export default async function (data: Data): Promise<void> {
  await report('/exec', {
    vu: { idInTest: exec.vu.idInTest, idInInstance: exec.vu.idInInstance, iterationInInstance: exec.vu.iterationInInstance, iterationInScenario: exec.vu.iterationInScenario },
    scenario: { name: exec.scenario.name, executor: exec.scenario.executor, startTime: exec.scenario.startTime, progress: exec.scenario.progress, iterationInInstance: exec.scenario.iterationInInstance, iterationInTest: exec.scenario.iterationInTest },
    instance: { vusActive: exec.instance.vusActive, vusInitialized: exec.instance.vusInitialized, iterationsCompleted: exec.instance.iterationsCompleted, currentTestRunDuration: exec.instance.currentTestRunDuration },
    options: exec.test.options as unknown,
    globals: { vu: __VU, iter: __ITER },
    data,
    env: { MY_VAR: __ENV.MY_VAR, SCENARIO_VAR: __ENV.SCENARIO_VAR ?? null },
    fixture,
    fromEntry,
  });

  const res = await get('/ok');
  check(res, { 'status is 200': (r) => r.status === 200 }, { kind: 'status' });
  check(res, { never: () => false }, { kind: 'never' });

  await group('outer', async () => {
    await pause(5);
    await get('/in-outer');
    check(res, { 'inside outer': () => true });
    await group('inner', async () => {
      await pause(5);
      await get('/in-inner');
    });
    await get('/in-outer-after');
  });
  // Two groups at once: each keeps its own tag across its awaits.
  await Promise.all([
    group('left', async () => {
      await pause(8);
      await get('/left');
    }),
    group('right', async () => {
      await pause(2);
      await get('/right');
      await pause(8);
      await get('/right-again');
    }),
  ]);
  await get('/no-group');

  counter.add(2);
  gauge.add(exec.vu.idInTest);
  rate.add(true);
  rate.add(false);
  rate.add(1);
  trend.add(10, { phase: 'a' });
  trend.add(30, { phase: 'b' });

  let refused = '';
  try {
    open('./lib/data/fixture.json');
  } catch (error) {
    refused = (error as Error).message;
  }
  await report('/open-refused', { refused });
}

export async function other(data: Data): Promise<void> {
  await report('/other', { data, env: { MY_VAR: __ENV.MY_VAR, SCENARIO_VAR: __ENV.SCENARIO_VAR ?? null }, scenario: exec.scenario.name });
}

export async function teardown(data: Data): Promise<void> {
  await report('/teardown', { data });
}

export function handleSummary(summary: { metrics: Record<string, { values: Record<string, number> }> }): Record<string, string> {
  return {
    [__ENV.SUMMARY_OUT as string]: JSON.stringify({ iterations: summary.metrics.iterations?.values.count, counter: summary.metrics.my_counter?.values.count }),
    stdout: `handleSummary: ${summary.metrics.iterations?.values.count} iterations\n`,
  };
}
