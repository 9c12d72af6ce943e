// The six executors against a live loopback target: the fixture script (scripts/record.ts) tells
// the target when each iteration starts and ends, with exec.vu.idInTest,
// exec.scenario.iterationInTest and what k6/execution says about the instance, and the test reads
// the schedule back from what arrived.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rampingSchedule, rampingVusAt } from '../executors/index.js';
import { num, run, startTarget, type Arrival, type Target } from './helpers.js';

let target: Target;
beforeEach(async () => {
  target = await startTarget();
});
afterEach(async () => {
  await target.close();
});

// The schedules are checked against the wall clock on a shared 2-core machine, where another
// process can stall this one for hundreds of milliseconds. Such a test is tried up to three times:
// an engine that keeps the schedule wrong fails every attempt.
const TIMED = { retry: 2 } as const;

const options = (scenarios: Record<string, Record<string, unknown>>, more: Record<string, unknown> = {}) => JSON.stringify({ scenarios, ...more });
const byScenario = (arrivals: Arrival[], name: string) => arrivals.filter((a) => a.query.sc === name);
const vuOf = (a: Arrival) => num(a.query.vu);
const iterOf = (a: Arrival) => num(a.query.it);
const countBy = <T>(items: T[], key: (item: T) => string | number) => {
  const out = new Map<string | number, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
};

describe('closed-model executors', TIMED, () => {
  it('constant-vus: a fixed number of VUs loop over iterations for the duration, no start after it', async () => {
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ cv: { executor: 'constant-vus', vus: 3, duration: '2s' } }), SLEEP: '100' },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start');
    const ends = target.on('/end');
    expect(new Set(starts.map(vuOf))).toEqual(new Set([1, 2, 3]));
    const scenarioStart = num(starts[0]?.query.st);
    for (const s of starts) expect(num(s.query.t) - scenarioStart).toBeLessThan(2000);
    // Every VU loops back to back: each after its first iteration sees all three VUs active.
    for (const vu of [1, 2, 3]) {
      const own = starts.filter((s) => vuOf(s) === vu);
      expect(own.length).toBeGreaterThanOrEqual(10);
      for (const s of own.slice(1)) expect(num(s.query.active)).toBe(3);
      // (≥ the 100 ms wait; Node's timers may fire up to 1 ms early against performance.now().)
      for (let i = 1; i < own.length; i++) expect((own[i] as Arrival).at - (own[i - 1] as Arrival).at).toBeGreaterThanOrEqual(99);
    }
    expect(result.iterations).toEqual({ completed: ends.length, interrupted: 0, failed: 0 });
    expect(result.summary?.metrics.iterations?.values.count).toBe(ends.length);
    expect(result.summary?.metrics.vus?.values.max).toBe(3);
    expect(result.summary?.metrics.vus_max?.values.max).toBe(3);
  });

  it('ramping-vus: VU k runs only while the stage target is at least k, starting when the ramp reaches it', async () => {
    const stages = [
      { duration: '1s', target: 4 },
      { duration: '1s', target: 4 },
      { duration: '1s', target: 0 },
    ];
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ rv: { executor: 'ramping-vus', startVUs: 0, stages } }), SLEEP: '40' },
    });
    expect(result.exitCode).toBe(0);
    const ms = stages.map((s) => ({ duration: Number.parseInt(s.duration) * 1000, target: s.target }));
    const starts = target.on('/start');
    const t0 = num(starts[0]?.query.st);
    expect(new Set(starts.map(vuOf))).toEqual(new Set([1, 2, 3, 4]));
    const peakBetween = (from: number, to: number) => {
      let peak = 0;
      for (let t = Math.max(0, from); t <= to; t++) peak = Math.max(peak, rampingVusAt(0, ms, t));
      return peak;
    };
    for (const s of starts) {
      const t = num(s.query.t) - t0;
      // A VU starts iterations only while the target includes it (the engine re-reads the schedule
      // every 10 ms; Date.now() has 1 ms resolution).
      expect(vuOf(s)).toBeLessThanOrEqual(peakBetween(t - 15, t + 15));
      // Active VUs: the target, plus VUs ramped down that still finish an iteration (gracefulRampDown).
      expect(num(s.query.active)).toBeLessThanOrEqual(peakBetween(t - 300, t + 15));
    }
    for (const vu of [1, 2, 3, 4]) {
      const own = starts.filter((s) => vuOf(s) === vu).map((s) => num(s.query.t) - t0);
      // Up: 0 → 4 over 1 s crosses k at k × 250 ms. Down: 4 → 0 over 1 s leaves k at 2000 + (5 - k) × 250 ms.
      const on = vu * 250;
      const off = 2000 + (5 - vu) * 250;
      expect(own[0] as number).toBeGreaterThanOrEqual(on - 15);
      expect(own[0] as number).toBeLessThan(on + 150);
      expect(own.at(-1) as number).toBeLessThan(off + 15);
      expect(own.at(-1) as number).toBeGreaterThan(off - 120);
    }
    expect(result.summary?.metrics.vus_max?.values.max).toBe(4);
    expect(result.iterations.interrupted).toBe(0);
  });

  it('per-vu-iterations: each VU runs exactly its iterations; iterationInTest covers 0..vus×iterations-1 once', async () => {
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ pv: { executor: 'per-vu-iterations', vus: 3, iterations: 4 } }), SLEEP: '20' },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start');
    expect(starts).toHaveLength(12);
    expect([...countBy(starts, vuOf).entries()].sort()).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
    expect(starts.map(iterOf).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(result.iterations).toEqual({ completed: 12, interrupted: 0, failed: 0 });
    expect(result.summary?.metrics.iterations?.values.count).toBe(12);
  });

  it('maxDuration: iterations that shared-iterations and per-vu-iterations could not start in time are dropped_iterations', async () => {
    // 300 ms iterations, maxDuration 1 s: a VU starts at 0, 300, 600 and 900 ms (the last completes within gracefulStop).
    const result = await run('record.ts', target, {
      env: {
        OPTIONS: options({
          si: { executor: 'shared-iterations', vus: 1, iterations: 10, maxDuration: '1s' },
          pv: { executor: 'per-vu-iterations', vus: 2, iterations: 5, maxDuration: '1s' },
        }),
        SLEEP: '300',
      },
    });
    expect(result.exitCode).toBe(0);
    const si = byScenario(target.on('/start'), 'si').length;
    const pv = byScenario(target.on('/start'), 'pv').length;
    expect(si).toBe(4);
    expect(pv).toBe(8);
    expect(result.iterations).toEqual({ completed: 12, interrupted: 0, failed: 0 });
    // k6: "with shared-iterations and per-vu-iterations, iterations drop if the scenario reaches its maxDuration".
    expect(result.summary?.metrics.dropped_iterations?.values.count).toBe(10 - si + (10 - pv));
  });

  it('shared-iterations: the VUs share exactly the iterations; each iterationInTest runs once', async () => {
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ si: { executor: 'shared-iterations', vus: 3, iterations: 20 } }), SLEEP: '20' },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start');
    expect(starts).toHaveLength(20);
    expect(starts.map(iterOf).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    const perVu = countBy(starts, vuOf);
    expect(new Set(perVu.keys())).toEqual(new Set([1, 2, 3]));
    expect([...perVu.values()].reduce((a, b) => a + b, 0)).toBe(20);
    expect(result.iterations).toEqual({ completed: 20, interrupted: 0, failed: 0 });
  });
});

