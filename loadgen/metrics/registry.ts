// The metric registry: every sample of the run passes through add(). It keeps, per metric, the
// run-wide aggregate (the summary), one aggregate per tag set (the remote-write series) and one per
// sub-metric that a threshold names (`http_req_duration{name:/api/search}`). Tag sets are interned,
// so the hot path does one map lookup per sample and never re-matches tag filters.

import { newAggregate, type Aggregate } from './aggregates.js';
import type { MetricInfo, MetricType, SeriesSnapshot, SummaryValues, Tags, ValueKind } from './types.js';

export class TagSet {
  /** Sub-metric aggregates this tag set feeds, per metric; filled on first use. */
  readonly matched = new Map<Metric, Aggregate[]>();
  constructor(
    readonly key: string,
    readonly tags: Tags,
  ) {}
}

export interface SubMetric {
  /** The key as the thresholds wrote it: `http_req_duration{name:/api/search}`. */
  key: string;
  filter: Tags;
  aggregate: Aggregate;
}

export class Metric {
  readonly total: Aggregate;
  readonly series = new Map<TagSet, Aggregate>();
  readonly subMetrics: SubMetric[] = [];
  constructor(readonly info: MetricInfo) {
    this.total = newAggregate(info.type);
  }
}

/** Something that sees every sample (per-request samples file, the timeline of the HTML report). */
export type SampleListener = (metric: Metric, value: number, tags: TagSet, timeMs: number) => void;

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;

export class MetricRegistryError extends Error {
  override name = 'MetricRegistryError';
}

export class MetricRegistry {
  private readonly metrics = new Map<string, Metric>();
  private readonly tagSets = new Map<string, TagSet>();
  private readonly listeners: SampleListener[] = [];

  /** A metric by name, defined on first use; redefining it with another type is an error (as in k6). */
  define(name: string, type: MetricType, contains: ValueKind = 'default'): Metric {
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.info.type !== type) {
        throw new MetricRegistryError(`metric ${name} is already a ${existing.info.type}; it cannot also be a ${type}`);
      }
      return existing;
    }
    if (!NAME.test(name)) throw new MetricRegistryError(`invalid metric name "${name}": letters, digits and _ only, starting with a letter or _, at most 128 characters`);
    const metric = new Metric({ name, type, contains });
    this.metrics.set(name, metric);
    return metric;
  }

  get(name: string): Metric | undefined {
    return this.metrics.get(name);
  }

  all(): Metric[] {
    return [...this.metrics.values()];
  }

  /** Interns a tag set; callers that reuse one object per request template should keep the result. */
  tagSet(tags: Tags): TagSet {
    let key = '';
    for (const name of Object.keys(tags).sort()) key += `${name}\u0000${tags[name]}\u0001`;
    let set = this.tagSets.get(key);
    if (!set) {
      set = new TagSet(key, Object.freeze({ ...tags }));
      this.tagSets.set(key, set);
    }
    return set;
  }

  /** Keeps a sub-metric (threshold keys name them); returns its aggregate. */
  subMetric(metric: Metric, key: string, filter: Tags): Aggregate {
    const existing = metric.subMetrics.find((s) => s.key === key);
    if (existing) return existing.aggregate;
    const sub: SubMetric = { key, filter, aggregate: newAggregate(metric.info.type) };
    metric.subMetrics.push(sub);
    for (const set of this.tagSets.values()) set.matched.delete(metric); // re-match on next use
    return sub.aggregate;
  }

  onSample(listener: SampleListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  add(metric: Metric, value: number, tags: TagSet, timeMs: number): void {
    metric.total.add(value);
    let series = metric.series.get(tags);
    if (!series) {
      series = newAggregate(metric.info.type);
      metric.series.set(tags, series);
    }
    series.add(value);
    if (metric.subMetrics.length > 0) {
      let subs = tags.matched.get(metric);
      if (!subs) {
        subs = metric.subMetrics.filter((s) => matches(s.filter, tags.tags)).map((s) => s.aggregate);
        tags.matched.set(metric, subs);
      }
      for (const sub of subs) sub.add(value);
    }
    for (const listener of this.listeners) listener(metric, value, tags, timeMs);
  }

  /** Every series as it stands (for remote-write). */
  snapshot(): SeriesSnapshot[] {
    const out: SeriesSnapshot[] = [];
    for (const metric of this.metrics.values()) {
      for (const [tags, aggregate] of metric.series) out.push(aggregate.snapshot(metric.info, tags.tags));
    }
    return out;
  }

  /** Summary values of a metric or of one of its sub-metrics (by threshold key); undefined when unknown. */
  values(key: string, trendStats: readonly string[], elapsedMs: number): SummaryValues | undefined {
    const brace = key.indexOf('{');
    const metric = this.metrics.get(brace < 0 ? key : key.slice(0, brace));
    if (!metric) return undefined;
    const aggregate = brace < 0 ? metric.total : metric.subMetrics.find((s) => s.key === key)?.aggregate;
    return aggregate?.values(trendStats, elapsedMs);
  }
}

export function matches(filter: Tags, tags: Tags): boolean {
  for (const name in filter) if (tags[name] !== filter[name]) return false;
  return true;
}
