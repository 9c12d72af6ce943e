// A small seeded random source on top of @stdlib's Mersenne Twister, so every resampling and
// permutation in this folder is reproducible: the same seed gives the same numbers on every machine.

import mt19937 from '@stdlib/random-base-mt19937';

/** The seed used when a caller gives none, so results are deterministic by default. */
export const DEFAULT_SEED = 20_240_601;

const TWO_POW_32 = 4_294_967_296;

export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Shuffles `values` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(values: T): T;
}

export function createRandom(seed: number = DEFAULT_SEED): Random {
  if (!Number.isInteger(seed) || seed < 1 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer between 1 and 4294967295, got ${seed}`);
  }
  const next = mt19937.factory({ seed });
  // 53 bits of randomness from two 32-bit draws.
  const uniform = () => (next() * TWO_POW_32 + next()) / (TWO_POW_32 * TWO_POW_32);
  let spare: number | undefined;
  return {
    uniform,
    int: (n) => Math.floor(uniform() * n),
    normal() {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      let u = uniform();
      while (u === 0) u = uniform();
      const radius = Math.sqrt(-2 * Math.log(u));
      const angle = 2 * Math.PI * uniform();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
    shuffle(values) {
      for (let i = values.length - 1; i > 0; i--) {
        const j = Math.floor(uniform() * (i + 1));
        const tmp = values[i] as number;
        values[i] = values[j] as number;
        values[j] = tmp;
      }
      return values;
    },
  };
}
