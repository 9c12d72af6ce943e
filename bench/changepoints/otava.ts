// Apache Otava for the side-by-side benchmarks: a Python virtual environment that the benchmark
// makes itself, outside the repository (never committed), with `apache-otava` from PyPI, and a
// runner script (otava_runner.py) that times compute_change_points only.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const OTAVA_VERSION = '0.8.0';
const RUNNER = join(import.meta.dirname, 'otava_runner.py');

/** ${PERFSTACK_BENCH_CACHE:-$XDG_CACHE_HOME/perfstack-bench or ~/.cache/perfstack-bench}/otava-venv */
export function venvFolder(): string {
  const cache = process.env.PERFSTACK_BENCH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'perfstack-bench');
  return join(cache, `otava-${OTAVA_VERSION}-venv`);
}

/** The venv's python, creating the venv and installing apache-otava the first time. */
export function ensureOtava(log: (line: string) => void = console.info): string {
  const folder = venvFolder();
  const python = join(folder, 'bin', 'python');
  const ready = join(folder, '.perfstack-ready');
  if (existsSync(ready)) return python;
  mkdirSync(folder, { recursive: true });
  log(`creating ${folder} and installing apache-otava==${OTAVA_VERSION} from PyPI (once)`);
  execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', folder], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', `apache-otava==${OTAVA_VERSION}`], { stdio: 'inherit' });
  execFileSync(python, ['-c', 'import otava.analysis'], { stdio: 'inherit' });
  execFileSync('touch', [ready]);
  return python;
}

export interface OtavaRun {
  /** Series name → change indices. */
  changes: Record<string, number[]>;
  /** Compute seconds of each round (sum over the series). */
  roundsSeconds: number[];
}

export function runOtava(python: string, input: string, output: string, options: { minMagnitude?: number; repeat?: number } = {}): OtavaRun {
  const args = [RUNNER, '--input', input, '--output', output, '--min-magnitude', String(options.minMagnitude ?? 0), '--repeat', String(options.repeat ?? 1)];
  const result = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`otava runner failed (exit ${result.status}): ${result.stderr}`);
  const summary = JSON.parse(result.stderr.trim().split('\n').pop() as string) as { roundsSeconds: number[] };
  const changes: Record<string, number[]> = {};
  for (const line of readFileSync(output, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { name: string; changes: number[] };
    changes[record.name] = record.changes;
  }
  return { changes, roundsSeconds: summary.roundsSeconds };
}
