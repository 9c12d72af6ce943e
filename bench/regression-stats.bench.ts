// Regression statistics: change-point detection and compareKpi, each against a named baseline.
//
//   npx vitest bench --run bench/regression-stats.bench.ts
//
// Cases (each with a named baseline):
//   changePoints 10,000 points : window 200 (what perfstack history uses on long series) vs window 1000
//   changePoints 2,000 points  : window 200 vs no window (the whole series at once)
//   compareKpi ×1,000 series   : run values, 2,000 resamples vs 500; per-request samples (Mann–Whitney)
// The figures written to bench/results/regression-stats.json come from timing loops run while the
// file loads (vitest's bench mode runs no afterAll hooks and tinybench does not await teardown):
// REPEATS runs of each case, interleaved, median per case and the ratio to its baseline.

import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { changePoints, compareKpi } from '../regression/stats/index.js';
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
  return Array.from({ length: 1000 }, () => ({ baselineSamples: normalSeries(random, 200, 0.1, 0.01), candidateSamples: normalSeries(random, 200, 0.1, 0.01) }));
})();

function compareAll(resamples: number, withSamples: boolean): void {
  for (let i = 0; i < noise.length; i++) {
    const series = noise[i] as (typeof noise)[number];
    compareKpi({ ...series, ...(withSamples ? samples[i] : {}), direction: 'lower-is-better', minEffect: 0.05, alpha: 0.01, resamples });
  }
}

const CASES = {
  'changePoints 10,000 points, window 200': () => void changePoints(long, { window: 200 }),
  'changePoints 10,000 points, window 1000 (baseline)': () => void changePoints(long, { window: 1000 }),
  'changePoints 2,000 points, window 200': () => void changePoints(medium, { window: 200 }),
  'changePoints 2,000 points, no window (baseline)': () => void changePoints(medium),
  'compareKpi 1,000 series, run values, 2,000 resamples': () => compareAll(2000, false),
  'compareKpi 1,000 series, run values, 500 resamples (baseline)': () => compareAll(500, false),
  'compareKpi 1,000 series, per-request samples 200 vs 200, 2,000 resamples': () => compareAll(2000, true),
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
    'changePoints 10,000 points: window 200 vs window 1000': ratio('changePoints 10,000 points, window 200', 'changePoints 10,000 points, window 1000 (baseline)'),
    'changePoints 2,000 points: window 200 vs no window': ratio('changePoints 2,000 points, window 200', 'changePoints 2,000 points, no window (baseline)'),
    'compareKpi: 2,000 vs 500 resamples (cost ratio, < 1 means slower)': ratio('compareKpi 1,000 series, run values, 2,000 resamples', 'compareKpi 1,000 series, run values, 500 resamples (baseline)'),
  },
};
await writeJsonAtomic(RESULT_FILE, result);
console.info(JSON.stringify(result, null, 2));

const options = { time: 1000, iterations: 3 };

describe('changePoints on 10,000 points (9 steps)', () => {
  bench('window 200', () => void changePoints(long, { window: 200 }), options);
  bench('baseline: window 1000', () => void changePoints(long, { window: 1000 }), options);
});

describe('changePoints on 2,000 points (1 step)', () => {
  bench('window 200', () => void changePoints(medium, { window: 200 }), options);
  bench('baseline: no window', () => void changePoints(medium), options);
});

describe('compareKpi across 1,000 series', () => {
  bench('run values, 2,000 resamples', () => compareAll(2000, false), options);
  bench('baseline: run values, 500 resamples', () => compareAll(500, false), options);
  bench('per-request samples (200 vs 200), 2,000 resamples', () => compareAll(2000, true), options);
});
