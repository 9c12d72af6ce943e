// Turning Prometheus answers into what panels draw: series (with legend names), reductions,
// threshold colours and tables (with Grafana's "organize" transformation).

import { legendName } from './template.js';
import type { FieldDefaults, ThresholdStep } from './model.js';

export interface Series {
  refId: string;
  name: string;
  labels: Record<string, string>;
  /** Seconds. */
  times: number[];
  values: (number | null)[];
}

interface PromMatrix {
  resultType: 'matrix';
  result: { metric: Record<string, string>; values: [number, string][] }[];
}
interface PromVector {
  resultType: 'vector';
  result: { metric: Record<string, string>; value: [number, string] }[];
}
interface PromScalar {
  resultType: 'scalar' | 'string';
  result: [number, string];
}
export type PromData = PromMatrix | PromVector | PromScalar;

function number(text: string): number | null {
  const value = Number(text);
  return Number.isNaN(value) ? null : value;
}

/** Series from a Prometheus query answer; legend names from the target's legendFormat. */
export function toSeries(data: PromData, refId: string, legendFormat?: string): Series[] {
  if (data.resultType === 'matrix') {
    return data.result.map((r) => ({
      refId,
      name: legendName(legendFormat, r.metric),
      labels: r.metric,
      times: r.values.map(([t]) => t),
      values: r.values.map(([, v]) => number(v)),
    }));
  }
  if (data.resultType === 'vector') {
    return data.result.map((r) => ({ refId, name: legendName(legendFormat, r.metric), labels: r.metric, times: [r.value[0]], values: [number(r.value[1])] }));
  }
  return [{ refId, name: legendFormat || 'Value', labels: {}, times: [data.result[0]], values: [number(data.result[1])] }];
}

export function hasData(series: Series[]): boolean {
  return series.some((s) => s.values.some((v) => v !== null && Number.isFinite(v)));
}

/** Grafana's reducers (the calcs of reduceOptions and legend). */
export function reduce(values: (number | null)[], calc: string): number | null {
  const finite = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  switch (calc) {
    case 'last':
      return values.length > 0 ? (values[values.length - 1] ?? null) : null;
    case 'first':
      return values[0] ?? null;
    case 'firstNotNull':
      return finite[0] ?? null;
    case 'mean':
      return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
    case 'max':
      return finite.length ? Math.max(...finite) : null;
    case 'min':
      return finite.length ? Math.min(...finite) : null;
    case 'sum':
      return finite.length ? finite.reduce((a, b) => a + b, 0) : null;
    case 'count':
      return finite.length;
    case 'range':
      return finite.length ? Math.max(...finite) - Math.min(...finite) : null;
    case 'delta':
    case 'diff':
      return finite.length ? finite[finite.length - 1]! - finite[0]! : null;
    case 'lastNotNull':
    default:
      return finite.length ? finite[finite.length - 1]! : null;
  }
}

/** Grafana's named colours (the ones dashboards use) and the classic palette. */
const NAMED: Record<string, string> = {
  green: '#73BF69',
  'dark-green': '#37872D',
  'semi-dark-green': '#56A64B',
  'light-green': '#96D98D',
  red: '#F2495C',
  'dark-red': '#C4162A',
  'semi-dark-red': '#E02F44',
  'light-red': '#FF7383',
  orange: '#FF9830',
  'dark-orange': '#FA6400',
  'semi-dark-orange': '#FF780A',
  'light-orange': '#FFB357',
  yellow: '#FADE2A',
  'dark-yellow': '#E0B400',
  'semi-dark-yellow': '#F2CC0C',
  'light-yellow': '#FFEE52',
  blue: '#5794F2',
  'dark-blue': '#1F60C4',
  'semi-dark-blue': '#3274D9',
  'light-blue': '#8AB8FF',
  purple: '#B877D9',
  'dark-purple': '#8F3BB8',
  'semi-dark-purple': '#A352CC',
  'light-purple': '#CA95E5',
  text: '#24292e',
  transparent: 'transparent',
};

