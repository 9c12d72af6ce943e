// The engine's pure pieces, without load: the ramping-vus target, the arrival-rate start
// schedules, execution segments and options consolidation.

import { describe, expect, it } from 'vitest';
import { EXIT_CODES, LoadgenError, consolidateOptions, parseExecutionSegment } from '../index.js';
import { constantSchedule, rampingSchedule, rampingVusAt, type ExecutionSegment } from '../executors/index.js';

describe('rampingVusAt', () => {
  const up = [{ duration: 1000, target: 4 }];
  it('steps up at the times the line crosses each whole VU', () => {
    expect([0, 249, 250, 499, 500, 750, 999].map((t) => rampingVusAt(0, up, t))).toEqual([0, 0, 1, 1, 2, 3, 3]);
    expect(rampingVusAt(0, up, 1000)).toBe(4);
    expect(rampingVusAt(0, up, 10_000)).toBe(4); // after the last stage: its target
  });
  it('steps down only once the line is at or below the next whole VU', () => {
    const down = [{ duration: 1000, target: 0 }];
    expect([0, 1, 249, 250, 251, 999].map((t) => rampingVusAt(4, down, t))).toEqual([4, 4, 4, 3, 3, 1]);
    expect(rampingVusAt(4, down, 1000)).toBe(0);
  });
  it('holds flat stages, jumps on zero-length ones, and chains stages from the previous target', () => {
    const stages = [
      { duration: 500, target: 2 },
      { duration: 0, target: 6 },
      { duration: 1000, target: 6 },
      { duration: 1000, target: 1 },
    ];
    expect(rampingVusAt(2, stages, 0)).toBe(2);
    expect(rampingVusAt(2, stages, 499)).toBe(2);
    expect(rampingVusAt(2, stages, 500)).toBe(6);
    expect(rampingVusAt(2, stages, 1499)).toBe(6);
    expect(rampingVusAt(2, stages, 1500 + 200)).toBe(5); // 6 → 1 over 1 s: 5 at 200 ms
    expect(rampingVusAt(2, stages, 2500)).toBe(1);
  });
});

describe('constantSchedule', () => {
  it('starts rate × duration / timeUnit iterations, evenly spaced from 0', () => {
    const schedule = constantSchedule(50, 1000, 4000);
    const starts: number[] = [];
    for (let j = 0; schedule(j) !== undefined; j++) starts.push(schedule(j) as number);
    expect(starts).toHaveLength(200);
    starts.forEach((at, j) => expect(at).toBeCloseTo(j * 20, 9));
  });
  it('keeps fractional intervals exact (3 per second, 7 per minute)', () => {
    const three = constantSchedule(3, 1000, 1000);
    expect([0, 1, 2, 3].map(three)).toEqual([0, 1000 / 3, 2000 / 3, undefined]);
    const seven = constantSchedule(7, 60_000, 120_000);
    let n = 0;
    while (seven(n) !== undefined) n++;
    expect(n).toBe(14);
  });
});

/** ⌈x⌉ with a little tolerance for floating point (and never -0). */
const ceil = (x: number) => Math.max(0, Math.ceil(x - 1e-9));

/** ∫₀ᵀ rate, exactly, for a piecewise-linear rate in iterations per timeUnit. */
function integral(startRate: number, timeUnit: number, stages: ReadonlyArray<{ duration: number; target: number }>, T: number): number {
  let total = 0;
  let t0 = 0;
  let from = startRate;
  for (const stage of stages) {
    const d = Math.min(stage.duration, Math.max(0, T - t0));
    if (d > 0) {
      const rateAt = from + ((stage.target - from) * d) / stage.duration;
      total += ((from + rateAt) / 2 / timeUnit) * d;
    }
    t0 += stage.duration;
    from = stage.target;
  }
  return total;
}