describe('open-model executors', TIMED, () => {
  it('constant-arrival-rate: starts follow the rate within 1 % (count and mean spacing), iterationInTest 0..n-1', async () => {
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ car: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '4s', preAllocatedVUs: 5, maxVUs: 50 } }), SLEEP: '30' },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start').sort((a, b) => iterOf(a) - iterOf(b));
    const expected = 200; // 50/s × 4 s
    const countError = Math.abs(starts.length - expected) / expected;
    // Mean spacing: the least-squares slope of arrival time over the iteration's index (the plain
    // (last − first)/(n − 1) is printed too; one stall of the machine at either end moves it).
    const n = starts.length;
    const xs = starts.map(iterOf);
    const ys = starts.map((s) => s.at);
    const mx = xs.reduce((a, b) => a + b, 0) / n;
    const my = ys.reduce((a, b) => a + b, 0) / n;
    const slope = xs.reduce((acc, x, i) => acc + (x - mx) * ((ys[i] as number) - my), 0) / xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
    const plain = ((ys.at(-1) as number) - (ys[0] as number)) / (n - 1);
    const spacingError = Math.abs(slope - 20) / 20;
    console.log(
      `constant-arrival-rate: ${n} starts (expected ${expected}, error ${(countError * 100).toFixed(2)} %), mean spacing ${slope.toFixed(3)} ms by least squares, ${plain.toFixed(3)} ms first to last (expected 20, error ${(spacingError * 100).toFixed(2)} % / ${((Math.abs(plain - 20) / 20) * 100).toFixed(2)} %)`,
    );
    expect(countError).toBeLessThanOrEqual(0.01);
    expect(spacingError).toBeLessThanOrEqual(0.01);
    // Spread over the run, not bunched: every second has its 50 starts (±10 % for the machine's stalls).
    const first = ys[0] as number;
    for (let second = 0; second < 4; second++) {
      const inSecond = ys.filter((y) => y - first >= second * 1000 - 10 && y - first < (second + 1) * 1000 - 10).length;
      expect(Math.abs(inSecond - 50)).toBeLessThanOrEqual(5);
    }
    expect(starts.map(iterOf).sort((a, b) => a - b)).toEqual([...Array(starts.length).keys()]);
    expect(result.summary?.metrics.dropped_iterations).toBeUndefined();
    expect(result.summary?.metrics.iterations?.values.count).toBe(starts.length);
  });

  it('ramping-arrival-rate: the j-th start follows the integral of the rate', async () => {
    const stages = [
      { duration: '2s', target: 40 },
      { duration: '1s', target: 40 },
    ];
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ rar: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', stages, preAllocatedVUs: 4, maxVUs: 40 } }), SLEEP: '20' },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start').sort((a, b) => iterOf(a) - iterOf(b));
    const schedule = rampingSchedule(0, 1000, [
      { duration: 2000, target: 40 },
      { duration: 1000, target: 40 },
    ]);
    // ∫ rate = ½·40·2 + 40·1 = 80 starts: 10 in the first second, 30 in the second, 40 in the third.
    expect(Math.abs(starts.length - 80)).toBeLessThanOrEqual(1);
    const t0 = num(starts[0]?.query.st);
    const offsets = starts.map((s) => num(s.query.t) - t0);
    expect(offsets.filter((x) => x < 1000).length).toBeCloseTo(10, -0.5);
    expect(Math.abs(offsets.filter((x) => x >= 1000 && x < 2000).length - 30)).toBeLessThanOrEqual(1);
    expect(Math.abs(offsets.filter((x) => x >= 2000).length - 40)).toBeLessThanOrEqual(1);
    let worst = 0;
    starts.forEach((s, i) => {
      expect(iterOf(s)).toBe(i);
      worst = Math.max(worst, Math.abs((offsets[i] as number) - (schedule(i) as number)));
    });
    console.log(`ramping-arrival-rate: ${starts.length} starts (expected 80), worst start ${worst.toFixed(1)} ms from its scheduled time`);
    // Starts are never early; a late one (the machine stalled) catches up.
    expect(worst).toBeLessThan(100);
  });

  it('dropped_iterations: starts that find no free VU with maxVUs reached are counted, not queued', async () => {
    // 20/s for 2 s = 40 starts; two VUs whose iterations last 300 ms can take at most 2 × ⌈2000/300⌉ = 14.
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ drop: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 1, maxVUs: 2, gracefulStop: '5s' } }), SLEEP: '300' },
    });
    expect(result.exitCode).toBe(0);
    const started = target.on('/start').length;
    const dropped = result.summary?.metrics.dropped_iterations?.values.count ?? 0;
    console.log(`dropped_iterations: ${started} started + ${dropped} dropped of 40 scheduled (vus_max ${result.summary?.metrics.vus_max?.values.max})`);
    expect(started + dropped).toBe(40);
    expect(started).toBeLessThanOrEqual(14);
    expect(dropped).toBeGreaterThanOrEqual(26);
    expect(result.summary?.metrics.vus_max?.values.max).toBe(2);
    expect(new Set(target.on('/start').map(vuOf)).size).toBe(2);
  });

  it('preAllocatedVUs vs maxVUs: vus_max grows from the pre-allocated VUs as the rate needs more, never past maxVUs', async () => {
    // 20/s, iterations of ~200 ms: about 4 VUs are busy at once (more if the machine stalls).
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ grow: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 1, maxVUs: 20 } }), SLEEP: '180' },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start');
    const initialised = starts.map((s) => num(s.query.init));
    expect(initialised[0]).toBe(1);
    expect(Math.max(...initialised)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...initialised)).toBeLessThanOrEqual(20);
    for (let i = 1; i < initialised.length; i++) expect(initialised[i]).toBeGreaterThanOrEqual(initialised[i - 1] as number);
    expect(result.summary?.metrics.dropped_iterations).toBeUndefined();
    expect(starts).toHaveLength(40);
    expect(result.summary?.metrics.vus_max?.values.max).toBe(Math.max(...initialised));
  });
});