export const PALETTE = ['#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2', '#B877D9', '#705DA0', '#37872D', '#FADE2A', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477'];

export function cssColor(color: string | undefined): string {
  if (!color) return NAMED.green!;
  return NAMED[color] ?? color;
}

/** Grafana's default when a panel sets no thresholds. */
export const DEFAULT_STEPS: ThresholdStep[] = [
  { value: null, color: 'green' },
  { value: 80, color: 'red' },
];

/** Threshold steps as absolute values (percentage mode is relative to min … max). */
export function absoluteSteps(defaults: FieldDefaults | undefined, min: number, max: number): ThresholdStep[] {
  const steps = defaults?.thresholds?.steps ?? DEFAULT_STEPS;
  if (defaults?.thresholds?.mode !== 'percentage') return steps;
  return steps.map((s) => ({ ...s, value: s.value === null ? null : min + ((max - min) * s.value) / 100 }));
}

/** The colour of a value: the last step at or below it. */
export function thresholdColor(value: number | null, steps: ThresholdStep[]): string {
  let color = steps[0]?.color ?? 'green';
  if (value === null) return cssColor(color);
  for (const step of steps) if (step.value === null || value >= step.value) color = step.color;
  return cssColor(color);
}

/** The steps that are drawn (every step but the base one). */
export function drawnSteps(steps: ThresholdStep[]): { value: number; color: string }[] {
  return steps.filter((s): s is { value: number; color: string } => s.value !== null && Number.isFinite(s.value));
}

export interface Table {
  columns: string[];
  /** Which columns hold numbers (formatted with the unit). */
  numeric: boolean[];
  rows: (string | number | null)[][];
}

/**
 * Prometheus series as Grafana's table format: one row per label set, a column per label, Time,
 * and one value column per query ("Value", or "Value #A" … with several queries).
 */
export function toTable(series: Series[], refIds: string[]): Table {
  const labelKeys = [...new Set(series.flatMap((s) => Object.keys(s.labels)))].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  const valueColumn = (refId: string) => (refIds.length > 1 ? `Value #${refId}` : 'Value');
  const rows = new Map<string, (string | number | null)[]>();
  const valueColumns = refIds.map(valueColumn);
  for (const s of series) {
    for (let i = 0; i < s.times.length; i++) {
      const key = JSON.stringify([s.times.length > 1 ? s.times[i] : 0, labelKeys.map((k) => s.labels[k] ?? '')]);
      let row = rows.get(key);
      if (!row) {
        row = [s.times[i]! * 1000, ...labelKeys.map((k) => s.labels[k] ?? ''), ...valueColumns.map(() => null)];
        rows.set(key, row);
      }
      row[1 + labelKeys.length + refIds.indexOf(s.refId)] = s.values[i] ?? null;
    }
  }
  const columns = ['Time', ...labelKeys, ...valueColumns];
  return { columns, numeric: columns.map((c, i) => i > labelKeys.length), rows: [...rows.values()] };
}

/** Grafana's "organize fields" transformation: hide, rename and reorder columns. */
export function organize(table: Table, options: { excludeByName?: Record<string, boolean>; renameByName?: Record<string, string>; indexByName?: Record<string, number> } = {}): Table {
  const keep = table.columns.map((c, i) => ({ c, i })).filter(({ c }) => !options.excludeByName?.[c]);
  const index = options.indexByName ?? {};
  keep.sort((a, b) => (index[a.c] ?? 1000 + a.i) - (index[b.c] ?? 1000 + b.i));
  return {
    columns: keep.map(({ c }) => options.renameByName?.[c] || c),
    numeric: keep.map(({ i }) => table.numeric[i]!),
    rows: table.rows.map((row) => keep.map(({ i }) => row[i] ?? null)),
  };
}

/** Start times of the runs of non-zero values in each series: Grafana's Prometheus annotation events. */
export function annotationEvents(series: Series[], stepSeconds: number): { time: number; labels: Record<string, string> }[] {
  const events: { time: number; labels: Record<string, string> }[] = [];
  for (const s of series) {
    let previous: number | undefined;
    for (let i = 0; i < s.times.length; i++) {
      const value = s.values[i];
      const t = s.times[i]!;
      const active = value !== null && value !== undefined && value !== 0;
      if (active && (previous === undefined || t - previous > stepSeconds * 1.5)) events.push({ time: t, labels: s.labels });
      previous = active ? t : undefined;
    }
  }
  return events.sort((a, b) => a.time - b.time);
}
