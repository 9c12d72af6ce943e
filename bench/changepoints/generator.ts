// The labelled change-point benchmark, as a generator (the series are never committed): every
// series is drawn from a seeded Mersenne Twister, so a seed gives the same set on every machine.
// The main set uses MAIN_SEED; the held-out set is drawn with another seed at run time and written
// outside the repository.
//
// Families (counts per set; lengths 20–500 runs; levels 1–1000 in the KPI's unit):
//   noise       unlabelled: normal, heavy-tailed (Student t, 3 df) and AR(1) autocorrelated noise
//               (φ 0.3–0.6), CV 0.5–10 %
//   step        one step of 2–20 %, up or down, at 20–80 % of the history
//   two-steps   two steps of 3–20 %, any directions, at least 10 runs apart
//   transient   a rise (or fall) of 5–20 % for 4–15 runs that comes back; both ends labelled
//   drift       a linear ramp of 8–30 % in total over 8–40 runs, labelled at its first run
//   outlier     unlabelled: noise with 1–3 single-run outliers (×1.3–3)
//   bimodal     unlabelled: each run lands in a second mode 10–40 % higher with probability 10–35 %
//   spread      unlabelled: noise whose CV triples (or drops to a third) part-way
//   missing     a step series with 10–20 % of its runs missing (labels index the runs present)
// A change is only planted where it is real against the noise: the CV of a labelled series is at
// most a third of its smallest change (a ramp: a quarter of its total), the rule the detector's
// noise-aware threshold encodes. Smaller changes are neither planted nor labelled.

import { createRandom, type Random } from '../../regression/stats/random.js';

export const MAIN_SEED = 20_261_206;

export type Family = 'noise' | 'step' | 'two-steps' | 'transient' | 'drift' | 'outlier' | 'bimodal' | 'spread' | 'missing';

export interface Label {
  index: number;
  kind: 'step' | 'drift' | 'transient';
}

export interface LabelledSeries {
  name: string;
  family: Family;
  values: number[];
  /** Seconds since the epoch, one per value (runs a day apart; missing runs leave gaps). */
  timestamps: number[];
  labels: Label[];
  /** How the noise was drawn (for reading the results, not for the detectors). */
  noise: string;
}

export const FAMILY_COUNTS: Record<Family, number> = {
  noise: 120,
  step: 120,
  'two-steps': 50,
  transient: 50,
  drift: 60,
  outlier: 60,
  bimodal: 60,
  spread: 30,
  missing: 30,
};

function pick<T>(random: Random, options: readonly T[]): T {
  return options[random.int(options.length)] as T;
}

function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random.uniform();
}

function length(random: Random): number {
  // Mostly short histories (as CI keeps them), some long: 20–500 runs.
  const r = random.uniform();
  return r < 0.5 ? 20 + random.int(61) : r < 0.85 ? 80 + random.int(121) : 200 + random.int(301);
}

/** Student t with 3 degrees of freedom, scaled to unit variance. */
function heavyTailed(random: Random): number {
  const z = random.normal();
  let chi = 0;
  for (let k = 0; k < 3; k++) chi += random.normal() ** 2;
  return z / Math.sqrt(chi / 3) / Math.sqrt(3);
}

type NoiseKind = 'normal' | 'heavy' | 'ar';

function noise(random: Random, n: number, kind: NoiseKind, cv: number): number[] {
  const out: number[] = [];
  const phi = kind === 'ar' ? uniform(random, 0.3, 0.6) : 0;
  let state = random.normal();
  for (let i = 0; i < n; i++) {
    if (kind === 'ar') {
      state = phi * state + Math.sqrt(1 - phi * phi) * random.normal();
      out.push(cv * state);
    } else {
      out.push(cv * (kind === 'heavy' ? heavyTailed(random) : random.normal()));
    }
  }
  return out;
}

function level(random: Random): number {
  return pick(random, [1, 10, 100, 1000]) * uniform(random, 1, 5);
}

/** A step size of 2–20 % with a random sign. */
function stepSize(random: Random, low = 0.02): number {
  return (random.uniform() < 0.5 ? -1 : 1) * uniform(random, low, 0.2);
}

/** A CV from the usual range, at most `limit`. */
function cvUpTo(random: Random, limit: number): number {
  const options = [0.005, 0.01, 0.02, 0.03, 0.05, 0.1].filter((c) => c <= limit);
  return options.length ? pick(random, options) : limit;
}

function finish(name: string, family: Family, multipliers: number[], base: number, labels: Label[], noiseText: string, keep?: boolean[]): LabelledSeries {
  const values: number[] = [];
  const timestamps: number[] = [];
  const indexMap: number[] = [];
  const day = 86_400;
  const start = 1_767_225_600; // 2026-01-01
  multipliers.forEach((m, i) => {
    indexMap.push(values.length);
    if (keep && !keep[i]) return;
    values.push(Number((base * m).toPrecision(10)));
    timestamps.push(start + i * day);
  });
  const mapped = labels.map((l) => ({ ...l, index: indexMap[l.index] as number }));
  return { name, family, values, timestamps, labels: mapped, noise: noiseText };
}

