// The experiment's verdict as text for the terminal and as JSON files (written whole: a temporary
// file renamed into place).

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ComparedMetric, ExperimentResult } from './run.js';

function value(metric: ComparedMetric, x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (metric.unit === 'seconds') return `${(x * 1000).toFixed(2)} ms`;
  if (metric.unit === 'bytes') return `${Math.round(x)} B`;
  if (metric.unit === 'per-second') return `${x.toFixed(1)}/s`;
  return x.toPrecision(3);
}

const percent = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %` : 'n/a');

export function describeMetric(metric: ComparedMetric): string {
  const spread = (arm: ComparedMetric['off']) => `${value(metric, arm.median)} (${value(metric, arm.min)}…${value(metric, arm.max)})`;
  return (
    `${metric.verdict.padEnd(17)} ${metric.metric}: off ${spread(metric.off)} → on ${spread(metric.on)}; ` +
    `effect ${percent(metric.effect)} (CI ${percent(metric.ci[0])}…${percent(metric.ci[1])} at ${((1 - metric.alpha) * 100).toFixed(0)} %, p ${Number.isFinite(metric.pValue) ? metric.pValue.toPrecision(2) : 'n/a'}, threshold ${(metric.threshold * 100).toFixed(1)} %)`
  );
}

/** The lines `perfstack experiment` prints. */
export function formatExperiment(result: ExperimentResult): string {
  return [
    `experiment ${result.optimisation}: ${result.description}`,
    `scenario ${result.scenario}, ${result.runsPerArm} runs per arm (${result.order.join(' ')}), ${result.duration} each; medians (min…max) of the runs`,
    describeMetric(result.primary),
    ...result.secondary.map(describeMetric),
    `runs stored on ${result.branches.off} and ${result.branches.on}`,
  ].join('\n');
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export async function writeExperimentJson(path: string, result: ExperimentResult): Promise<void> {
  await writeAtomically(path, `${JSON.stringify(result, null, 2)}\n`);
}

export interface ResultsFile {
  description: string;
  updatedAt: string;
  /** One entry per optimisation, the latest measurement. */
  experiments: Record<string, ExperimentResult & { environment?: Record<string, unknown> }>;
}

/** Adds (or replaces) this optimisation's entry in a results file such as bench/results/optimisations.json. */
export async function recordExperiment(path: string, result: ExperimentResult, environment: Record<string, unknown> = {}): Promise<void> {
  let file: ResultsFile = {
    description: 'perfstack experiment: each optimisation off and on, same scenario and data, interleaved runs, judged by compareKpi (see docs/performance_optimization_guide.md)',
    updatedAt: '',
    experiments: {},
  };
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<ResultsFile>;
    if (parsed && typeof parsed === 'object' && parsed.experiments && typeof parsed.experiments === 'object') file = { ...file, ...parsed, experiments: parsed.experiments };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`--record ${path}: cannot read it as a results file (${(error as Error).message})`);
  }
  file.updatedAt = result.finishedAt;
  file.experiments = Object.fromEntries(Object.entries({ ...file.experiments, [result.optimisation]: { ...result, environment } }).sort(([a], [b]) => a.localeCompare(b)));
  await writeAtomically(path, `${JSON.stringify(file, null, 2)}\n`);
}
