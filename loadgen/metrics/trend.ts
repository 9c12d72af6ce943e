// A trend's distribution in an HdrHistogram: bounded memory however long the run, percentiles
// within 0.1 % (3 significant digits), exact count, sum, min and max kept beside it.

import * as hdr from 'hdr-histogram-js';
import type { TrendReader } from './types.js';

/** Values are stored as integers of 1/SCALE of their unit: microseconds for milliseconds. */
const SCALE = 1000;

function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

export class TrendAggregate implements TrendReader {
  count = 0;
  sum = 0;
  min = Number.NaN;
  max = Number.NaN;
  private readonly positive = newHistogram();
  // Trends may hold negative values (a custom Trend can); they get a histogram of their own, made on demand.
  private negative: hdr.Histogram | undefined;

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    if (this.count === 0) {
      this.min = value;
      this.max = value;
    } else {
      if (value < this.min) this.min = value;
      if (value > this.max) this.max = value;
    }
    this.count += 1;
    this.sum += value;
    if (value >= 0) this.positive.recordValue(Math.round(value * SCALE));
    else (this.negative ??= newHistogram()).recordValue(Math.round(-value * SCALE));
  }

  get avg(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    const negatives = this.negative?.totalCount ?? 0;
    const rank = (p / 100) * this.count;
    let value: number;
    if (this.negative && rank <= negatives) {
      // The rank-th smallest value is among the negatives: the (negatives - rank)-th largest magnitude.
      value = -this.negative.getValueAtPercentile(Math.max(0, Math.min(100, (1 - rank / negatives) * 100))) / SCALE;
    } else {
      const positives = this.count - negatives;
      value = this.positive.getValueAtPercentile(Math.min(100, ((rank - negatives) / positives) * 100)) / SCALE;
    }
    // The histogram answers with its bucket's edge; the exact extremes bound it.
    return Math.min(this.max, Math.max(this.min, value));
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Number.NaN;
    this.max = Number.NaN;
    this.positive.reset();
    this.negative?.reset();
  }
}
