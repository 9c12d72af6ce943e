// Change-point accuracy: perfstack `history` and Apache Otava side by side on the labelled series
// of generator.ts, the main set (MAIN_SEED) and a held-out set drawn with another seed at run time.
//
//   npx tsx bench/changepoints/accuracy.ts          (PERFSTACK_HOLDOUT_SEED=N to repeat a held-out set)
//
// Both sets are written to a fresh temporary folder outside the repository and removed afterwards;
// only the scores go to bench/results/changepoints-accuracy.json. perfstack runs as a user would run
// it, `perfstack history --input FILE --json`, with a practical minimum of 2 % (the smallest change
// the set labels) and its other defaults; the library is checked to give the same answer. Otava runs
// compute_change_points (what `otava analyze` uses) with its defaults, and with min_magnitude 2 %.
//
// Scores (score.ts): precision, recall and F1 (a detection within 3 runs of a label counts), F1
// without the drift series, the share of unlabelled series with any alarm, alarms on the outlier and
// bimodal series, drift recall, and the median detection delay: for every other labelled change,
// the fewest runs after it before the tool, given the history up to then, reports a change within
// 3 runs of it (runs 1–10, 12, 15, 20 tried; not found within 20 counts as missed).

import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectChanges } from '../../regression/stats/index.js';
import { median } from '../stats.js';
import { writeJsonAtomic } from '../write-json.js';
import { generateSet, MAIN_SEED, toJsonLines, type LabelledSeries } from './generator.js';
import { ensureOtava, OTAVA_VERSION, runOtava } from './otava.js';
import { score, TOLERANCE, type Detections } from './score.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RESULT_FILE = join(import.meta.dirname, '..', 'results', 'changepoints-accuracy.json');
const MIN_EFFECT = 0.02;
const DELAYS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20];

function runPerfstack(file: string): Detections {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'perfstack.js'), 'history', '--input', file, '--json', '--min-effect', String(MIN_EFFECT)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`perfstack history failed (exit ${result.status}): ${result.stderr}`);
  const detections: Detections = {};
  for (const line of result.stdout.split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { name: string; changes: { index: number }[] };
    detections[record.name] = record.changes.map((c) => c.index);
  }
  return detections;
}

interface Prefix {
  name: string;
  series: LabelledSeries;
  label: number;
  delay: number;
}

function prefixes(set: readonly LabelledSeries[]): Prefix[] {
  const out: Prefix[] = [];
  let k = 0;
  for (const series of set) {
    for (const label of series.labels) {
      if (k++ % 2 === 1) continue;
      for (const delay of DELAYS) {
        const end = label.index + delay;
        if (end > series.values.length) break;
        out.push({ name: `${series.name}@${label.index}+${delay}`, series, label: label.index, delay });
      }
    }
  }
  return out;
}

function medianDelay(list: readonly Prefix[], detections: Detections): { median: number | null; foundWithin20: string } {
  const first = new Map<string, number>();
  const labels = new Set<string>();
  for (const p of list) {
    const key = `${p.series.name}@${p.label}`;
    labels.add(key);
    if (first.has(key)) continue;
    if ((detections[p.name] ?? []).some((d) => Math.abs(d - p.label) <= TOLERANCE)) first.set(key, p.delay);
  }
  const delays = [...first.values()];
  return { median: delays.length ? median(delays) : null, foundWithin20: `${delays.length}/${labels.size}` };
}

