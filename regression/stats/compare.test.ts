import { describe, expect, it } from 'vitest';
import { compareKpi, decideVerdict, mannWhitney, runEstimate } from './index.js';
import { studentCritical, studentTwoSidedP } from './distributions.js';
import { createRandom, normalSeries, type Random } from './synthetic.js';

const defaults = { minEffect: 0.05, alpha: 0.01 } as const;

/** A run's request latencies (seconds): a log-normal body around `median`, times the run's own level. */
function latencies(random: Random, n: number, median: number, level = 1, sigma = 0.3): number[] {
  return Array.from({ length: n }, () => median * level * Math.exp(sigma * random.normal()));
}

describe('Student t', () => {
  it('matches tabulated values', () => {
    expect(studentTwoSidedP(2.776445, 4)).toBeCloseTo(0.05, 5);
    expect(studentCritical(0.01, 4)).toBeCloseTo(4.604095, 4);
    expect(studentCritical(0.05, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTwoSidedP(1.959964, Number.POSITIVE_INFINITY)).toBeCloseTo(0.05, 6);
  });
});

describe('compareKpi: direction and the smallest change that counts', () => {
  const random = createRandom(11);
  const baseline = normalSeries(random, 5, 1000, 20);

  it('a 10 % throughput drop is a regression (higher is better), judged on the rate', () => {
    const candidate = normalSeries(random, 3, 900, 18);
    const result = compareKpi({ baseline, candidate, statistic: 'rate', direction: 'higher-is-better', ...defaults });
    expect(result.verdict).toBe('regressed');
    expect(result.statistic).toBe('rate');
    expect(result.test).toBe('run-level');
    expect(result.relativeChange).toBeCloseTo(-0.1, 1);
    expect(result.ci[1]).toBeLessThan(0);
    expect(result.pValue).toBeLessThan(0.01);
    expect(result.noiseFrom).toBe('baseline runs');
  });

  it('a 10 % latency drop is an improvement (lower is better)', () => {
    const candidate = normalSeries(random, 3, 900, 18);
    expect(compareKpi({ baseline, candidate, direction: 'lower-is-better', ...defaults }).verdict).toBe('improved');
  });

  it('a precisely measured 2 % change stays unchanged when minEffect is 5 %', () => {
    const r = createRandom(12);
    const before = normalSeries(r, 10, 100, 0.2);
    const after = normalSeries(r, 10, 102, 0.2);
    const result = compareKpi({ baseline: before, candidate: after, direction: 'lower-is-better', ...defaults });
    expect(result.pValue).toBeLessThan(0.001);
    expect(result.ci[0]).toBeGreaterThan(0);
    expect(result.ci[1]).toBeLessThan(0.05);
    expect(result.verdict).toBe('unchanged');
    expect(compareKpi({ baseline: before, candidate: after, direction: 'lower-is-better', minEffect: 0.01, alpha: 0.01 }).verdict).toBe('regressed');
  });

  it('the threshold is noise-aware: max(minEffect, noiseMultiple × run-to-run CV)', () => {
    const r = createRandom(15);
    const noisy = normalSeries(r, 8, 100, 10);
    const result = compareKpi({ baseline: noisy, candidate: [112], direction: 'lower-is-better', ...defaults });
    expect(result.runToRunCv).toBeGreaterThan(0.05);
    expect(result.threshold).toBeCloseTo(2 * result.runToRunCv, 10);
    expect(result.verdict).toBe('unchanged');
    const quiet = compareKpi({ baseline: normalSeries(r, 8, 100, 0.5), candidate: [112], direction: 'lower-is-better', ...defaults });
    expect(quiet.threshold).toBe(0.05);
    expect(quiet.verdict).toBe('regressed');
  });

  it('a change exactly at the threshold does not flip on rounding', () => {
    // 0.105 / 0.1 − 1 is 0.04999999999999982 in floating point: still a 5 % change.
    const result = compareKpi({ baseline: [0.1, 0.1, 0.1], candidate: [0.105], direction: 'lower-is-better', ...defaults });
    expect(result.relativeChange).toBeLessThan(0.05);
    expect(result.verdict).toBe('regressed');
    expect(decideVerdict(0.05 - 1e-12, [0.04, 0.05 - 1e-12], 0.001, 'lower-is-better', 0.05, 0.01)).toBe('regressed');
    expect(decideVerdict(0.0499, [0.04, 0.0499], 0.001, 'lower-is-better', 0.05, 0.01)).toBe('unchanged');
  });

  it('KPIs without any spread: any change is significant', () => {
    expect(compareKpi({ baseline: [0.5, 0.5, 0.5], candidate: [0.6], direction: 'lower-is-better', ...defaults }).verdict).toBe('regressed');
    expect(compareKpi({ baseline: [0.5, 0.5], candidate: [0.5], direction: 'lower-is-better', ...defaults }).verdict).toBe('unchanged');
  });

  it('names the bad field', () => {
    expect(() => compareKpi({ baseline: [1, Number.NaN], candidate: [1], direction: 'lower-is-better', ...defaults })).toThrow(/baseline\[1\]/);
    expect(() => compareKpi({ baseline: [1, 2], candidate: [1], direction: 'lower-is-better', minEffect: 0.05, alpha: 0 })).toThrow(/alpha/);
    expect(() => compareKpi({ baseline: [1, 2], candidate: [1], direction: 'lower-is-better', ...defaults, noiseMultiple: -1 })).toThrow(/noiseMultiple/);
  });

  it('is deterministic: the same input gives the same output', () => {
    const r = createRandom(14);
    const input = { baseline: normalSeries(r, 5, 100, 2), candidate: normalSeries(r, 2, 104, 2), direction: 'lower-is-better' as const, ...defaults };
    const samples = {
      ...input,
      statistic: 'p95' as const,
      baselineSamples: input.baseline.map(() => latencies(r, 300, 0.1)),
      candidateSamples: input.candidate.map(() => latencies(r, 300, 0.102)),
    };
    expect(compareKpi(input)).toEqual(compareKpi({ ...input }));
    expect(compareKpi(samples)).toEqual(compareKpi({ ...samples }));
    expect(JSON.stringify(compareKpi(samples))).toBe(JSON.stringify(compareKpi(structuredClone(samples))));
  });
});

describe('compareKpi: insufficient data says what is missing', () => {
  it('one baseline run and no history cannot show the run-to-run variation', () => {
    const result = compareKpi({ baseline: [0.1], candidate: [0.2], direction: 'lower-is-better', ...defaults });
    expect(result.verdict).toBe('insufficient data');
    expect(result.missing).toMatch(/run-to-run variation: 1 baseline run and 0 earlier runs.*≥ 2 baseline runs or ≥ 3 runs of history/);
    expect(result.relativeChange).toBeCloseTo(1, 10);
  });

  it('even with thousands of requests per run: requests are not runs', () => {
    const r = createRandom(16);
    const result = compareKpi({
      baseline: [0.1],
      candidate: [0.11],
      baselineSamples: [latencies(r, 5000, 0.1)],
      candidateSamples: [latencies(r, 5000, 0.11)],
      statistic: 'p95',
      direction: 'lower-is-better',
      ...defaults,
    });
    expect(result.verdict).toBe('insufficient data');
  });

  it('one baseline run is judged against the KPI’s stored history', () => {
    const r = createRandom(17);
    const history = normalSeries(r, 12, 100, 2);
    const result = compareKpi({ baseline: [history[11] as number], candidate: [130], history, direction: 'lower-is-better', ...defaults });
    expect(result.noiseFrom).toBe('history');
    expect(result.verdict).toBe('regressed');
    const none = compareKpi({ baseline: [], candidate: [1], direction: 'lower-is-better', ...defaults });
    expect(none.verdict).toBe('insufficient data');
    expect(none.missing).toMatch(/no baseline run/);
  });
});

describe('compareKpi: each KPI on the statistic it names', () => {
  it('a p95 tail regression with an unchanged median is regressed', () => {
    const r = createRandom(21);
    // Five baseline runs: p95 ≈ 12 ms. The candidate: the same body, but one request in ten takes ~300 ms.
    const baselineSamples = Array.from({ length: 5 }, () => latencies(r, 2000, 0.0075, 1 + 0.02 * r.normal()));
    const candidateSamples = [latencies(r, 2000, 0.0075).map((x, i) => (i % 10 === 0 ? 0.3 + 0.01 * r.normal() : x))];
    const baseline = baselineSamples.map((s) => runEstimate(s, 'p95').value);
    const candidate = candidateSamples.map((s) => runEstimate(s, 'p95').value);
    const p95 = compareKpi({ baseline, candidate, baselineSamples, candidateSamples, statistic: 'p95', direction: 'lower-is-better', ...defaults });
    expect(p95.test).toBe('two-level');
    expect(p95.statistic).toBe('p95');
    expect(p95.baselineValue).toBeGreaterThan(0.01);
    expect(p95.baselineValue).toBeLessThan(0.014);
    expect(p95.candidateValue).toBeGreaterThan(0.25);
    expect(p95.verdict).toBe('regressed');
    // The median of the same requests did not move.
    const p50 = compareKpi({ baseline, candidate, baselineSamples, candidateSamples, statistic: 'p50', direction: 'lower-is-better', ...defaults });
    expect(Math.abs(p50.relativeChange)).toBeLessThan(0.05);
    expect(p50.verdict).toBe('unchanged');
  });

  it('a median-only shift is not a p95 regression', () => {
    const r = createRandom(22);
    // 90 % of requests ~10 ms, 10 % ~55 ms (the p95 lives in that tail). The candidate's body moves
    // to 15 ms (+50 % median); the tail, and so the p95, stays.
    const run = (body: number) => Array.from({ length: 2000 }, (_, i) => (i % 10 === 0 ? 0.05 + 0.01 * r.uniform() : body * Math.exp(0.1 * r.normal())));
    const baselineSamples = Array.from({ length: 5 }, () => run(0.01));
    const candidateSamples = [run(0.015)];
    const input = { baseline: [0, 0, 0, 0, 0], candidate: [0], baselineSamples, candidateSamples, direction: 'lower-is-better' as const, ...defaults };
    const p95 = compareKpi({ ...input, statistic: 'p95' });
    expect(p95.test).toBe('two-level');
    expect(Math.abs(p95.relativeChange)).toBeLessThan(0.05);
    expect(p95.verdict).toBe('unchanged');
    expect(compareKpi({ ...input, statistic: 'p50' }).verdict).toBe('regressed');
  });

  it('a mean KPI is judged on means', () => {
    const r = createRandom(23);
    const baselineSamples = Array.from({ length: 4 }, () => normalSeries(r, 500, 10, 1));
    const candidateSamples = [normalSeries(r, 500, 12, 1), normalSeries(r, 500, 12, 1)];
    const result = compareKpi({ baseline: [0, 0, 0, 0], candidate: [0, 0], baselineSamples, candidateSamples, statistic: 'mean', direction: 'lower-is-better', ...defaults });
    expect(result.baselineValue).toBeCloseTo(10, 0);
    expect(result.candidateValue).toBeCloseTo(12, 0);
    expect(result.verdict).toBe('regressed');
  });
});

describe('compareKpi: false alarms when runs differ by 5 % (the run is the unit)', () => {
  // An alarm is a `regressed` verdict (it fails the CI gate and pages). An `improved` verdict on
  // noise is a false discovery too: both directions together stay within 2 alpha-sized tails.
  it('same-distribution runs, 5 baseline vs 1 candidate, 1,000 trials: ≤ 1 % alarms, samples path and run-level path alike', () => {
    const random = createRandom(101);
    const trials = 1000;
    const counts = { samples: { regressed: 0, improved: 0 }, runLevel: { regressed: 0, improved: 0 } };
    for (let i = 0; i < trials; i++) {
      // Each run's level differs by CV 5 % (another machine, another data layout); 400 requests a run.
      const runs = Array.from({ length: 6 }, () => latencies(random, 400, 0.05, 1 + 0.05 * random.normal()));
      const baselineSamples = runs.slice(0, 5);
      const candidateSamples = runs.slice(5);
      const baseline = baselineSamples.map((s) => runEstimate(s, 'p95').value);
      const candidate = candidateSamples.map((s) => runEstimate(s, 'p95').value);
      const common = { baseline, candidate, statistic: 'p95' as const, direction: 'lower-is-better' as const, ...defaults };
      const withSamples = compareKpi({ ...common, baselineSamples, candidateSamples });
      expect(withSamples.test).toBe('two-level');
      const runLevel = compareKpi(common);
      expect(runLevel.test).toBe('run-level');
      for (const [path, result] of [
        ['samples', withSamples],
        ['runLevel', runLevel],
      ] as const) {
        if (result.verdict === 'regressed') counts[path].regressed++;
        if (result.verdict === 'improved') counts[path].improved++;
      }
    }
    console.info(`compareKpi, 5 % run-to-run spread, 5 vs 1 runs (${trials} trials): ${JSON.stringify(counts)}`);
    for (const path of ['samples', 'runLevel'] as const) {
      expect(counts[path].regressed / trials).toBeLessThanOrEqual(0.01);
      expect((counts[path].regressed + counts[path].improved) / trials).toBeLessThanOrEqual(0.02);
    }
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

  it('a single 30 s request among a run’s requests raises no alarm on its p95', () => {
    const random = createRandom(103);
    const baselineSamples = Array.from({ length: 5 }, () => normalSeries(random, 1000, 0.1, 0.01));
    const candidateSamples = [normalSeries(random, 1000, 0.1, 0.01)];
    candidateSamples[0]![500] = 30;
    const result = compareKpi({ baseline: [0, 0, 0, 0, 0], candidate: [0], baselineSamples, candidateSamples, statistic: 'p95', direction: 'lower-is-better', ...defaults });
    expect(result.test).toBe('two-level');
    expect(result.verdict).toBe('unchanged');
  });

  it('bimodal latency (a 50/50 mixture in every run) raises no alarm', () => {
    const random = createRandom(104);
    const mixture = (n: number) => Array.from({ length: n }, () => (random.uniform() < 0.5 ? 0.05 + 0.005 * random.normal() : 0.25 + 0.02 * random.normal()));
    let alarms = 0;
    const trials = 200;
    for (let i = 0; i < trials; i++) {
      const result = compareKpi({
        baseline: [0, 0, 0, 0, 0],
        candidate: [0],
        baselineSamples: Array.from({ length: 5 }, () => mixture(400)),
        candidateSamples: [mixture(400)],
        statistic: 'p50',
        direction: 'lower-is-better',
        ...defaults,
      });
      if (result.verdict !== 'unchanged') alarms++;
    }
    console.info(`compareKpi bimodal samples (${trials} trials of 5 × 400 vs 400): ${alarms} alarms`);
    expect(alarms / trials).toBeLessThanOrEqual(0.01);
  });
});

describe('mannWhitney', () => {
  it('matches a hand-computed U, p with ties', () => {
    // Ranks of [1,2,3,4] vs [3,5,6,7]: the 3s tie at 3.5; candidate rank sum 3.5+6+7+8 = 24.5; U = 14.5.
    const result = mannWhitney([1, 2, 3, 4], [3, 5, 6, 7]);
    expect(result.u).toBe(14.5);
    expect(result.pValue).toBeCloseTo(0.0814, 3);
    expect(mannWhitney([2, 2, 2], [2, 2]).pValue).toBe(1);
  });
});
