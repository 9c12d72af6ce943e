// A realistic ComparisonReport for the report tests: a nightly history of a checkout scenario,
// one latency regression with a change point, one smaller error-rate regression, one
// improvement with per-request samples and several unchanged KPIs. Seeded, so every call
// returns the same numbers.

import { KPIS, type KpiName } from '../kpi.js';
import { median } from './format.js';
import type { ComparisonReport, KpiComparison } from './types.js';

/** mulberry32: a tiny seeded PRNG, good enough for fixture noise. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const RUNS = 24;
const DAY = 86_400_000;
const FIRST_RUN = Date.UTC(2025, 4, 1, 2, 0, 0);
export const CANDIDATE_TESTID = 'checkout-pr-4711-run-1';
export const CANDIDATE_STARTED = new Date(Date.UTC(2025, 4, 24, 14, 5, 0));

export function historyTestids(): string[] {
  return Array.from({ length: RUNS }, (_, i) =>
    i === RUNS - 1 ? CANDIDATE_TESTID : `nightly-2025-05-${String(i + 1).padStart(2, '0')}`,
  );
}

function historyDates(): Date[] {
  return Array.from({ length: RUNS }, (_, i) => (i === RUNS - 1 ? CANDIDATE_STARTED : new Date(FIRST_RUN + i * DAY)));
}

interface Shape {
  kpi: KpiName;
  endpoint: string;
  /** Level of the history, with a step to `after` from index `stepAt` on, if given. */
  level: number;
  noise: number;
  stepAt?: number;
  after?: number;
  candidate: number;
  verdict: KpiComparison['verdict'];
  /** Half the width of the CI of the relative change. */
  ciHalfWidth: number;
  pValue: number;
  test: KpiComparison['test'];
  seed: number;
}

function comparison(shape: Shape): KpiComparison {
  const def = KPIS[shape.kpi];
  const rand = rng(shape.seed);
  const ids = historyTestids();
  const dates = historyDates();
  const history = ids.map((testid, i) => {
    const level = shape.stepAt !== undefined && i >= shape.stepAt ? (shape.after ?? shape.level) : shape.level;
    const noisy = Math.max(0, level * (1 + shape.noise * normal(rand)));
    const value = i === RUNS - 1 ? shape.candidate : def.unit === 'ratio' ? Math.min(1, noisy) : noisy;
    return { testid, startedAt: dates[i] ?? new Date(FIRST_RUN), value };
  });
  // The baseline is the 8 nightly runs before the candidate's own branch started diverging.
  const baselineEnd = shape.stepAt ?? RUNS - 1;
  const baselineValues = history.slice(baselineEnd - 8, baselineEnd).map((h) => h.value);
  const change = shape.candidate / median(baselineValues) - 1;
  return {
    kpi: shape.kpi,
    endpoint: shape.endpoint,
    label: def.label,
    unit: def.unit,
    direction: def.direction,
    verdict: shape.verdict,
    relativeChange: change,
    ci: [change - shape.ciHalfWidth, change + shape.ciHalfWidth],
    pValue: shape.pValue,
    test: shape.test,
    baselineValues,
    candidateValue: shape.candidate,
    history,
    changePoints: [],
    minEffect: 0.05,
    alpha: 0.05,
  };
}

function lognormalSamples(seed: number, n: number, medianSeconds: number, sigma: number): number[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => medianSeconds * Math.exp(sigma * normal(rand)));
}

export function buildReport(): ComparisonReport {
  const orders = comparison({
    kpi: 'latency_p95',
    endpoint: 'GET /api/orders/:id',
    level: 0.212,
    noise: 0.03,
    stepAt: 21,
    after: 0.281,
    candidate: 0.2846,
    verdict: 'regressed',
    ciHalfWidth: 0.09,
    pValue: 0.0004,
    test: 'mann-whitney',
    seed: 1,
  });
  orders.changePoints = [{ index: 21, pValue: 0.0021, relativeChange: 0.318 }];

  const errors = comparison({
    kpi: 'error_rate',
    endpoint: '',
    level: 0.004,
    noise: 0.05,
    candidate: 0.0052,
    verdict: 'regressed',
    ciHalfWidth: 0.13,
    pValue: 0.013,
    test: 'bootstrap',
    seed: 2,
  });

  const products = comparison({
    kpi: 'latency_p50',
    endpoint: 'GET /api/products',
    level: 0.0452,
    noise: 0.02,
    candidate: 0.0381,
    verdict: 'improved',
    ciHalfWidth: 0.035,
    pValue: 0.0008,
    test: 'mann-whitney',
    seed: 3,
  });
  products.baselineSamples = lognormalSamples(10, 3000, 0.0452, 0.35);
  products.candidateSamples = lognormalSamples(11, 1500, 0.0381, 0.35);

  const unchanged = (kpi: KpiName, endpoint: string, level: number, candidate: number, seed: number, noise = 0.03) =>
    comparison({
      kpi,
      endpoint,
      level,
      noise,
      candidate,
      verdict: 'unchanged',
      ciHalfWidth: 0.04,
      pValue: 0.41 + seed / 100,
      test: 'mann-whitney',
      seed,
    });

  const comparisons = [
    unchanged('throughput', '', 412.5, 409.8, 4),
    products,
    unchanged('checks_rate', '', 0.9991, 0.999, 5, 0.0004),
    errors,
    unchanged('db_query_p95', 'orders.by_id', 0.0121, 0.0124, 6),
    orders,
    unchanged('pool_wait_p95', '', 0.0009, 0.00092, 7),
    unchanged('latency_p99', 'POST /api/cart/items', 0.61, 0.598, 8),
  ];

  return {
    candidate: {
      testid: CANDIDATE_TESTID,
      scenario: 'checkout',
      gitSha: '3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345',
      branch: 'feature/order-details-join',
      startedAt: CANDIDATE_STARTED,
      endedAt: new Date(CANDIDATE_STARTED.getTime() + 10 * 60_000 + 12_000),
      environment: 'ci-2core',
      k6Version: 'v1.8.1',
    },
    baseline: {
      description: 'last 8 nightly runs of main before the change',
      runs: historyTestids().slice(13, 21),
    },
    comparisons,
    generatedAt: new Date(Date.UTC(2025, 4, 24, 14, 20, 0)),
  };
}