export function generateSet(seed: number, counts: Record<Family, number> = FAMILY_COUNTS): LabelledSeries[] {
  const random = createRandom(seed);
  const out: LabelledSeries[] = [];
  const kinds: NoiseKind[] = ['normal', 'normal', 'heavy', 'ar'];
  for (const family of Object.keys(counts) as Family[]) {
    for (let s = 0; s < counts[family]; s++) {
      const name = `${family}-${String(s).padStart(3, '0')}`;
      const base = level(random);
      let n = length(random);
      const kind = pick(random, kinds);
      const labels: Label[] = [];
      let multipliers: number[];
      let cvUsed = 0;
      let kindUsed: string = kind;
      const describeNoise = () => `${kindUsed} cv ${cvUsed}`;
      switch (family) {
        case 'noise': {
          const cv = pick(random, [0.005, 0.01, 0.02, 0.05, 0.1]);
          cvUsed = cv;
          multipliers = noise(random, n, kind, cv).map((e) => 1 + e);
          break;
        }
        case 'step':
        case 'missing': {
          const size = stepSize(random);
          const cv = cvUpTo(random, Math.abs(size) / 3);
          cvUsed = cv;
          const at = Math.floor(n * uniform(random, 0.2, 0.8));
          multipliers = noise(random, n, (kindUsed = kind === 'ar' ? 'normal' : kind) as NoiseKind, cv).map((e, i) => (1 + e) * (i >= at ? 1 + size : 1));
          labels.push({ index: at, kind: 'step' });
          if (family === 'missing') {
            const share = uniform(random, 0.1, 0.2);
            const keep = multipliers.map((_, i) => i === at || random.uniform() >= share);
            out.push(finish(name, family, multipliers, base, labels, describeNoise(), keep));
            continue;
          }
          break;
        }
        case 'two-steps': {
          n = Math.max(n, 40);
          const first = stepSize(random, 0.03);
          const second = stepSize(random, 0.03);
          const cv = cvUpTo(random, Math.min(Math.abs(first), Math.abs(second)) / 3);
          cvUsed = cv;
          const a = Math.floor(n * uniform(random, 0.15, 0.45));
          const b = Math.min(n - 8, a + Math.max(10, Math.floor(n * uniform(random, 0.2, 0.45))));
          multipliers = noise(random, n, (kindUsed = kind === 'ar' ? 'normal' : kind) as NoiseKind, cv).map((e, i) => (1 + e) * (i >= a ? 1 + first : 1) * (i >= b ? 1 + second : 1));
          labels.push({ index: a, kind: 'step' }, { index: b, kind: 'step' });
          break;
        }
        case 'transient': {
          n = s % 3 === 0 ? 40 : Math.max(n, 30);
          const size = (random.uniform() < 0.75 ? 1 : -1) * uniform(random, 0.05, 0.2);
          const cv = cvUpTo(random, Math.abs(size) / 3);
          cvUsed = cv;
          const span = 4 + random.int(12);
          const at = Math.floor(uniform(random, 0.25, 0.75) * (n - span));
          multipliers = noise(random, n, (kindUsed = kind === 'ar' ? 'normal' : kind) as NoiseKind, cv).map((e, i) => (1 + e) * (i >= at && i < at + span ? 1 + size : 1));
          labels.push({ index: at, kind: 'transient' }, { index: at + span, kind: 'transient' });
          break;
        }
        case 'drift': {
          n = Math.max(n, 40);
          const total = (random.uniform() < 0.75 ? 1 : -1) * uniform(random, 0.08, 0.3);
          const cv = cvUpTo(random, Math.abs(total) / 4);
          cvUsed = cv;
          const span = 8 + random.int(33);
          const at = Math.floor(uniform(random, 0.2, 0.6) * n);
          const toEnd = random.uniform() < 0.3;
          multipliers = noise(random, n, (kindUsed = kind === 'ar' ? 'normal' : kind) as NoiseKind, cv).map((e, i) => {
            const progress = i < at ? 0 : toEnd ? (i - at + 1) / span : Math.min(1, (i - at + 1) / span);
            return (1 + e) * (1 + total * progress);
          });
          labels.push({ index: at, kind: 'drift' });
          break;
        }
        case 'outlier': {
          const cv = pick(random, [0.005, 0.01, 0.02, 0.05]);
          cvUsed = cv;
          multipliers = noise(random, n, (kindUsed = 'normal') as NoiseKind, cv).map((e) => 1 + e);
          const count = 1 + random.int(3);
          for (let k = 0; k < count; k++) {
            const i = random.int(n);
            multipliers[i] = (multipliers[i] as number) * uniform(random, 1.3, 3);
          }
          break;
        }
        case 'bimodal': {
          const cv = pick(random, [0.01, 0.02, 0.03]);
          cvUsed = cv;
          const share = uniform(random, 0.1, 0.35);
          const gap = uniform(random, 0.1, 0.4);
          multipliers = noise(random, n, (kindUsed = 'normal') as NoiseKind, cv).map((e) => (1 + e) * (random.uniform() < share ? 1 + gap : 1));
          break;
        }
        case 'spread': {
          const cv = pick(random, [0.005, 0.01, 0.02]);
          cvUsed = cv;
          const at = Math.floor(n * uniform(random, 0.2, 0.8));
          const factor = random.uniform() < 0.5 ? 3 : 1 / 3;
          multipliers = noise(random, n, (kindUsed = 'normal') as NoiseKind, 1).map((e, i) => 1 + e * cv * (i >= at ? factor : 1));
          break;
        }
      }
      out.push(finish(name, family, multipliers, base, labels, describeNoise()));
    }
  }
  return out;
}

/** JSON lines, one series a line, as `perfstack history --input` reads them. */
export function toJsonLines(series: readonly LabelledSeries[]): string {
  return series.map((s) => JSON.stringify({ name: s.name, values: s.values, timestamps: s.timestamps })).join('\n') + '\n';
}
