// Scores change-point detections against the labels of bench/changepoints/generator.ts.
// A detection within TOLERANCE runs of a label counts (each label and each detection once, nearest
// first); precision, recall and F1 pool every series of a set.

import type { Family, LabelledSeries } from './generator.js';

export const TOLERANCE = 3;
export const UNLABELLED: readonly Family[] = ['noise', 'outlier', 'bimodal', 'spread'];

export interface Detections {
  /** Series name → indices of the detected changes. */
  [name: string]: number[];
}

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface Score {
  precision: number;
  recall: number;
  f1: number;
  f1WithoutDrift: number;
  counts: Counts;
  unlabelledAlarmedShare: number;
  unlabelledAlarmed: string;
  outlierSeriesAlarmed: string;
  bimodalSeriesAlarmed: string;
  spreadSeriesAlarmed: string;
  driftRecall: number;
  byFamily: Record<string, { series: number; tp: number; fp: number; fn: number; alarmed: number }>;
}

/** Matches detections to labels within TOLERANCE, closest pairs first. */
export function match(labels: readonly number[], detections: readonly number[]): { tp: number; fp: number; fn: number; matchedLabels: Set<number> } {
  const pairs: [number, number, number][] = [];
  labels.forEach((l, i) => detections.forEach((d, j) => Math.abs(d - l) <= TOLERANCE && pairs.push([Math.abs(d - l), i, j])));
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const usedLabels = new Set<number>();
  const usedDetections = new Set<number>();
  for (const [, i, j] of pairs) {
    if (usedLabels.has(i) || usedDetections.has(j)) continue;
    usedLabels.add(i);
    usedDetections.add(j);
  }
  return { tp: usedLabels.size, fp: detections.length - usedDetections.size, fn: labels.length - usedLabels.size, matchedLabels: usedLabels };
}

function f1Of(c: Counts): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function score(set: readonly LabelledSeries[], detections: Detections): Score {
  const all: Counts = { tp: 0, fp: 0, fn: 0 };
  const noDrift: Counts = { tp: 0, fp: 0, fn: 0 };
  const byFamily: Score['byFamily'] = {};
  let unlabelled = 0;
  let unlabelledAlarmed = 0;
  let driftLabels = 0;
  let driftFound = 0;
  for (const series of set) {
    const found = detections[series.name] ?? [];
    const m = match(
      series.labels.map((l) => l.index),
      found,
    );
    for (const target of series.family === 'drift' ? [all] : [all, noDrift]) {
      target.tp += m.tp;
      target.fp += m.fp;
      target.fn += m.fn;
    }
    const family = (byFamily[series.family] ??= { series: 0, tp: 0, fp: 0, fn: 0, alarmed: 0 });
    family.series++;
    family.tp += m.tp;
    family.fp += m.fp;
    family.fn += m.fn;
    if (found.length > 0) family.alarmed++;
    if (UNLABELLED.includes(series.family)) {
      unlabelled++;
      if (found.length > 0) unlabelledAlarmed++;
    }
    if (series.family === 'drift') {
      driftLabels += series.labels.length;
      driftFound += m.tp;
    }
  }
  const overall = f1Of(all);
  const alarmed = (family: Family) => `${byFamily[family]?.alarmed ?? 0}/${byFamily[family]?.series ?? 0}`;
  return {
    precision: round(overall.precision),
    recall: round(overall.recall),
    f1: round(overall.f1),
    f1WithoutDrift: round(f1Of(noDrift).f1),
    counts: all,
    unlabelledAlarmedShare: round(unlabelledAlarmed / Math.max(1, unlabelled)),
    unlabelledAlarmed: `${unlabelledAlarmed}/${unlabelled}`,
    outlierSeriesAlarmed: alarmed('outlier'),
    bimodalSeriesAlarmed: alarmed('bimodal'),
    spreadSeriesAlarmed: alarmed('spread'),
    driftRecall: round(driftFound / Math.max(1, driftLabels)),
    byFamily,
  };
}
