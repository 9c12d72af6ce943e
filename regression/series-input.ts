// Series from files, for `perfstack history --input` and `perfstack compare --input`: teams with
// benchmark results in CI use the detector without the baseline store.
//
// Two formats, told apart by the first non-blank character:
//   JSON lines  one object a line: {"name": "…", "values": [1.2, 1.3, null, …], "timestamps": [...]}
//               (null is a missing run; timestamps optional: numbers or ISO strings, one per value)
//   CSV         a header, then either
//                 long: columns name and value (any order), optional timestamp / time / date;
//                 wide: an optional first column timestamp / time / date / run, then one column per series
//               (an empty cell is a missing run).
// When every point of a series has a timestamp, the points are put in time order (stable). The
// index of a change is the position of its point in the series as read and ordered, missing runs
// included, so it names the same run the file does.
//
// Output: one JSON line per series, keys in a fixed order and numbers at 6 significant digits, so
// the same input gives byte-identical output.

import { readFileSync } from 'node:fs';
import type { Direction } from './kpi.js';
import { compareKpi, detectRegressionInHistory, type Change, type CompareKpiResult, type HistoryChange, type HistoryOptions } from './stats/index.js';

export class SeriesInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'SeriesInputError';
  }
}

export interface InputSeries {
  name: string;
  /** Values in run order; null where a run is missing. */
  values: (number | null)[];
  timestamps?: (number | string)[];
}

/** A series without its missing runs, and where each remaining value sat in the input. */
export interface CompactSeries {
  name: string;
  values: number[];
  /** positions[i] is the input index of values[i]. */
  positions: number[];
}

function timeValue(t: number | string, where: string): number {
  const value = typeof t === 'number' ? t : /^-?\d+(\.\d+)?$/.test(t.trim()) ? Number(t) : Date.parse(t);
  if (!Number.isFinite(value)) throw new SeriesInputError(where, `${where}: timestamp "${String(t)}" is neither a number nor an ISO date`);
  return value;
}

function ordered(series: InputSeries, where: string): InputSeries {
  const { timestamps } = series;
  if (!timestamps) return series;
  if (timestamps.length !== series.values.length) {
    throw new SeriesInputError(where, `${where}: series "${series.name}" has ${series.values.length} values but ${timestamps.length} timestamps`);
  }
  const times = timestamps.map((t) => timeValue(t, where));
  const order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  return { name: series.name, values: order.map((i) => series.values[i] as number | null), timestamps: order.map((i) => timestamps[i] as number | string) };
}

