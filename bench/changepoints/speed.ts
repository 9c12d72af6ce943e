// Change-point speed: perfstack's detector and Apache Otava on the same series, in the same run.
//
//   npx tsx bench/changepoints/speed.ts            (PERFSTACK_BENCH_ROUNDS=N rounds, default 7)
//
// Cases: one series of 10,000 points (a level that steps every 1,000 runs, CV 2 %), and 1,000
// series of 100 points (half of them with a 10 % step at run 50). Compute time only: perfstack's
// detectChanges in this process after two warm-up rounds, Otava's compute_change_points timed
// inside Python (perf_counter around the call; interpreter start and file reading excluded), with
// its defaults. Median, fastest and slowest round of each, to bench/results/changepoints-speed.json.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectChanges } from '../../regression/stats/index.js';
import { createRandom } from '../../regression/stats/random.js';
import { median } from '../stats.js';
import { writeJsonAtomic } from '../write-json.js';
import { ensureOtava, OTAVA_VERSION, runOtava } from './otava.js';

const RESULT_FILE = join(import.meta.dirname, '..', 'results', 'changepoints-speed.json');
const ROUNDS = Number(process.env.PERFSTACK_BENCH_ROUNDS ?? 7);
const GOALS = { '10,000 points': 20, '1,000 series × 100 points': 300 } as const;

const random = createRandom(1);
const long = Array.from({ length: 10_000 }, (_, i) => 100 * (1 + 0.1 * (Math.floor(i / 1000) % 3)) + 2 * random.normal());
const many = Array.from({ length: 1000 }, (_, k) => Array.from({ length: 100 }, (_, i) => 100 * (k % 2 === 1 && i >= 50 ? 1.1 : 1) + 2 * random.normal()));
const cases = { '10,000 points': [long], '1,000 series × 100 points': many } as const;
type CaseName = keyof typeof cases;

function spread(ms: number[]) {
  const round = (x: number) => Math.round(x * 100) / 100;
  return { medianMs: round(median(ms)), minMs: round(Math.min(...ms)), maxMs: round(Math.max(...ms)), rounds: ms.map(round) };
}

const python = ensureOtava();
const folder = mkdtempSync(join(tmpdir(), 'perfstack-changepoints-speed-'));
try {
  const results: Record<string, unknown> = {};
  for (const [name, series] of Object.entries(cases) as [CaseName, readonly (readonly number[])[]][]) {
    const times: number[] = [];
    let found = 0;
    for (let round = 0; round < ROUNDS + 2; round++) {
      const started = performance.now();
      found = 0;
      for (const s of series) found += detectChanges(s).length;
      const elapsed = performance.now() - started;
      if (round >= 2) times.push(elapsed);
    }
    const file = join(folder, `${name.replace(/[^0-9a-z]+/gi, '-')}.jsonl`);
    writeFileSync(file, series.map((values, i) => JSON.stringify({ name: `s${i}`, values })).join('\n') + '\n');
    const otava = runOtava(python, file, `${file}.out`, { repeat: Math.max(3, Math.min(ROUNDS, 5)) });
    const otavaFound = Object.values(otava.changes).reduce((n, c) => n + c.length, 0);
    const perfstack = spread(times);
    const otavaSpread = spread(otava.roundsSeconds.map((s) => s * 1000));
    results[name] = {
      perfstack: { ...perfstack, changesFound: found, goalMs: GOALS[name], meetsGoal: perfstack.medianMs <= GOALS[name] },
      otava: { ...otavaSpread, changesFound: otavaFound },
      otavaOverPerfstack: Math.round((otavaSpread.medianMs / perfstack.medianMs) * 10) / 10,
    };
    console.info(`${name}: perfstack median ${perfstack.medianMs} ms (${perfstack.minMs}–${perfstack.maxMs}), ${found} changes; otava median ${otavaSpread.medianMs} ms (${otavaSpread.minMs}–${otavaSpread.maxMs}), ${otavaFound} changes`);
  }
  await writeJsonAtomic(RESULT_FILE, {
    benchmark: 'changepoints-speed',
    unit: 'milliseconds of compute per case (all series), median and range over the rounds',
    rounds: ROUNDS,
    settings: { perfstack: 'detectChanges defaults (alpha 0.01, minEffect 0.05, noiseMultiple 2)', otava: `apache-otava ${OTAVA_VERSION} compute_change_points defaults (window_len 50, max_pvalue 0.001)` },
    environment: { nodeVersion: process.version, cpuCount: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() },
    cases: results,
  });
  console.info(`written to ${RESULT_FILE}`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
