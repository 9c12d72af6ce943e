// Charts of the run over time: the timeline is cleaned, downsampled to at most MAX_BUCKETS
// points, turned into Vega-Lite specs and rendered to SVG strings in Node (no browser, no
// canvas), as regression/report/charts.ts does. Charts carry no user text: titles and captions
// live in the HTML around them, where they are escaped.

import { renderSvg } from '../../../charts/index.js';
import type { TopLevelSpec } from 'vega-lite';
import { formatDuration, formatNumber } from './format.js';
import type { RunTimeline, TimelinePoint } from './types.js';

/** The palette of the regression report (regression/report/charts.ts), plus two greys. */
export const COLORS = {
  fail: '#c62828',
  pass: '#2e7d32',
  neutral: '#455a64',
  primary: '#3f6fb5',
  light: '#9db5de',
  grey: '#607d8b',
  accent: '#ef6c00',
} as const;

/** Timelines longer than this are averaged into buckets of whole intervals before drawing. */
export const MAX_BUCKETS = 600;

const DEFAULT_INTERVAL_MS = 1000;

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelColor: '#333', titleColor: '#333', gridColor: '#eee' },
  legend: { orient: 'top', direction: 'horizontal', title: null, labelFontSize: 11, labelColor: '#333', symbolStrokeWidth: 2.5, symbolSize: 220, offset: 6, columnPadding: 14 },
  line: { strokeWidth: 1.6, strokeJoin: 'round' },
} as const;

const WIDTH = 430;
const HEIGHT = 170;

