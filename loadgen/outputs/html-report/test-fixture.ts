// A realistic run for the report tests: a ramping checkout load test (seeded, so every call
// returns the same numbers) with a latency spike, a few failed requests, dropped iterations
// at the peak and one failing threshold.

import type { ReportInput, TimelinePoint } from './types.js';

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

/** `seconds` points one second apart: ramp up over the first 20%, hold, ramp down over the last 10%. */
export function sampleTimeline(seconds: number, seed = 42): TimelinePoint[] {
  const rand = rng(seed);
  const points: TimelinePoint[] = [];
  const peak = 120;
  for (let i = 0; i < seconds; i += 1) {
    const f = i / seconds;
    const vus = Math.round(f < 0.2 ? (peak * f) / 0.2 : f > 0.9 ? (peak * (1 - f)) / 0.1 : peak);
    const spike = f > 0.55 && f < 0.62;
    const base = 80 + vus * 1.4 + (spike ? 420 : 0);
    const requests = Math.round(vus * (spike ? 5.5 : 8) * (0.92 + 0.16 * rand()));
    const failedRequests = spike ? Math.round(requests * 0.04 * rand()) : rand() < 0.03 ? 1 : 0;
    const iterations = Math.round(requests / 4);
    points.push({
      t: (i + 1) * 1000,
      vus,
      vusMax: Math.max(20, Math.ceil((vus * 1.25) / 10) * 10),
      requests,
      failedRequests,
      iterations,
      droppedIterations: spike ? Math.round(12 * rand()) : 0,
      dataSentBytes: requests * (410 + Math.round(40 * rand())),
      dataReceivedBytes: requests * (5200 + Math.round(900 * rand())),
      latency:
        requests === 0
          ? null
          : {
              p50: base * (0.95 + 0.1 * rand()),
              p90: base * (1.7 + 0.2 * rand()),
              p95: base * (2.1 + 0.3 * rand()),
              p99: base * (3.2 + 0.8 * rand()),
              max: base * (5 + 3 * rand()),
            },
    });
  }
  return points;
}

export function sampleInput(seconds = 600): ReportInput {
  return {
    title: 'Checkout load test',
    testid: 'checkout-pr-4711-run-1',
    scenario: 'checkout-ramp',
    gitSha: '3f9c2a7d1e8b4c6a9f0e2d1c3b5a7e9f1d2c4b6a',
    startedAt: '2025-05-24T14:05:00.000Z',
    durationMs: seconds * 1000,
    timeline: { points: sampleTimeline(seconds) },
    thresholds: [
      { key: 'http_req_duration', expression: 'p(95)<500', ok: false, value: 612.4, unit: 'ms' },
      { key: 'http_req_duration{name:checkout}', expression: 'p(99)<1500', ok: true, value: 1204.9, unit: 'ms' },
      { key: 'http_req_failed', expression: 'rate<0.01', ok: true, value: 0.0042, unit: 'ratio' },
      { key: 'checks', expression: 'rate>0.99', ok: true, value: 0.9957, unit: 'ratio' },
      { key: 'data_received', expression: 'count<10e9', ok: true, value: 2_480_000_000, unit: 'bytes' },
      { key: 'dropped_iterations', expression: 'count<100', ok: false, value: 212, unit: 'count' },
    ],
    summaryRows: [
      { metric: 'http_req_duration', type: 'trend', contains: 'time', values: { avg: 231.5, min: 12.1, med: 190.2, max: 4210.7, 'p(90)': 402.3, 'p(95)': 612.4 } },
      { metric: 'http_req_duration{name:checkout}', type: 'trend', contains: 'time', values: { avg: 402.1, min: 40.3, med: 350.2, max: 4210.7, 'p(90)': 800.1, 'p(95)': 990.6 } },
      { metric: 'http_req_failed', type: 'rate', values: { rate: 0.0042, passes: 1925, fails: 456375 } },
      { metric: 'http_reqs', type: 'counter', values: { count: 458300, rate: 763.8 } },
      { metric: 'iterations', type: 'counter', values: { count: 114575, rate: 190.96 } },
      { metric: 'dropped_iterations', type: 'counter', values: { count: 212, rate: 0.35 } },
      { metric: 'vus', type: 'gauge', values: { value: 0, min: 0, max: 120 } },
      { metric: 'data_received', type: 'counter', contains: 'data', values: { count: 2_480_000_000, rate: 4_133_333 } },
      { metric: 'data_sent', type: 'counter', contains: 'data', values: { count: 196_000_000, rate: 326_666 } },
      { metric: 'checks', type: 'rate', values: { rate: 0.9957, passes: 341_200, fails: 1_475 } },
    ],
    checks: [
      { name: 'status is 200', passes: 114_100, fails: 475 },
      { name: 'cart has items', passes: 114_575, fails: 0 },
      { name: 'order id returned', passes: 112_525, fails: 1_000 },
    ],
    notes: ['3 of 120 remote-write pushes failed'],
  };
}
