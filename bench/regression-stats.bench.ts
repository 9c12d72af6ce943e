// Regression statistics: change detection and compareKpi, each against a named baseline.
//
//   npx vitest bench --run bench/regression-stats.bench.ts
//
// Cases (each with a named baseline):
//   detectChanges 10,000 points : perfstack's detector vs E-divisive (window 200, what Otava does)
//   detectChanges 2,000 points  : the same
//   compareKpi ×1,000 series    : run values (5 vs 1 runs); per-request samples (5 runs × 200 vs 1 × 200)
// Side by side with Apache Otava itself: bench/changepoints/speed.ts.
// The figures written to bench/results/regression-stats.json come from timing loops run while the
// file loads (vitest's bench mode runs no afterAll hooks and tinybench does not await teardown):
// REPEATS runs of each case, interleaved, median per case and the ratio to its baseline.

import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { compareKpi, detectChanges, eDivisive } from '../regression/stats/index.js';
import { createRandom, normalSeries } from '../regression/stats/synthetic.js';
import { median } from './stats.js';
import { writeJsonAtomic } from './write-json.js';

const RESULT_FILE = join(import.meta.dirname, 'results', 'regression-stats.json');
const REPEATS = Number(process.env.PERFSTACK_BENCH_ROUNDS ?? 5);

function stepped(length: number, seed: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length }, (_, i) => 100 * (1 + 0.1 * (Math.floor(i / 1000) % 3)) + 2 * random.normal());
}
const long = stepped(10_000, 1);
const medium = stepped(2_000, 2);
const noise = (() => {
  const random = createRandom(3);
  return Array.from({ length: 1000 }, () => ({ baseline: normalSeries(random, 5, 100, 2), candidate: normalSeries(random, 1, 100, 2) }));
})();
const samples = (() => {
  const random = createRandom(4);
  return Array.from({ length: 1000 }, () => ({
    baselineSamples: Array.from({ length: 5 }, () => normalSeries(random, 200, 0.1, 0.01)),
    candidateSamples: [normalSeries(random, 200, 0.1, 0.01)],
  }));
})();

function compareAll(withSamples: boolean): void {
  for (let i = 0; i < noise.length; i++) {
    const series = noise[i] as (typeof noise)[number];
    compareKpi({ ...series, ...(withSamples ? samples[i] : {}), statistic: 'p95', direction: 'lower-is-better', minEffect: 0.05, alpha: 0.01 });
  }
}

const CASES = {
  'detectChanges 10,000 points': () => void detectChanges(long),
  'E-divisive 10,000 points, window 200 (baseline)': () => void eDivisive(long, { window: 200 }),
  'detectChanges 2,000 points': () => void detectChanges(medium),
  'E-divisive 2,000 points, window 200 (baseline)': () => void eDivisive(medium, { window: 200 }),
  'compareKpi 1,000 series, run values': () => compareAll(false),
  'compareKpi 1,000 series, per-request samples, 5 runs × 200 vs 1 × 200': () => compareAll(true),
} as const;
type CaseName = keyof typeof CASES;

const timings = Object.fromEntries(Object.keys(CASES).map((name) => [name, [] as number[]])) as Record<CaseName, number[]>;
for (let round = 0; round < REPEATS; round++) {
  for (const [name, run] of Object.entries(CASES) as [CaseName, () => void][]) {
    const started = performance.now();
    run();
    timings[name].push(performance.now() - started);
  }
}
const medians = Object.fromEntries(Object.entries(timings).map(([name, ms]) => [name, median(ms)])) as Record<CaseName, number>;
const ratio = (a: CaseName, b: CaseName) => medians[b] / medians[a];
const result = {
  benchmark: 'regression-stats',
  unit: 'ms per call, median of REPEATS interleaved rounds',
  repeats: REPEATS,
  environment: { nodeVersion: process.version, cpuCount: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() },
  medians,
  speedupOverBaseline: {
    'detectChanges vs E-divisive, 10,000 points': ratio('detectChanges 10,000 points', 'E-divisive 10,000 points, window 200 (baseline)'),
    'detectChanges vs E-divisive, 2,000 points': ratio('detectChanges 2,000 points', 'E-divisive 2,000 points, window 200 (baseline)'),
  },
};
await writeJsonAtomic(RESULT_FILE, result);
console.info(JSON.stringify(result, null, 2));

const options = { time: 1000, iterations: 3 };

describe('change detection on 10,000 points (9 steps)', () => {
  bench('detectChanges', () => void detectChanges(long), options);
  bench('baseline: E-divisive, window 200', () => void eDivisive(long, { window: 200 }), options);
});

describe('change detection on 2,000 points (1 step)', () => {
  bench('detectChanges', () => void detectChanges(medium), options);
  bench('baseline: E-divisive, window 200', () => void eDivisive(medium, { window: 200 }), options);
});

describe('compareKpi across 1,000 series', () => {
  bench('run values', () => compareAll(false), options);
  bench('per-request samples (5 runs × 200 vs 1 × 200)', () => compareAll(true), options);
});
