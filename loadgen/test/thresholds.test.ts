// Thresholds end to end: the exit code of a passing and a failing run, abortOnFail stopping the
// run early (and delayAbortEval holding it off), and thresholds on tag-filtered sub-metrics.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, startTarget, type Target } from './helpers.js';

let target: Target;
beforeEach(async () => {
  target = await startTarget();
});
afterEach(async () => {
  await target.close();
});

const OPTIONS = (thresholds: Record<string, unknown>, duration = '1s') =>
  JSON.stringify({ scenarios: { main: { executor: 'constant-vus', vus: 2, duration } }, thresholds, summaryTrendStats: ['avg', 'min', 'max', 'p(95)', 'count'] });

describe('thresholds', () => {
  it('a run whose thresholds all pass exits 0, and the summary says which passed', async () => {
    const result = await run('tagged.ts', target, {
      env: { OPTIONS: OPTIONS({ http_req_duration: ['p(95)<1000', 'max<5000'], http_req_failed: ['rate<0.01'], http_reqs: ['count>5'] }) },
    });
    expect(result.exitCode).toBe(0);
    expect(result.evaluation?.ok).toBe(true);
    expect(result.summary?.metrics.http_req_duration?.thresholds).toEqual({ 'p(95)<1000': { ok: true }, 'max<5000': { ok: true } });
    expect(result.summary?.metrics.http_req_failed?.thresholds).toEqual({ 'rate<0.01': { ok: true } });
    expect(result.summary?.metrics.http_reqs?.thresholds).toEqual({ 'count>5': { ok: true } });
  });

  it('a failing threshold exits 99; tag filters judge only the samples they name', async () => {
    const result = await run('tagged.ts', target, {
      env: {
        OPTIONS: OPTIONS({
          'http_req_duration{name:/slow}': ['p(95)<20'],
          'http_req_duration{name:/fast}': ['p(95)<30'],
          'http_reqs{name:/fast}': ['count>0'],
        }),
      },
    });
    expect(result.exitCode).toBe(99);
    expect(result.evaluation?.ok).toBe(false);
    const slow = result.evaluation?.results['http_req_duration{name:/slow}']?.['p(95)<20'];
    const fast = result.evaluation?.results['http_req_duration{name:/fast}']?.['p(95)<30'];
    expect(slow?.ok).toBe(false);
    expect(slow?.value).toBeGreaterThanOrEqual(38);
    expect(fast?.ok).toBe(true);
    // Each sub-metric holds exactly its own requests: half of all, split by the name tag.
    const metrics = result.summary?.metrics ?? {};
    const slowValues = metrics['http_req_duration{name:/slow}']?.values ?? {};
    const fastValues = metrics['http_req_duration{name:/fast}']?.values ?? {};
    // (Node's timers may fire up to 1 ms early against performance.now(): the 40 ms server delay
    // can measure 39.x ms.)
    expect(slowValues.min).toBeGreaterThanOrEqual(38);
    expect(fastValues.min).toBeLessThan(38);
    expect((slowValues.count ?? 0) + (fastValues.count ?? 0)).toBe(metrics.http_req_duration?.values.count);
    expect(slowValues.count).toBe(target.on('/delay/40').length);
    expect(metrics['http_reqs{name:/fast}']?.values.count).toBe(target.on('/delay/1').length);
    expect(metrics['http_req_duration{name:/slow}']?.thresholds).toEqual({ 'p(95)<20': { ok: false } });
  });

  it('abortOnFail stops the run at the first evaluation that fails, far before the scenario ends (exit 99)', async () => {
    const result = await run('tagged.ts', target, {
      env: { OPTIONS: OPTIONS({ http_req_duration: [{ threshold: 'p(95)<10', abortOnFail: true }] }, '30s') },
    });
    const ranMs = result.summary?.state.testRunDurationMs ?? Number.POSITIVE_INFINITY;
    console.log(`abortOnFail: the 30 s scenario stopped after ${ranMs} ms`);
    expect(result.exitCode).toBe(99);
    expect(result.error).toMatch(/threshold http_req_duration p\(95\)<10 failed with abortOnFail/);
    expect(ranMs).toBeLessThan(8000);
    expect(result.summary?.metrics.http_req_duration?.thresholds).toEqual({ 'p(95)<10': { ok: false } });
    // The run still ends properly: iterations in flight are interrupted, the summary is complete.
    expect(result.summary?.metrics.http_reqs?.values.count).toBe(target.arrivals.length);
  });

  it('delayAbortEval holds abortOnFail off until the run is that old', async () => {
    const result = await run('tagged.ts', target, {
      env: { OPTIONS: OPTIONS({ http_req_duration: [{ threshold: 'p(95)<10', abortOnFail: true, delayAbortEval: '4s' }] }, '30s') },
    });
    const ranMs = result.summary?.state.testRunDurationMs ?? 0;
    console.log(`abortOnFail with delayAbortEval 4s: the 30 s scenario stopped after ${ranMs} ms`);
    expect(result.exitCode).toBe(99);
    expect(ranMs).toBeGreaterThanOrEqual(4000);
    expect(ranMs).toBeLessThan(12_000);
  });

  it('under an execution segment, counts and throughput are judged for the whole test, latencies as measured', async () => {
    // 2 × 20 iterations/s over 2 s: each of two segments sees half. `count>=60` holds for the test
    // (80 requests) but not for one half (40) judged on its own.
    const options = JSON.stringify({
      scenarios: { main: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 4 } },
      thresholds: { http_reqs: ['count>=60'], 'http_req_duration{name:/slow}': ['p(95)<1000'] },
    });
    const half = await run('tagged.ts', target, { env: { OPTIONS: options }, executionSegment: '0:1/2', executionSegmentSequence: '0,1/2,1' });
    const requests = half.summary?.metrics.http_reqs?.values.count ?? 0;
    console.log(`segment 0:1/2 sent ${requests} requests; judged as ${half.evaluation?.results.http_reqs?.['count>=60']?.value} for the test`);
    expect(requests).toBe(40);
    expect(half.evaluation?.results.http_reqs?.['count>=60']).toEqual({ ok: true, value: 80 });
    expect(half.exitCode).toBe(0);
    const whole = await run('tagged.ts', target, { env: { OPTIONS: options.replace('"rate":20', '"rate":10') } });
    expect(whole.summary?.metrics.http_reqs?.values.count).toBe(40);
    expect(whole.exitCode).toBe(99);
  });
});
