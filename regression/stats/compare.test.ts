import { describe, expect, it } from 'vitest';
import { compareKpi, mannWhitney } from './index.js';
import { createRandom, normalSeries } from './synthetic.js';

const defaults = { minEffect: 0.05, alpha: 0.01 } as const;

describe('compareKpi: direction and minimum effect', () => {
  const random = createRandom(11);
  const baseline = normalSeries(random, 5, 1000, 20);

  it('a 10 % throughput drop is a regression (higher is better)', () => {
    const candidate = normalSeries(random, 3, 900, 18);
    const result = compareKpi({ baseline, candidate, direction: 'higher-is-better', ...defaults });
    expect(result.verdict).toBe('regressed');
    expect(result.test).toBe('bootstrap');
    expect(result.relativeChange).toBeCloseTo(-0.1, 1);
    expect(result.ci[1]).toBeLessThan(0);
    expect(result.pValue).toBeLessThan(0.01);
  });

  it('a 10 % latency drop is an improvement (lower is better)', () => {
    const candidate = normalSeries(random, 3, 900, 18);
    expect(compareKpi({ baseline, candidate, direction: 'lower-is-better', ...defaults }).verdict).toBe('improved');
  });

  it('a significant 2 % change stays unchanged when minEffect is 5 %', () => {
    const r = createRandom(12);
    const before = normalSeries(r, 10, 100, 0.2);
    const after = normalSeries(r, 10, 102, 0.2);
    const result = compareKpi({ baseline: before, candidate: after, direction: 'lower-is-better', ...defaults });
    expect(result.pValue).toBeLessThan(0.001);
    expect(result.ci[0]).toBeGreaterThan(0);
    expect(result.verdict).toBe('unchanged');
    expect(compareKpi({ baseline: before, candidate: after, direction: 'lower-is-better', minEffect: 0.01, alpha: 0.01 }).verdict).toBe('regressed');
  });

  it('the same change on per-request samples: Mann–Whitney and a median bootstrap', () => {
    const r = createRandom(13);
    const baselineSamples = normalSeries(r, 2000, 0.2, 0.03);
    const candidateSamples = normalSeries(r, 2000, 0.24, 0.03);
    const result = compareKpi({ baseline: [0.25], candidate: [0.3], baselineSamples, candidateSamples, direction: 'lower-is-better', ...defaults });
    expect(result.test).toBe('mann-whitney');
    expect(result.verdict).toBe('regressed');
    expect(result.relativeChange).toBeGreaterThan(0.17);
    expect(result.ci[0]).toBeGreaterThan(0.15);
    expect(result.ci[1]).toBeLessThan(0.25);
  });

  it('falls back to run values, with a note, when there are too few samples', () => {
    const result = compareKpi({ baseline: [1, 1.1, 0.9], candidate: [1], baselineSamples: [1, 2], candidateSamples: [1], direction: 'lower-is-better', ...defaults });
    expect(result.test).toBe('bootstrap');
    expect(result.note).toMatch(/ignored/);
  });

  it('KPIs without any spread: any change is significant', () => {
    const result = compareKpi({ baseline: [0.5, 0.5, 0.5], candidate: [0.6], direction: 'lower-is-better', ...defaults });
    expect(result.verdict).toBe('regressed');
    expect(compareKpi({ baseline: [0.5, 0.5], candidate: [0.5], direction: 'lower-is-better', ...defaults }).verdict).toBe('unchanged');
  });

  it('names the bad field', () => {
    expect(() => compareKpi({ baseline: [1], candidate: [1], direction: 'lower-is-better', ...defaults })).toThrow(/baseline needs at least 2/);
    expect(() => compareKpi({ baseline: [1, Number.NaN], candidate: [1], direction: 'lower-is-better', ...defaults })).toThrow(/baseline\[1\]/);
    expect(() => compareKpi({ baseline: [1, 2], candidate: [1], direction: 'lower-is-better', minEffect: 0.05, alpha: 0 })).toThrow(/alpha/);
  });

  it('is deterministic: the same input gives the same output', () => {
    const r = createRandom(14);
    const input = { baseline: normalSeries(r, 5, 100, 2), candidate: normalSeries(r, 2, 104, 2), direction: 'lower-is-better' as const, ...defaults };
    const samples = { ...input, baselineSamples: normalSeries(r, 300, 1, 0.1), candidateSamples: normalSeries(r, 300, 1.02, 0.1) };
    expect(compareKpi(input)).toEqual(compareKpi({ ...input }));
    expect(compareKpi(samples)).toEqual(compareKpi({ ...samples }));
    expect(compareKpi({ ...input, seed: 99 }).ci).not.toEqual(compareKpi(input).ci);
  });
});