describe('after the run', () => {
  it('no timer is left behind: the process can exit as soon as runLoad returns (gracefulStop is 30 s by default)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const result = await run('record.ts', target, {
      env: { OPTIONS: options({ a: { executor: 'constant-vus', vus: 2, duration: '500ms' }, b: { executor: 'constant-arrival-rate', rate: 10, duration: '500ms', preAllocatedVUs: 1 }, c: { executor: 'ramping-vus', stages: [{ duration: '500ms', target: 2 }] } }) },
    });
    expect(result.exitCode).toBe(0);
    await target.close();
    target = await startTarget(); // (afterEach closes this one)
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('scenario timing', TIMED, () => {
  it('startTime delays a scenario; overlapping scenarios have distinct VU ids (idInTest)', async () => {
    const result = await run('record.ts', target, {
      env: {
        OPTIONS: options({
          first: { executor: 'constant-vus', vus: 2, duration: '2s' },
          later: { executor: 'per-vu-iterations', vus: 2, iterations: 2, startTime: '1s' },
        }),
        SLEEP: '100',
      },
    });
    expect(result.exitCode).toBe(0);
    const first = byScenario(target.on('/start'), 'first');
    const later = byScenario(target.on('/start'), 'later');
    const firstStart = num(first[0]?.query.st);
    const laterStart = num(later[0]?.query.st);
    expect(laterStart - firstStart).toBeGreaterThanOrEqual(995);
    expect(laterStart - firstStart).toBeLessThan(1100);
    for (const s of later) expect(num(s.query.t)).toBeGreaterThanOrEqual(laterStart);
    expect(later).toHaveLength(4);
    // Both scenarios run at once between 1 s and 2 s: four VUs, four distinct ids in the test.
    const ids = new Set([...first, ...later].map(vuOf));
    expect(ids.size).toBe(4);
  });

  it('gracefulStop: an iteration longer than it is interrupted and not counted, a shorter one completes', async () => {
    const result = await run('record.ts', target, {
      env: {
        OPTIONS: options({
          // Both VUs start one iteration at 0; the scenario ends at 1 s, gracefulStop at 1.5 s.
          stop: { executor: 'constant-vus', vus: 2, duration: '1s', gracefulStop: '500ms' },
          // Keeps the run (and its HTTP client) going past the interrupted iteration's natural end.
          other: { executor: 'constant-vus', vus: 1, duration: '3s' },
        }),
        SLEEP_BY: JSON.stringify({ 'stop:1': 2500, 'stop:2': 1100 }),
        SLEEP: '100',
      },
    });
    expect(result.exitCode).toBe(0);
    const stopStarts = byScenario(target.on('/start'), 'stop');
    const stopEnds = byScenario(target.on('/end'), 'stop');
    expect(stopStarts).toHaveLength(2);
    const long = stopStarts.find((s) => num(s.query.vu) === Math.min(...stopStarts.map(vuOf)));
    // The 1.1 s iteration completed within gracefulStop; the 2.5 s one was interrupted at 1.5 s and
    // its code did not go on to reach /end (2.5 s, while the run was still going).
    expect(stopEnds).toHaveLength(1);
    expect(vuOf(stopEnds[0] as Arrival)).not.toBe(vuOf(long as Arrival));
    expect(result.iterations.interrupted).toBe(1);
    const otherEnds = byScenario(target.on('/end'), 'other').length;
    expect(result.iterations.completed).toBe(otherEnds + 1);
    expect(result.summary?.metrics.iterations?.values.count).toBe(otherEnds + 1);
    expect(result.summary?.metrics.http_reqs?.values.count).toBe(target.arrivals.length);
    // Nor does it add samples of its own after the interruption (k6 stops the VU's code there).
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past the 2.5 s the long iteration would have taken
    expect(result.summary?.metrics.past_wait?.values.count).toBe(otherEnds + 1);
  });

  it('gracefulRampDown: a VU ramped down finishes a short iteration; a long one is interrupted after gracefulRampDown', async () => {
    const result = await run('record.ts', target, {
      env: {
        OPTIONS: options({
          // 2 VUs until 1 s, down to 0 by 1.1 s, the schedule ends at 3 s (gracefulStop is 30 s by default).
          rd: {
            executor: 'ramping-vus',
            startVUs: 2,
            stages: [
              { duration: '1s', target: 2 },
              { duration: '100ms', target: 0 },
              { duration: '1900ms', target: 0 },
            ],
            gracefulRampDown: '500ms',
          },
        }),
        // VU 2 leaves at 1.05 s inside a 1.2 s iteration (done by 1.55 s); VU 1 leaves at 1.1 s inside a
        // 2.8 s iteration, interrupted at 1.6 s, before it would have ended at 2.8 s.
        SLEEP_BY: JSON.stringify({ 'rd:1': 2800, 'rd:2': 1200 }),
      },
    });
    expect(result.exitCode).toBe(0);
    const starts = target.on('/start');
    const ends = target.on('/end');
    expect(starts.map(vuOf).sort()).toEqual([1, 2]);
    expect(ends.map(vuOf)).toEqual([2]);
    expect(result.iterations).toEqual({ completed: 1, interrupted: 1, failed: 0 });
    expect(result.wallMs).toBeGreaterThanOrEqual(3000);
  });
});