describe('rampingSchedule', () => {
  const cases: Array<[string, number, number, Array<{ duration: number; target: number }>]> = [
    ['ramp up from 0', 0, 1000, [{ duration: 2000, target: 40 }, { duration: 1000, target: 40 }]],
    ['up, hold, down to 0', 5, 1000, [{ duration: 1000, target: 20 }, { duration: 1500, target: 20 }, { duration: 2000, target: 0 }]],
    ['a pause at rate 0 in the middle', 10, 1000, [{ duration: 1000, target: 0 }, { duration: 1000, target: 0 }, { duration: 1000, target: 30 }]],
    ['per minute, fractional totals', 7, 60_000, [{ duration: 90_000, target: 100 }, { duration: 45_000, target: 3 }]],
    ['flat 7 per minute for 2 minutes (14 starts, not 15)', 7, 60_000, [{ duration: 120_000, target: 7 }]],
    ['a sudden step (zero-length stage)', 2, 1000, [{ duration: 1000, target: 2 }, { duration: 0, target: 50 }, { duration: 1000, target: 50 }]],
  ];

  for (const [name, startRate, timeUnit, stages] of cases) {
    it(`${name}: the starts before any T number ⌈∫₀ᵀ rate⌉, and the j-th start is where the integral reaches j`, () => {
      const schedule = rampingSchedule(startRate, timeUnit, stages);
      const total = stages.reduce((sum, s) => sum + s.duration, 0);
      const starts: number[] = [];
      for (let j = 0; ; j++) {
        const at = schedule(j);
        if (at === undefined || at >= total) break;
        starts.push(at);
      }
      // Every start sits where the integral of the rate reaches its index (stages with rate 0 never hold one).
      starts.forEach((at, j) => {
        expect(integral(startRate, timeUnit, stages, at)).toBeCloseTo(j, 6);
        if (j > 0) expect(at).toBeGreaterThanOrEqual(starts[j - 1] as number);
      });
      expect(starts.length).toBe(ceil(integral(startRate, timeUnit, stages, total)));
      for (let T = 0; T <= total; T += total / 500) {
        expect(starts.filter((at) => at < T).length).toBe(ceil(integral(startRate, timeUnit, stages, T)));
      }
    });
  }
});

describe('ExecutionSegment', () => {
  const sequences = ['0,1/3,2/3,1', '0,1/4,1/2,1', '0,0.1,0.5,1', '0,1/2,1', '0,1/6,1/2,5/6,1', '0,25%,100%'];
  const segmentsOf = (sequence: string): ExecutionSegment[] => {
    const points = sequence.split(',');
    return points.slice(1).map((to, i) => parseExecutionSegment(`${points[i]}:${to}`, sequence));
  };

  for (const sequence of sequences) {
    it(`${sequence}: every index belongs to exactly one segment, scale() sums to n, indexInTest() inverts them`, () => {
      const segments = segmentsOf(sequence);
      expect(segments.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1, 12);
      for (let index = 0; index < 2000; index++) expect(segments.filter((s) => s.owns(index))).toHaveLength(1);
      for (let n = 0; n <= 500; n++) expect(segments.reduce((sum, s) => sum + s.scale(n), 0)).toBe(n);
      for (const segment of segments) {
        const owned = [...Array(600).keys()].filter((i) => segment.owns(i));
        expect(owned.map((_, k) => segment.indexInTest(k))).toEqual(owned);
        // Each segment's share of any long stretch is its fraction (±1 for the stripe's edge).
        expect(Math.abs(segment.scale(600) - 600 * segment.share)).toBeLessThanOrEqual(1);
      }
    });
  }

  it('the full test owns everything; no flags is the full test', () => {
    const full = parseExecutionSegment(undefined, undefined);
    expect(full.isFull).toBe(true);
    expect(full.scale(17)).toBe(17);
    expect(full.indexInTest(5)).toBe(5);
    expect(parseExecutionSegment('0:1', undefined).isFull).toBe(true);
  });

  it('refuses malformed segments with exit 2, naming the flag', () => {
    const bad: Array<[string | undefined, string | undefined, RegExp]> = [
      ['2/3:1/3', undefined, /--execution-segment: .*smaller to a larger/],
      ['1/3:5/3', undefined, /--execution-segment: "5\/3" must be between 0 and 1/],
      ['a:b', undefined, /--execution-segment: "a" is not a fraction/],
      ['0:1/3:2/3', undefined, /--execution-segment: .*FROM:TO/],
      ['1/3:1/2', '0,1/3,2/3,1', /is not a segment of the sequence/],
      ['0:1/3', '0,2/3,1/3,1', /--execution-segment-sequence: .*must be increasing/],
      ['0:1/3', '0,1/3,x', /--execution-segment-sequence: "x" is not a fraction/],
    ];
    for (const [segment, sequence, message] of bad) {
      let caught: unknown;
      try {
        parseExecutionSegment(segment, sequence);
      } catch (error) {
        caught = error;
      }
      expect(caught, `${segment} / ${sequence}`).toBeInstanceOf(LoadgenError);
      expect((caught as LoadgenError).exitCode).toBe(EXIT_CODES.badInput);
      expect((caught as LoadgenError).message).toMatch(message);
    }
  });
});

