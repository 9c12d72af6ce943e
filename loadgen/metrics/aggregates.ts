// What is kept of a metric's samples, by type: the running state behind the summary values,
// the thresholds and the remote-write series.

import { TrendAggregate } from './trend.js';
import type { MetricType, SeriesSnapshot, SummaryValues, MetricInfo, Tags } from './types.js';

export interface Aggregate {
  add(value: number): void;
  /** k6's end-of-test values; `elapsedMs` turns counts into per-second rates. */
  values(trendStats: readonly string[], elapsedMs: number): SummaryValues;
  snapshot(metric: MetricInfo, tags: Tags): SeriesSnapshot;
  readonly empty: boolean;
}

export class CounterAggregate implements Aggregate {
  total = 0;
  samples = 0;
  add(value: number): void {
    this.total += value;
    this.samples += 1;
  }
  get empty(): boolean {
    return this.samples === 0;
  }
  values(_stats: readonly string[], elapsedMs: number): SummaryValues {
    return { count: this.total, rate: elapsedMs > 0 ? this.total / (elapsedMs / 1000) : 0 };
  }
  snapshot(metric: MetricInfo, tags: Tags): SeriesSnapshot {
    return { metric, tags, counter: this.total };
  }
}

export class GaugeAggregate implements Aggregate {
  value = 0;
  min = Number.NaN;
  max = Number.NaN;
  samples = 0;
  add(value: number): void {
    this.value = value;
    if (this.samples === 0 || value < this.min) this.min = value;
    if (this.samples === 0 || value > this.max) this.max = value;
    this.samples += 1;
  }
  get empty(): boolean {
    return this.samples === 0;
  }
  values(): SummaryValues {
    return { value: this.value, min: this.samples ? this.min : 0, max: this.samples ? this.max : 0 };
  }
  snapshot(metric: MetricInfo, tags: Tags): SeriesSnapshot {
    return { metric, tags, gauge: this.value };
  }
}

export class RateAggregate implements Aggregate {
  passes = 0;
  total = 0;
  add(value: number): void {
    this.total += 1;
    if (value !== 0) this.passes += 1;
  }
  get empty(): boolean {
    return this.total === 0;
  }
  values(): SummaryValues {
    return { rate: this.total ? this.passes / this.total : 0, passes: this.passes, fails: this.total - this.passes };
  }
  snapshot(metric: MetricInfo, tags: Tags): SeriesSnapshot {
    return { metric, tags, rate: { passes: this.passes, total: this.total } };
  }
}

/** "p(95)" → 95; undefined for the other statistics. */
export function percentileOf(stat: string): number | undefined {
  const match = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  return match ? Number(match[1]) : undefined;
}

export class TrendSummary extends TrendAggregate implements Aggregate {
  get empty(): boolean {
    return this.count === 0;
  }
  values(trendStats: readonly string[]): SummaryValues {
    const out: SummaryValues = {};
    for (const stat of trendStats) {
      const p = percentileOf(stat);
      const value =
        p !== undefined ? this.percentile(p)
        : stat === 'avg' ? this.avg
        : stat === 'min' ? this.min
        : stat === 'max' ? this.max
        : stat === 'med' ? this.percentile(50)
        : stat === 'count' ? this.count
        : stat === 'sum' ? this.sum
        : undefined;
      // k6 writes no value for a statistic it cannot compute (an empty trend); NaN is not JSON.
      if (value !== undefined && Number.isFinite(value)) out[stat] = value;
      else if (stat === 'count') out[stat] = 0;
    }
    return out;
  }
  snapshot(metric: MetricInfo, tags: Tags): SeriesSnapshot {
    return { metric, tags, trend: this };
  }
}

export function newAggregate(type: MetricType): Aggregate {
  switch (type) {
    case 'counter':
      return new CounterAggregate();
    case 'gauge':
      return new GaugeAggregate();
    case 'rate':
      return new RateAggregate();
    case 'trend':
      return new TrendSummary();
  }
}
