// k6's execution segments: N engine instances each run a disjoint part of one test, and together
// exactly the whole. Indices (VU slots and iteration numbers) are striped over the least common
// denominator of the segment sequence, so every index belongs to exactly one segment and each
// segment gets its share evenly spread through the test.

import { EXIT_CODES, LoadgenError } from '../errors.js';

/** A fraction p/q in lowest terms. */
interface Fraction {
  p: number;
  q: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

function fraction(text: string, flag: string): Fraction {
  const value = text.trim();
  let p: number;
  let q: number;
  let match: RegExpExecArray | null;
  if ((match = /^(\d+)\/(\d+)$/.exec(value))) [p, q] = [Number(match[1]), Number(match[2])];
  else if ((match = /^(\d+(?:\.\d+)?)%$/.exec(value))) [p, q] = decimal(String(Number(match[1]) / 100));
  else if (/^\d+(\.\d+)?$/.test(value)) [p, q] = decimal(value);
  else throw new LoadgenError(EXIT_CODES.badInput, `${flag}: "${text}" is not a fraction such as 1/3, 0.5 or 50%`);
  if (q === 0 || p > q) throw new LoadgenError(EXIT_CODES.badInput, `${flag}: "${text}" must be between 0 and 1`);
  const d = gcd(p, q) || 1;
  return { p: p / d, q: q / d };
}

function decimal(text: string): [number, number] {
  const [whole = '0', part = ''] = text.split('.');
  const q = 10 ** part.length;
  return [Number(whole) * q + Number(part || 0), q];
}

const less = (a: Fraction, b: Fraction) => a.p * b.q < b.p * a.q;

export class ExecutionSegment {
  /** Striping period: the least common denominator of the sequence. */
  private readonly period: number;
  /** Positions 0..period-1 this segment owns. */
  private readonly owned: boolean[];
  readonly share: number;

  constructor(
    readonly from: Fraction,
    readonly to: Fraction,
    sequence: Fraction[],
  ) {
    this.period = [from, to, ...sequence].reduce((acc, f) => lcm(acc, f.q), 1);
    const start = (from.p * this.period) / from.q;
    const end = (to.p * this.period) / to.q;
    this.owned = Array.from({ length: this.period }, (_, position) => position >= start && position < end);
    this.share = (end - start) / this.period;
  }

  get isFull(): boolean {
    return this.share === 1;
  }

  /** Whether the index-th VU slot or iteration of the whole test runs in this instance. */
  owns(index: number): boolean {
    return this.owned[index % this.period] as boolean;
  }

  /** How many of the first n indices this instance owns. */
  scale(n: number): number {
    const full = Math.floor(n / this.period);
    let count = full * this.owned.filter(Boolean).length;
    for (let i = full * this.period; i < n; i++) if (this.owns(i)) count += 1;
    return count;
  }

  /**
   * The whole test's index of this instance's k-th (0-based) index: the inverse of owns()/scale().
   * Added so VU ids (idInTest) and the closed-model executors' iterationInTest are unique across
   * instances, as k6 documents (sequential from 1 or 0, with gaps in distributed runs).
   */
  indexInTest(k: number): number {
    if (this.isFull) return k;
    const positions: number[] = [];
    for (let p = 0; p < this.period; p++) if (this.owned[p]) positions.push(p);
    return Math.floor(k / positions.length) * this.period + (positions[k % positions.length] as number);
  }

  /** "1/3:2/3" for logs and labels. */
  toString(): string {
    const f = (x: Fraction) => (x.p === 0 ? '0' : x.p === x.q ? '1' : `${x.p}/${x.q}`);
    return `${f(this.from)}:${f(this.to)}`;
  }
}

export const FULL_SEGMENT = new ExecutionSegment({ p: 0, q: 1 }, { p: 1, q: 1 }, []);

/** Parses --execution-segment ("1/3:2/3", "0.5", "50%:100%") and --execution-segment-sequence ("0,1/3,2/3,1"). */
export function parseExecutionSegment(segment: string | undefined, sequence: string | undefined): ExecutionSegment {
  if (segment === undefined && sequence === undefined) return FULL_SEGMENT;
  const parts = (segment ?? '0:1').split(':');
  if (parts.length > 2) throw new LoadgenError(EXIT_CODES.badInput, `--execution-segment: "${segment}" should be FROM:TO, such as 1/3:2/3`);
  const [from, to] = parts.length === 1 ? [{ p: 0, q: 1 }, fraction(parts[0] as string, '--execution-segment')] : [fraction(parts[0] as string, '--execution-segment'), fraction(parts[1] as string, '--execution-segment')];
  if (!less(from, to)) throw new LoadgenError(EXIT_CODES.badInput, `--execution-segment: "${segment}" must go from a smaller to a larger fraction`);
  const points = sequence === undefined ? [] : sequence.split(',').map((s) => fraction(s, '--execution-segment-sequence'));
  if (points.length > 0) {
    for (let i = 1; i < points.length; i++) {
      if (!less(points[i - 1] as Fraction, points[i] as Fraction)) throw new LoadgenError(EXIT_CODES.badInput, `--execution-segment-sequence: "${sequence}" must be increasing`);
    }
    const has = (f: Fraction) => points.some((x) => x.p === f.p && x.q === f.q);
    if (!has(from) || !has(to)) throw new LoadgenError(EXIT_CODES.badInput, `--execution-segment: "${segment}" is not a segment of the sequence "${sequence}"`);
  }
  return new ExecutionSegment(from, to, points);
}