describe('consolidateOptions', () => {
  const refuses = (exported: unknown, message: RegExp) => {
    let caught: unknown;
    try {
      consolidateOptions(exported);
    } catch (error) {
      caught = error;
    }
    expect(caught, JSON.stringify(exported)).toBeInstanceOf(LoadgenError);
    expect((caught as LoadgenError).exitCode).toBe(EXIT_CODES.invalidConfig);
    expect((caught as LoadgenError).message).toMatch(message);
  };

  it('names the field of every invalid option (exit 104)', () => {
    refuses({ scenarios: { main: { executor: 'constant-rps', vus: 1 } } }, /^options\.scenarios\.main\.executor: unknown executor "constant-rps"; valid: constant-vus/);
    refuses({ scenarios: { main: { executor: 'externally-controlled', vus: 1 } } }, /^options\.scenarios\.main\.executor: .*externally-controlled is not supported/);
    refuses({ scenarios: { main: { vus: 1, duration: '1s' } } }, /^options\.scenarios\.main\.executor: unknown executor undefined/);
    refuses({ scenarios: { main: { executor: 'constant-vus', vus: 2 } } }, /^options\.scenarios\.main\.duration: /);
    refuses({ scenarios: { main: { executor: 'constant-vus', vus: 2, duration: 'ten seconds' } } }, /^options\.scenarios\.main\.duration: "ten seconds" is not a duration/);
    refuses({ scenarios: { main: { executor: 'constant-vus', vus: 0, duration: '1s' } } }, /^options\.scenarios\.main\.vus: must be at least 1/);
    refuses({ scenarios: { main: { executor: 'constant-vus', vus: 1.5, duration: '1s' } } }, /^options\.scenarios\.main\.vus: must be a whole number/);
    refuses({ scenarios: { main: { executor: 'constant-vus', vu: 2, duration: '1s' } } }, /^options\.scenarios\.main: unknown field "vu"/);
    refuses({ scenarios: { main: { executor: 'ramping-vus', stages: [{ duration: '1s', target: -1 }] } } }, /^options\.scenarios\.main\.stages\[0\]\.target: must be at least 0/);
    refuses({ scenarios: { main: { executor: 'ramping-vus', stages: [] } } }, /^options\.scenarios\.main\.stages: needs at least one stage/);
    refuses({ scenarios: { main: { executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 5, maxVUs: 2 } } }, /^options\.scenarios\.main\.maxVUs: must be at least preAllocatedVUs \(5\)/);
    refuses({ scenarios: { main: { executor: 'constant-arrival-rate', rate: 0, duration: '1s', preAllocatedVUs: 1 } } }, /^options\.scenarios\.main\.rate: must be above 0/);
    refuses({ scenarios: { main: { executor: 'constant-arrival-rate', rate: 5, duration: '1s' } } }, /^options\.scenarios\.main\.preAllocatedVUs: /);
    refuses({ scenarios: { 'bad name': { executor: 'constant-vus', duration: '1s' } } }, /^options\.scenarios\["bad name"\]: a scenario name may only use/);
    refuses({ scenarios: { main: { executor: 'constant-vus', duration: '1s' } }, vus: 3 }, /^options\.scenarios: cannot be combined with the vus/);
    refuses({ summaryTrendStats: ['avg', 'p95'] }, /^options\.summaryTrendStats\[1\]: must be avg, min, med, max, count, sum or p\(N\)/);
    refuses({ setupTimeout: 'soon' }, /^options\.setupTimeout: "soon" is not a duration/);
    refuses('vus=3', /^options: the exported options must be an object/);
  });

  it("turns k6's shortcuts into the scenario k6 would run", () => {
    const only = (exported: unknown) => consolidateOptions(exported).scenarios;
    expect(only(undefined)).toMatchObject([{ name: 'default', executor: 'per-vu-iterations', vus: 1, iterations: 1 }]);
    expect(only({ vus: 5, duration: '10s' })).toMatchObject([{ executor: 'constant-vus', vus: 5, duration: 10_000 }]);
    expect(only({ vus: 2, iterations: 10 })).toMatchObject([{ executor: 'shared-iterations', vus: 2, iterations: 10 }]);
    expect(only({ stages: [{ duration: '5s', target: 3 }] })).toMatchObject([{ executor: 'ramping-vus', startVUs: 1, stages: [{ duration: 5000, target: 3 }] }]);
    // Command-line shortcuts replace the script's scenarios.
    const overridden = consolidateOptions({ scenarios: { main: { executor: 'constant-vus', vus: 9, duration: '1m' } } }, { vus: 2, duration: '3s' });
    expect(overridden.scenarios).toMatchObject([{ name: 'default', executor: 'constant-vus', vus: 2, duration: 3000 }]);
    // Defaults k6 documents: gracefulStop 30s, gracefulRampDown 30s, timeUnit 1s, startTime 0.
    const [ramping] = only({ scenarios: { r: { executor: 'ramping-vus', stages: [{ duration: '1s', target: 1 }] } } });
    expect(ramping).toMatchObject({ gracefulStop: 30_000, gracefulRampDown: 30_000, startTime: 0, startVUs: 1 });
    const [arrival] = only({ scenarios: { a: { executor: 'constant-arrival-rate', rate: 1, duration: '1s', preAllocatedVUs: 1 } } });
    expect(arrival).toMatchObject({ timeUnit: 1000, gracefulStop: 30_000 });
  });
});
