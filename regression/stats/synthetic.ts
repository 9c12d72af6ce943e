// Seeded synthetic series for the tests and the benchmark (not part of the public API).

import { createRandom, type Random } from './random.js';

export function normalSeries(random: Random, length: number, mean: number, sd: number): number[] {
  return Array.from({ length }, () => mean + sd * random.normal());
}

export { createRandom };
export type { Random };