/** One drawn point: the timeline's intervals averaged (rates) or maxed (VUs, latency) per bucket. */
export interface Bucket {
  /** Middle of the bucket, ms since start. */
  t: number;
  vus: number;
  vusMax: number;
  requestsPerSec: number;
  failedPerSec: number;
  iterationsPerSec: number;
  droppedPerSec: number;
  sentBytesPerSec: number;
  receivedBytesPerSec: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface PreparedTimeline {
  /** Usable points (finite t), sorted by t. */
  sourcePoints: number;
  intervalMs: number;
  /** Intervals per bucket; 1 when nothing was downsampled. */
  bucketSize: number;
  buckets: Bucket[];
  /** Whether any interval had latency percentiles. */
  hasLatency: boolean;
  /** The x domain in ms. */
  endMs: number;
}

function finite(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function medianStep(points: readonly TimelinePoint[]): number | undefined {
  const steps: number[] = [];
  for (let i = 1; i < points.length; i += 1) {
    const d = (points[i]?.t ?? 0) - (points[i - 1]?.t ?? 0);
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return undefined;
  steps.sort((a, b) => a - b);
  const mid = Math.floor(steps.length / 2);
  return steps.length % 2 === 1 ? (steps[mid] ?? 0) : ((steps[mid - 1] ?? 0) + (steps[mid] ?? 0)) / 2;
}

function maxOrNull(values: Array<number | null>): number | null {
  let out: number | null = null;
  for (const v of values) if (v !== null && (out === null || v > out)) out = v;
  return out;
}

/** Sorts, cleans and (for long runs) buckets the timeline; the same input gives the same output. */
export function prepareTimeline(timeline: RunTimeline, maxBuckets = MAX_BUCKETS): PreparedTimeline {
  const points = (timeline?.points ?? [])
    .filter((p) => p !== null && typeof p === 'object' && Number.isFinite(p.t))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.t - b.p.t || a.i - b.i)
    .map(({ p }) => p);
  const given = timeline?.intervalMs;
  const intervalMs = given !== undefined && Number.isFinite(given) && given > 0 ? given : (medianStep(points) ?? DEFAULT_INTERVAL_MS);
  const bucketSize = Math.max(1, Math.ceil(points.length / Math.max(1, maxBuckets)));
  const buckets: Bucket[] = [];
  let hasLatency = false;
  for (let start = 0; start < points.length; start += bucketSize) {
    const group = points.slice(start, start + bucketSize);
    const first = group[0];
    const last = group[group.length - 1];
    if (!first || !last) continue;
    const seconds = (group.length * intervalMs) / 1000;
    const sum = (f: (p: TimelinePoint) => unknown) => group.reduce((acc, p) => acc + finite(f(p)), 0);
    const max = (f: (p: TimelinePoint) => unknown) => group.reduce((acc, p) => Math.max(acc, finite(f(p))), 0);
    const pct = (key: 'p50' | 'p90' | 'p95' | 'p99') => maxOrNull(group.map((p) => finiteOrNull(p.latency?.[key])));
    const bucket: Bucket = {
      t: (first.t + last.t) / 2,
      vus: max((p) => p.vus),
      vusMax: max((p) => p.vusMax),
      requestsPerSec: sum((p) => p.requests) / seconds,
      failedPerSec: sum((p) => p.failedRequests) / seconds,
      iterationsPerSec: sum((p) => p.iterations) / seconds,
      droppedPerSec: sum((p) => p.droppedIterations) / seconds,
      sentBytesPerSec: sum((p) => p.dataSentBytes) / seconds,
      receivedBytesPerSec: sum((p) => p.dataReceivedBytes) / seconds,
      p50: pct('p50'),
      p90: pct('p90'),
      p95: pct('p95'),
      p99: pct('p99'),
    };
    if (bucket.p50 !== null || bucket.p90 !== null || bucket.p95 !== null || bucket.p99 !== null) hasLatency = true;
    buckets.push(bucket);
  }
  const lastT = points[points.length - 1]?.t ?? 0;
  return { sourcePoints: points.length, intervalMs, bucketSize, buckets, hasLatency, endMs: Math.max(lastT, intervalMs) };
}

interface TimeAxis {
  factor: number;
  title: string;
}

function timeAxis(endMs: number): TimeAxis {
  if (endMs <= 3 * 60_000) return { factor: 1 / 1000, title: 'elapsed (s)' };
  if (endMs <= 3 * 3_600_000) return { factor: 1 / 60_000, title: 'elapsed (min)' };
  return { factor: 1 / 3_600_000, title: 'elapsed (h)' };
}

interface YScale {
  factor: number;
  unit: string;
}

function byteScale(maxBytesPerSec: number): YScale {
  if (maxBytesPerSec >= 1e9) return { factor: 1e-9, unit: 'GB/s' };
  if (maxBytesPerSec >= 1e6) return { factor: 1e-6, unit: 'MB/s' };
  if (maxBytesPerSec >= 1e3) return { factor: 1e-3, unit: 'kB/s' };
  return { factor: 1, unit: 'B/s' };
}

function latencyScale(maxMs: number): YScale {
  return maxMs >= 10_000 ? { factor: 1 / 1000, unit: 's' } : { factor: 1, unit: 'ms' };
}

interface SeriesDef {
  name: string;
  color: string;
  dash?: number[];
  value: (b: Bucket) => number | null;
}

/** A multi-line chart over time with a legend on top; null values break the line. */
function lineSpec(prep: PreparedTimeline, series: SeriesDef[], yTitle: string, factor = 1): TopLevelSpec {
  const axis = timeAxis(prep.endMs);
  const values: Array<{ x: number; s: string; v: number | null }> = [];
  for (const s of series) {
    for (const b of prep.buckets) {
      const v = s.value(b);
      values.push({ x: b.t * axis.factor, s: s.name, v: v === null ? null : v * factor });
    }
  }
  const domain = series.map((s) => s.name);
  const single = prep.buckets.length === 1;
  return {
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values },
    mark: { type: 'line', point: single ? { filled: true, size: 40 } : false },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: axis.title,
        scale: { domain: [0, prep.endMs * axis.factor], nice: false },
        axis: { tickCount: 8, labelFlush: true, grid: true },
      },
      y: { field: 'v', type: 'quantitative', title: yTitle, scale: { zero: true, nice: true }, axis: { tickCount: 5 } },
      color: { field: 's', type: 'nominal', sort: domain, scale: { domain, range: series.map((s) => s.color) } },
      strokeDash: {
        field: 's',
        type: 'nominal',
        sort: domain,
        scale: { domain, range: series.map((s) => s.dash ?? [1, 0]) },
      },
    },
  } as unknown as TopLevelSpec;
}

export type ChartId = 'vus' | 'requests' | 'latency' | 'iterations' | 'data';

export interface ChartSpec {
  id: ChartId;
  title: string;
  caption: string;
  /** Undefined when there is nothing to draw; `empty` says why. */
  spec?: TopLevelSpec;
  empty?: string;
}