function parseJsonLines(text: string, file: string): InputSeries[] {
  const out: InputSeries[] = [];
  const names = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new SeriesInputError(where, `${where}: not valid JSON (expected {"name": …, "values": [...]})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SeriesInputError(where, `${where}: expected an object {"name": …, "values": [...]}`);
    const record = parsed as Record<string, unknown>;
    const name = record.name;
    if (typeof name !== 'string' || name === '') throw new SeriesInputError(where, `${where}: "name" must be a non-empty string`);
    if (names.has(name)) throw new SeriesInputError(where, `${where}: series "${name}" appears twice`);
    names.add(name);
    if (!Array.isArray(record.values)) throw new SeriesInputError(where, `${where}: "values" must be an array of numbers (null for a missing run)`);
    const values = record.values.map((v, k) => {
      if (v === null) return null;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new SeriesInputError(where, `${where}: values[${k}] of "${name}" must be a finite number or null, got ${JSON.stringify(v)}`);
      return v;
    });
    let timestamps: (number | string)[] | undefined;
    if (record.timestamps !== undefined) {
      if (!Array.isArray(record.timestamps) || record.timestamps.some((t) => typeof t !== 'number' && typeof t !== 'string')) {
        throw new SeriesInputError(where, `${where}: "timestamps" must be an array of numbers or ISO strings`);
      }
      timestamps = record.timestamps as (number | string)[];
    }
    out.push(ordered(timestamps ? { name, values, timestamps } : { name, values }, where));
  });
  return out;
}

function splitCsvLine(line: string, where: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new SeriesInputError(where, `${where}: unterminated quote`);
  cells.push(cell.trim());
  return cells;
}

const TIME_COLUMNS = ['timestamp', 'time', 'date'];

function numberCell(text: string, where: string, column: string): number | null {
  if (text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new SeriesInputError(where, `${where}: column "${column}" must be a number, got "${text}"`);
  return value;
}

function parseCsv(text: string, file: string): InputSeries[] {
  const lines = text.split(/\r?\n/).map((line, i) => ({ line, number: i + 1 })).filter((l) => l.line.trim() !== '');
  const headerLine = lines.shift();
  if (!headerLine) throw new SeriesInputError(file, `${file}: empty`);
  const header = splitCsvLine(headerLine.line, `${file}:${headerLine.number}`);
  const lower = header.map((h) => h.toLowerCase());
  const nameColumn = lower.indexOf('name');
  const valueColumn = lower.indexOf('value');
  const timeColumn = lower.findIndex((h) => TIME_COLUMNS.includes(h));
  const rows = lines.map(({ line, number }) => {
    const where = `${file}:${number}`;
    const cells = splitCsvLine(line, where);
    if (cells.length !== header.length) throw new SeriesInputError(where, `${where}: ${cells.length} columns, the header has ${header.length}`);
    return { cells, where };
  });
  const series = new Map<string, { values: (number | null)[]; timestamps: string[]; where: string }>();
  if (nameColumn >= 0 && valueColumn >= 0) {
    for (const { cells, where } of rows) {
      const name = cells[nameColumn] as string;
      if (name === '') throw new SeriesInputError(where, `${where}: empty name`);
      const entry = series.get(name) ?? { values: [], timestamps: [], where };
      entry.values.push(numberCell(cells[valueColumn] as string, where, header[valueColumn] as string));
      if (timeColumn >= 0) entry.timestamps.push(cells[timeColumn] as string);
      series.set(name, entry);
    }
  } else if (valueColumn >= 0 || nameColumn >= 0) {
    throw new SeriesInputError(`${file}:${headerLine.number}`, `${file}:${headerLine.number}: a long CSV needs both a "name" and a "value" column`);
  } else {
    const first = lower[0] === 'run' || TIME_COLUMNS.includes(lower[0] as string) ? 1 : 0;
    if (header.length <= first) throw new SeriesInputError(`${file}:${headerLine.number}`, `${file}:${headerLine.number}: no series columns in the header`);
    for (let c = first; c < header.length; c++) {
      const name = header[c] as string;
      if (name === '') throw new SeriesInputError(`${file}:${headerLine.number}`, `${file}:${headerLine.number}: column ${c + 1} has no name`);
      if (series.has(name)) throw new SeriesInputError(`${file}:${headerLine.number}`, `${file}:${headerLine.number}: column "${name}" appears twice`);
      series.set(name, {
        values: rows.map(({ cells, where }) => numberCell(cells[c] as string, where, name)),
        timestamps: timeColumn === 0 ? rows.map(({ cells }) => cells[0] as string) : [],
        where: `${file}:${headerLine.number}`,
      });
    }
  }
  return [...series].map(([name, entry]) =>
    ordered(entry.timestamps.length === entry.values.length && entry.timestamps.every((t) => t !== '') ? { name, values: entry.values, timestamps: entry.timestamps } : { name, values: entry.values }, entry.where),
  );
}

/** Parses the text of a series file (JSON lines or CSV, see the header). */
export function parseSeriesText(text: string, file = 'input'): InputSeries[] {
  const first = text.trimStart()[0];
  const series = first === '{' ? parseJsonLines(text, file) : first === undefined ? [] : parseCsv(text, file);
  if (series.length === 0) throw new SeriesInputError(file, `${file}: no series (expected JSON lines {"name": …, "values": [...]} or a CSV with a header)`);
  return series;
}

export function readSeriesFile(file: string): InputSeries[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SeriesInputError(file, `${file}: cannot read it (${(error as Error).message})`);
  }
  return parseSeriesText(text, file);
}

export function compact(series: InputSeries): CompactSeries {
  const values: number[] = [];
  const positions: number[] = [];
  series.values.forEach((v, i) => {
    if (v !== null) {
      values.push(v);
      positions.push(i);
    }
  });
  return { name: series.name, values, positions };
}

/** A number for the JSON output: 6 significant digits, null when not finite. */
export function stableNumber(x: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : null;
}

export interface OutputChange {
  index: number;
  kind: Change['kind'];
  relativeChange: number | null;
  pValue: number | null;
}

/** One JSON line: {"name": …, "changes": [{"index", "kind", "relativeChange", "pValue"}], …extra}. */
export function seriesJsonLine(name: string, changes: readonly OutputChange[], extra: Record<string, string | number | null> = {}): string {
  return JSON.stringify({
    name,
    ...extra,
    changes: changes.map((c) => ({ index: c.index, kind: c.kind, relativeChange: c.relativeChange, pValue: c.pValue })),
  });
}

/** `perfstack history --input`: the changes of one series, indices as in the input. */
export function historyOfSeries(series: InputSeries, options: HistoryOptions): { changes: HistoryChange[]; output: OutputChange[] } {
  const { values, positions } = compact(series);
  const { changes } = detectRegressionInHistory(values, options);
  return {
    changes,
    output: changes.map((c) => ({ index: positions[c.index] as number, kind: c.kind, relativeChange: stableNumber(c.relativeChange), pValue: stableNumber(c.pValue) })),
  };
}

export interface CompareSeriesOptions {
  direction: Direction;
  minEffect: number;
  alpha: number;
  noiseMultiple: number;
  /** Runs before the candidate runs that form the baseline (the rest of the earlier runs are history). */
  baselineRuns: number;
  /** The last N runs of the series are the candidate (default 1). */
  candidateRuns?: number;
}

/**
 * `perfstack compare --input`: the last `candidateRuns` runs of the series against the
 * `baselineRuns` before them, the earlier runs as the KPI's history. A regressed or improved
 * verdict is one change at the first candidate run.
 */
export function compareSeries(series: InputSeries, options: CompareSeriesOptions): { result: CompareKpiResult; output: OutputChange[] } {
  const { values, positions } = compact(series);
  const candidateRuns = options.candidateRuns ?? 1;
  if (!Number.isInteger(candidateRuns) || candidateRuns < 1) throw new SeriesInputError('candidateRuns', `candidate runs must be a whole number ≥ 1, got ${candidateRuns}`);
  const split = Math.max(0, values.length - candidateRuns);
  const result = compareKpi({
    baseline: values.slice(Math.max(0, split - options.baselineRuns), split),
    candidate: values.slice(split),
    history: values.slice(0, split),
    statistic: 'mean',
    direction: options.direction,
    minEffect: options.minEffect,
    alpha: options.alpha,
    noiseMultiple: options.noiseMultiple,
  });
  const changed = result.verdict === 'regressed' || result.verdict === 'improved';
  return {
    result,
    output: changed ? [{ index: positions[split] as number, kind: 'step', relativeChange: stableNumber(result.relativeChange), pValue: stableNumber(result.pValue) }] : [],
  };
}
