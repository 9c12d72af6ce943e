// A histogram built for the pool's hot path, published through a prom-client Registry.
//
// prom-client's Histogram validates and hashes the label object on every observe(), even through a
// child from .labels(). Here a series is looked up once (series()), kept by the caller, and an
// observation is a bucket search and three additions. The family implements what a Registry reads
// from a metric (name, help, type, aggregator, get(), getForPromString(), reset()), producing the
// same values, label order, `le` values and series order as prom-client's Histogram, so
// registry.metrics() and getSingleMetric(name).get() look exactly as before.

import type { Aggregator, Histogram, Registry } from 'prom-client';

type Labels = { [name: string]: string };

/** One label set of a family: bucket counts (not cumulative), sum and count. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly key: string;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Whether the series is exported (it is, from its first observation until reset or removal). */
  listed = false;
  private readonly family: PoolHistogram;

  constructor(family: PoolHistogram, key: string, labels: Labels) {
    this.family = family;
    this.key = key;
    this.labels = labels;
    this.counts = new Float64Array(family.upperBounds.length);
  }

  /** Records one value; the caller guarantees a finite number. */
  observe(value: number): void {
    const bounds = this.family.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number)++;
        break;
      }
    }
    this.sum += value;
    this.count++;
    if (!this.listed) this.family.list(this);
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.listed = false;
  }
}

interface ValuePair {
  labels: { le?: number | string; [name: string]: string | number | undefined };
  sharedLabels: Labels;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/** A histogram family whose series are fetched once and observed without label handling. */
export class PoolHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator: Aggregator = 'sum';
  readonly labelNames: readonly string[];
  readonly upperBounds: readonly number[];
  private readonly sortedLabelNames: readonly string[];
  /** Every series handed out, by label key. */
  private readonly known = new Map<string, HistogramSeries>();
  /** Exported series, in order of first observation (as prom-client's hash map). */
  private readonly exported = new Map<string, HistogramSeries>();

  constructor(config: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registers: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = [...config.labelNames];
    if (this.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    this.sortedLabelNames = [...this.labelNames].sort();
    this.upperBounds = Object.freeze([...config.buckets].sort((a, b) => a - b));
    for (const registry of config.registers) registry.registerMetric(this as unknown as Histogram<string>);
  }

  /** The series of one label set, created on first use; keep it and call observe() on it. */
  series(labels: Labels): HistogramSeries {
    const key = this.keyOf(labels);
    let series = this.known.get(key);
    if (!series) {
      series = new HistogramSeries(this, key, { ...labels });
      this.known.set(key, series);
    }
    return series;
  }

  /** prom-client style: observe(labels, value). */
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.series(labels).observe(value);
  }

  /** prom-client style: labels(labels).observe(value). */
  labels(labels: Labels): { observe(value: number): void } {
    const series = this.series(labels);
    return {
      observe(value: number) {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        series.observe(value);
      },
    };
  }

  /** Exports a label set with zero values. */
  zero(labels: Labels): void {
    const series = this.series(labels);
    series.clear();
    this.list(series);
  }

  /** Removes one exact label set (as prom-client's remove): its values restart from zero. */
  remove(labels: Labels): void {
    const series = this.known.get(this.keyOf(labels));
    if (series) this.unlist(series);
  }

  /** Removes every series whose labels include all of `labels`, and forgets them. */
  removeMatching(labels: Labels): void {
    const wanted = Object.entries(labels);
    for (const [key, series] of this.known) {
      if (wanted.every(([name, value]) => series.labels[name] === value)) {
        this.unlist(series);
        this.known.delete(key);
      }
    }
  }

  reset(): void {
    for (const series of this.known.values()) series.clear();
    this.exported.clear();
  }

  /** Called by a series on its first observation. */
  list(series: HistogramSeries): void {
    series.listed = true;
    this.exported.set(series.key, series);
  }

  private unlist(series: HistogramSeries): void {
    series.clear();
    this.exported.delete(series.key);
  }

  /** Same shape as prom-client's Histogram.getForPromString(): le in labels, the series' labels shared. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: ValuePair[]; aggregator: Aggregator }> {
    const bucketName = `${this.name}_bucket`;
    const values: ValuePair[] = [];
    for (const series of this.exported.values()) {
      const shared = series.labels;
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += series.counts[i] as number;
        values.push({ labels: { le: this.upperBounds[i] as number }, sharedLabels: shared, value: cumulative, metricName: bucketName, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: series.count, metricName: bucketName, exemplar: null },
        { labels: {}, sharedLabels: shared, value: series.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: shared, value: series.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Same shape as prom-client's Histogram.get(): each value's labels are le (if any) then the series' labels. */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...rest }) => {
        for (const name of Object.keys(sharedLabels)) labels[name] = sharedLabels[name];
        return { ...rest, labels };
      }),
    };
  }

  private keyOf(labels: Labels): string {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`);
    }
    let key = '';
    for (const name of this.sortedLabelNames) {
      const value = labels[name];
      if (value !== undefined) key += `${name}\u0000${value}\u0001`;
    }
    return key;
  }
}