function downsampleNote(prep: PreparedTimeline, how: string): string {
  if (prep.bucketSize <= 1) return '';
  return (
    ` Downsampled for drawing: ${formatNumber(prep.sourcePoints)} intervals of ${formatDuration(prep.intervalMs)} ` +
    `shown as ${formatNumber(prep.buckets.length)} buckets of ${formatDuration(prep.intervalMs * prep.bucketSize)}; ${how}.`
  );
}

/** The five charts of the report, in order, with their captions. */
export function chartSpecs(prep: PreparedTimeline): ChartSpec[] {
  const maxOf = (f: (b: Bucket) => number | null) => prep.buckets.reduce((m, b) => Math.max(m, f(b) ?? 0), 0);
  const rateNote = 'rates are averages over each bucket';
  const bytes = byteScale(Math.max(maxOf((b) => b.sentBytesPerSec), maxOf((b) => b.receivedBytesPerSec)));
  const lat = latencyScale(maxOf((b) => b.p99));
  const charts: ChartSpec[] = [
    {
      id: 'vus',
      title: 'Virtual users',
      caption: 'Active VUs (solid) and allocated VUs, vus_max (dashed), at each interval.' + downsampleNote(prep, 'each point is the highest value in its bucket'),
      spec: lineSpec(
        prep,
        [
          { name: 'VUs', color: COLORS.primary, value: (b) => b.vus },
          { name: 'vus_max', color: COLORS.grey, dash: [5, 3], value: (b) => b.vusMax },
        ],
        'VUs',
      ),
    },
    {
      id: 'requests',
      title: 'Request rate',
      caption: 'Requests completed per second, and those of them that failed (red).' + downsampleNote(prep, rateNote),
      spec: lineSpec(
        prep,
        [
          { name: 'requests/s', color: COLORS.primary, value: (b) => b.requestsPerSec },
          { name: 'failed/s', color: COLORS.fail, value: (b) => b.failedPerSec },
        ],
        'requests/s',
      ),
    },
    {
      id: 'latency',
      title: 'Request latency percentiles',
      caption:
        `p50, p90, p95 and p99 of request duration (${lat.unit}) within each interval on its own, not cumulative since the start: ` +
        'a slow period shows when it happened and is not diluted by the rest of the run. Gaps are intervals in which no request completed.' +
        downsampleNote(prep, 'each point is the highest per-interval percentile in its bucket'),
      ...(prep.hasLatency
        ? {
            spec: lineSpec(
              prep,
              [
                { name: 'p50', color: COLORS.light, value: (b) => b.p50 },
                { name: 'p90', color: COLORS.primary, value: (b) => b.p90 },
                { name: 'p95', color: COLORS.accent, value: (b) => b.p95 },
                { name: 'p99', color: COLORS.fail, value: (b) => b.p99 },
              ],
              `latency (${lat.unit})`,
              lat.factor,
            ),
          }
        : { empty: 'No request completed during the run, so there is no latency to plot.' }),
    },
    {
      id: 'iterations',
      title: 'Iterations',
      caption:
        'Iterations completed per second, and iterations dropped per second (an arrival-rate executor had no free VU to start them).' +
        downsampleNote(prep, rateNote),
      spec: lineSpec(
        prep,
        [
          { name: 'iterations/s', color: COLORS.primary, value: (b) => b.iterationsPerSec },
          { name: 'dropped/s', color: COLORS.accent, value: (b) => b.droppedPerSec },
        ],
        'iterations/s',
      ),
    },
    {
      id: 'data',
      title: 'Data transfer',
      caption: `Bytes sent and received per second (${bytes.unit}, decimal units).` + downsampleNote(prep, rateNote),
      spec: lineSpec(
        prep,
        [
          { name: 'sent', color: COLORS.accent, value: (b) => b.sentBytesPerSec },
          { name: 'received', color: COLORS.primary, value: (b) => b.receivedBytesPerSec },
        ],
        bytes.unit,
        bytes.factor,
      ),
    },
  ];
  return charts;
}

export interface RenderedChart {
  id: ChartId;
  title: string;
  caption: string;
  svg?: string;
  empty?: string;
}

/** Renders every chart of the timeline, one after another so the output never depends on scheduling. */
export async function renderCharts(prep: PreparedTimeline): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const c of chartSpecs(prep)) {
    const rendered: RenderedChart = { id: c.id, title: c.title, caption: c.caption };
    if (c.spec) rendered.svg = await renderSvg(c.spec, `chart-${c.id}`);
    else if (c.empty) rendered.empty = c.empty;
    out.push(rendered);
  }
  return out;
}
