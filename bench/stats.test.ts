import { describe, expect, it } from 'vitest';
import { medianConfidenceInterval } from './stats.js';

describe('medianConfidenceInterval', () => {
  it('gives the sign-test order statistics of the published tables', () => {
    // n = 30 at 95 %: ranks 10 and 21 (coverage 0.957); n = 100: ranks 40 and 61.
    const thirty = Array.from({ length: 30 }, (_, i) => (i + 1) * 10).reverse();
    expect(medianConfidenceInterval(thirty)).toEqual({ lower: 100, upper: 210, level: expect.closeTo(0.9572, 4) });
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    const interval = medianConfidenceInterval(hundred);
    expect([interval.lower, interval.upper]).toEqual([40, 61]);
    expect(interval.level).toBeGreaterThanOrEqual(0.95);
  });

  it('widens to the extremes, then gives up, as the values run out', () => {
    expect(medianConfidenceInterval([3, 1, 6, 2, 5, 4])).toEqual({ lower: 1, upper: 6, level: 0.96875 });
    const five = medianConfidenceInterval([1, 2, 3, 4, 5]);
    expect(Number.isNaN(five.lower) && Number.isNaN(five.upper) && Number.isNaN(five.level)).toBe(true);
  });

  it('narrows with a lower level', () => {
    const values = Array.from({ length: 30 }, (_, i) => i + 1);
    const wide = medianConfidenceInterval(values, 0.99);
    const narrow = medianConfidenceInterval(values, 0.8);
    expect(wide.upper - wide.lower).toBeGreaterThan(narrow.upper - narrow.lower);
    expect(narrow.level).toBeGreaterThanOrEqual(0.8);
  });
});
