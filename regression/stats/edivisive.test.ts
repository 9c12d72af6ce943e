import { describe, expect, it } from 'vitest';
import { eDivisive as changePoints } from './index.js';
import { bestSplit } from './edivisive.js';
import { createRandom, normalSeries } from './synthetic.js';

/** Q of the best split, computed naively from the definition (O(m³)), to check the fast scan. */
function naiveBestSplit(values: readonly number[], minSegment: number) {
  let best = { tau: -1, q: Number.NEGATIVE_INFINITY };
  const m = values.length;
  const meanDistance = (a: readonly number[], b: readonly number[], same: boolean) => {
    let total = 0;
    for (const x of a) for (const y of b) total += Math.abs(x - y);
    return same ? total / (a.length * (a.length - 1)) : total / (a.length * b.length);
  };
  for (let tau = minSegment; tau <= m - minSegment; tau++) {
    const a = values.slice(0, tau);
    const b = values.slice(tau);
    const q = ((a.length * b.length) / m) * (2 * meanDistance(a, b, false) - meanDistance(a, a, true) - meanDistance(b, b, true));
    if (q > best.q) best = { tau, q };
  }
  return best;
}

// E-divisive means (what Apache Otava uses), kept as eDivisive for comparison; perfstack's own
// detector is detectChanges (history.test.ts).
describe('E-divisive energy scan', () => {
  it('matches the definition computed naively', () => {
    const random = createRandom(21);
    for (const length of [6, 17, 60]) {
      const values = normalSeries(random, length, 100, 5).map((v, i) => (i > length / 3 ? v + 8 : Math.round(v))); // ties included
      const fast = bestSplit(Float64Array.from(values), { minSegment: 3, permutations: 19, alpha: 0.05, random: createRandom(1) });
      const naive = naiveBestSplit(values, 3);
      expect(fast.tau).toBe(naive.tau);
      expect(fast.q).toBeCloseTo(naive.q, 6);
    }
  });
});

describe('changePoints on fixtures with known answers', () => {
  it('two steps at 50 and 120 in a 200-point series', () => {
    const random = createRandom(22);
    const series = [...normalSeries(random, 50, 100, 2), ...normalSeries(random, 70, 110, 2), ...normalSeries(random, 80, 95, 2)];
    const found = changePoints(series);
    expect(found.map((c) => c.index)).toEqual([50, 120]);
    expect(found[0]?.relativeChange).toBeCloseTo(0.1, 1);
    expect(found[1]?.after).toBeLessThan(found[1]?.before as number);
    expect(found.every((c) => c.pValue <= 0.01)).toBe(true);
  });

  it('nothing in a flat noisy series', () => {
    const random = createRandom(23);
    expect(changePoints(normalSeries(random, 200, 100, 2))).toEqual([]);
    expect(changePoints(normalSeries(random, 200, 100, 10), { minMagnitude: 0 })).toEqual([]);
  });

  it('a slow creeping ramp (+0.5 %/run over 40 runs) is flagged, with the after-median higher', () => {
    const random = createRandom(24);
    const series = Array.from({ length: 40 }, (_, i) => 100 * (1 + 0.005 * i) + 2 * random.normal());
    const found = changePoints(series);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found.every((c) => c.after > c.before)).toBe(true);
  });

  it('the same answer with a window, and determinism', () => {
    const random = createRandom(25);
    const series = [...normalSeries(random, 300, 100, 2), ...normalSeries(random, 300, 108, 2), ...normalSeries(random, 400, 100, 2)];
    expect(changePoints(series, { window: 200 }).map((c) => c.index)).toEqual([300, 600]);
    expect(changePoints(series, { window: 200 })).toEqual(changePoints(series, { window: 200 }));
    expect(changePoints(series)).toEqual(changePoints([...series]));
  });

  it('names bad options', () => {
    expect(() => changePoints([1, 2, Number.NaN])).toThrow(/series\[2\]/);
    expect(() => changePoints([1, 2, 3], { minSegment: 1 })).toThrow(/minSegment/);
    expect(() => changePoints([1, 2, 3], { window: 4 })).toThrow(/window/);
  });

  it('a 10,000-point series with a window of 200 (not timed; see bench/regression-stats.bench.ts)', () => {
    const random = createRandom(26);
    const series = Array.from({ length: 10_000 }, (_, i) => 100 * (1 + 0.1 * (Math.floor(i / 1000) % 3)) + 2 * random.normal());
    const found = changePoints(series, { window: 200 });
    expect(found.map((c) => c.index)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
  });
});

describe('changePoints: false alarms on pure noise', () => {
  it('1,000 noise series of 30 points (CV 2 %): < 1 % with a change point', () => {
    const random = createRandom(27);
    const trials = 1000;
    let alarmed = 0;
    let alarmedAt3 = 0;
    let splitsBeforeMagnitude = 0;
    for (let i = 0; i < trials; i++) {
      const series = normalSeries(random, 30, 100, 2);
      if (changePoints(series, { seed: i + 1 }).length > 0) alarmed++;
      if (changePoints(series, { seed: i + 1, minMagnitude: 0.03 }).length > 0) alarmedAt3++;
      if (changePoints(series, { seed: i + 1, minMagnitude: 0 }).length > 0) splitsBeforeMagnitude++;
    }
    console.info(`changePoints noise (${trials} × 30 points): minMagnitude 5 % → ${alarmed}, 3 % → ${alarmedAt3}, 0 → ${splitsBeforeMagnitude}`);
    expect(alarmed / trials).toBeLessThan(0.01);
    expect(alarmedAt3 / trials).toBeLessThan(0.01);
  });
});
