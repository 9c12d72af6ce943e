// The analysed time range: given start/end, the last N minutes, or a k6 run's first and last sample.

import { k6 } from '../../metrics/index.js';
import { promString, type PrometheusClient } from './prometheus.js';

export interface TimeRange {
  start: Date;
  end: Date;
  /** Set when the range came from a k6 run. */
  testid?: string;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "15m" → 900; throws naming the flag on anything else. */
export function parseDurationSeconds(value: string, flag = 'duration'): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new Error(`${flag} must be a duration such as 90s, 15m, 2h or 1d, got "${value}"`);
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2]!] ?? 1);
  if (seconds <= 0) throw new Error(`${flag} must be longer than 0`);
  return seconds;
}

/** Parses an ISO 8601 time (or unix seconds); throws naming the flag. */
export function parseTime(value: string, flag: string): Date {
  const trimmed = value.trim();
  const date = /^\d+(\.\d+)?$/.test(trimmed) ? new Date(Number(trimmed) * 1000) : new Date(trimmed);
  if (Number.isNaN(date.getTime())) throw new Error(`${flag} must be an ISO 8601 time such as 2024-05-01T12:00:00Z, got "${value}"`);
  return date;
}

export function checkRange(start: Date, end: Date): void {
  if (!(end.getTime() > start.getTime())) {
    throw new Error(`the end of the range (${end.toISOString()}) must be after its start (${start.toISOString()})`);
  }
}

/** k6's and perfstack's engine's default remote-write push interval. */
const DEFAULT_PUSH_INTERVAL_SECONDS = 5;

/**
 * The first and last sample of k6_vus{testid=...} within `lookbackSeconds` of `now`: the run's range.
 * The start moves back by one push interval (the spacing of the samples), which the first sample covers.
 * Throws when Prometheus holds no such run.
 */
export async function k6RunRange(prometheus: PrometheusClient, testid: string, options: { now?: Date; lookbackSeconds?: number } = {}): Promise<TimeRange> {
  const now = options.now ?? new Date();
  const lookback = options.lookbackSeconds ?? 30 * 86_400;
  const query = `${k6.vus}{${k6.labels.testid}=${promString(testid)}}[${lookback}s]`;
  const series = await prometheus.raw(query, now.getTime() / 1000);
  let first = Infinity;
  let last = -Infinity;
  let pushInterval = Infinity;
  for (const s of series) {
    s.points.forEach(([t], i) => {
      if (t < first) first = t;
      if (t > last) last = t;
      const gap = i > 0 ? t - s.points[i - 1]![0] : 0;
      if (gap > 0 && gap < pushInterval) pushInterval = gap;
    });
  }
  if (!Number.isFinite(first) || !Number.isFinite(last)) {
    throw new Error(`no k6 run with testid "${testid}" in ${prometheus.url} over the last ${Math.round(lookback / 86_400)} days (${query} is empty)`);
  }
  // The first remote-write push reports the interval before it, and the run's first requests with
  // it: the run began one push interval (k6's default, 5 s, when only one sample exists) earlier.
  first -= Number.isFinite(pushInterval) ? pushInterval : DEFAULT_PUSH_INTERVAL_SECONDS;
  // A run with a single sample still gets a range the rate() windows can use.
  if (last - first < 30) last = first + 30;
  return { start: new Date(first * 1000), end: new Date(last * 1000), testid };
}