function evaluate(label: string, set: LabelledSeries[], folder: string, python: string) {
  const file = join(folder, `${label}.jsonl`);
  writeFileSync(file, toJsonLines(set));
  const perfstack = runPerfstack(file);
  // The CLI and the library must agree.
  for (const series of set) {
    const library = detectChanges(series.values, { minEffect: MIN_EFFECT }).map((c) => c.index);
    if (JSON.stringify(library) !== JSON.stringify(perfstack[series.name] ?? [])) throw new Error(`${series.name}: CLI ${JSON.stringify(perfstack[series.name])} ≠ library ${JSON.stringify(library)}`);
  }
  const otava = runOtava(python, file, join(folder, `${label}.otava.jsonl`));
  const otavaMin = runOtava(python, file, join(folder, `${label}.otava-min.jsonl`), { minMagnitude: MIN_EFFECT });

  const online = prefixes(set);
  const prefixFile = join(folder, `${label}-prefixes.jsonl`);
  writeFileSync(prefixFile, online.map((p) => JSON.stringify({ name: p.name, values: p.series.values.slice(0, p.label + p.delay) })).join('\n') + '\n');
  const perfstackOnline = runPerfstack(prefixFile);
  const otavaOnline = runOtava(python, prefixFile, join(folder, `${label}-prefixes.otava.jsonl`));

  const summary = (detections: Detections, onlineDetections: Detections | undefined) => {
    const { byFamily, ...rest } = score(set, detections);
    return { ...rest, ...(onlineDetections ? { medianDetectionDelayRuns: medianDelay(online, onlineDetections) } : {}), byFamily };
  };
  return {
    series: set.length,
    labels: set.reduce((n, s) => n + s.labels.length, 0),
    perfstack: summary(perfstack, perfstackOnline),
    otavaDefaults: summary(otava.changes, otavaOnline.changes),
    otavaMinMagnitude2pc: summary(otavaMin.changes, undefined),
  };
}

const python = ensureOtava();
const holdoutSeed = Number(process.env.PERFSTACK_HOLDOUT_SEED ?? randomInt(1, 2 ** 31));
const folder = mkdtempSync(join(tmpdir(), 'perfstack-changepoints-'));
try {
  const main = evaluate('main', generateSet(MAIN_SEED), folder, python);
  const heldOut = evaluate('held-out', generateSet(holdoutSeed), folder, python);
  const result = {
    benchmark: 'changepoints-accuracy',
    settings: {
      perfstack: `perfstack history --input FILE --json --min-effect ${MIN_EFFECT} (alpha 0.01, noiseMultiple 2)`,
      otavaDefaults: `apache-otava ${OTAVA_VERSION} compute_change_points(window_len=50, max_pvalue=0.001, min_magnitude=0)`,
      otavaMinMagnitude2pc: `the same with min_magnitude=${MIN_EFFECT}`,
      tolerance: `a detection within ${TOLERANCE} runs of a label counts`,
      mainSeed: MAIN_SEED,
      heldOutSeed: holdoutSeed,
      heldOutWrittenTo: 'a temporary folder outside the repository, removed after the run',
    },
    goals: { f1: '≥ 0.80', f1WithoutDrift: '≥ 0.90', unlabelledAlarmedShare: '≤ 0.05', outlierSeriesAlarmed: '≤ 3/60', bimodalSeriesAlarmed: '≤ 3/60', driftRecall: '≥ 0.70' },
    environment: { nodeVersion: process.version, cpuCount: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() },
    main,
    heldOut,
  };
  await writeJsonAtomic(RESULT_FILE, result);
  const line = (name: string, s: typeof main.perfstack) =>
    `${name.padEnd(22)} F1 ${s.f1.toFixed(3)}  F1 w/o drift ${s.f1WithoutDrift.toFixed(3)}  unlabelled alarmed ${(s.unlabelledAlarmedShare * 100).toFixed(1)} %  outlier ${s.outlierSeriesAlarmed}  bimodal ${s.bimodalSeriesAlarmed}  drift recall ${s.driftRecall.toFixed(2)}${'medianDetectionDelayRuns' in s ? `  median delay ${String(s.medianDetectionDelayRuns?.median)} (${s.medianDetectionDelayRuns?.foundWithin20})` : ''}`;
  for (const [name, set] of [
    ['main', main],
    [`held-out (seed ${holdoutSeed})`, heldOut],
  ] as const) {
    console.info(`${name}: ${set.series} series, ${set.labels} labels`);
    console.info(`  ${line('perfstack', set.perfstack)}`);
    console.info(`  ${line('otava defaults', set.otavaDefaults)}`);
    console.info(`  ${line('otava min_magnitude 2%', set.otavaMinMagnitude2pc as typeof main.perfstack)}`);
  }
  console.info(`written to ${RESULT_FILE}`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