describe('mannWhitney', () => {
  it('matches a hand-computed U, p with ties', () => {
    // Ranks of [1,2,3,4] vs [3,5,6,7]: the 3s tie at 3.5; candidate rank sum 3.5+6+7+8 = 24.5; U = 14.5.
    const result = mannWhitney([1, 2, 3, 4], [3, 5, 6, 7]);
    expect(result.u).toBe(14.5);
    // mean 8, var = 16/12·(9 − 6/56) = 11.857; z = (6.5 − 0.5)/3.443 = 1.742; p = 0.0814.
    expect(result.pValue).toBeCloseTo(0.0814, 3);
    expect(mannWhitney([2, 2, 2], [2, 2]).pValue).toBe(1);
  });
});

describe('compareKpi: false alarms on pure noise', () => {
  it('5 baseline runs vs 1 candidate run from the same distribution (CV 2 %): < 1 % alarms', () => {
    const random = createRandom(101);
    const trials = 1000;
    const alarms = { regressed: 0, improved: 0, regressedAt3: 0, anyAt3: 0 };
    for (let i = 0; i < trials; i++) {
      const baseline = normalSeries(random, 5, 100, 2);
      const candidate = normalSeries(random, 1, 100, 2);
      const verdict = compareKpi({ baseline, candidate, direction: 'lower-is-better', ...defaults }).verdict;
      if (verdict === 'regressed') alarms.regressed++;
      if (verdict === 'improved') alarms.improved++;
      const tighter = compareKpi({ baseline, candidate, direction: 'lower-is-better', minEffect: 0.03, alpha: 0.01 }).verdict;
      if (tighter === 'regressed') alarms.regressedAt3++;
      if (tighter !== 'unchanged') alarms.anyAt3++;
    }
    console.info(`compareKpi noise 5 vs 1 (${trials} series): minEffect 5 % → ${alarms.regressed} regressed, ${alarms.improved} improved; minEffect 3 % → ${alarms.regressedAt3} regressed, ${alarms.anyAt3} any`);
    expect((alarms.regressed + alarms.improved) / trials).toBeLessThan(0.01);
    expect(alarms.regressedAt3 / trials).toBeLessThan(0.01);
  });

  it('one run ×3 in the baseline raises no alarm', () => {
    const random = createRandom(102);
    let alarms = 0;
    for (let i = 0; i < 200; i++) {
      const baseline = normalSeries(random, 5, 100, 2);
      baseline[i % 5] = (baseline[i % 5] as number) * 3;
      const candidate = normalSeries(random, 1 + (i % 3), 100, 2);
      if (compareKpi({ baseline, candidate, direction: 'lower-is-better', ...defaults }).verdict !== 'unchanged') alarms++;
    }
    expect(alarms).toBe(0);
  });

  it('a single outlier request among many candidate samples raises no alarm', () => {
    const random = createRandom(103);
    const baselineSamples = normalSeries(random, 1000, 0.1, 0.01);
    const candidateSamples = normalSeries(random, 1000, 0.1, 0.01);
    candidateSamples[500] = 30;
    const result = compareKpi({ baseline: [0.12], candidate: [0.12], baselineSamples, candidateSamples, direction: 'lower-is-better', ...defaults });
    expect(result.test).toBe('mann-whitney');
    expect(result.verdict).toBe('unchanged');
  });

  it('bimodal latency (a 50/50 mixture on both sides) raises no alarm', () => {
    const random = createRandom(104);
    const mixture = (n: number) => Array.from({ length: n }, () => (random.uniform() < 0.5 ? 0.05 + 0.005 * random.normal() : 0.25 + 0.02 * random.normal()));
    let alarms = 0;
    const trials = 200;
    for (let i = 0; i < trials; i++) {
      const result = compareKpi({ baseline: [0.3], candidate: [0.3], baselineSamples: mixture(400), candidateSamples: mixture(400), direction: 'lower-is-better', ...defaults });
      if (result.verdict !== 'unchanged') alarms++;
    }
    console.info(`compareKpi bimodal samples (${trials} pairs of 400 vs 400): ${alarms} alarms`);
    expect(alarms / trials).toBeLessThan(0.02);
  });
});
