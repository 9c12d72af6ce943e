// Panel renderers: timeseries (uPlot), stat, gauge, bar gauge and table. Each draws into the
// panel's body and reports where it put the thresholds, so tests (and curious users, through
// window.perfstackViewer) can check that an SLA line is where the config puts it.

import type uPlotType from 'uplot';
import { absoluteSteps, cssColor, drawnSteps, organize, PALETTE, reduce, thresholdColor, toTable, type Series } from '../shared/data.js';
import type { FieldDefaults, Json, Panel } from '../shared/model.js';
import { formatValue } from '../shared/units.js';

declare global {
  interface Window {
    uPlot: typeof uPlotType;
  }
}

export interface ThresholdMark {
  value: number;
  color: string;
  /** Timeseries: the line's y in CSS pixels inside the plot, and whether it lies within the plot. */
  y?: number;
  /** Timeseries: the row of the chart's canvas the line is drawn on (device pixels). */
  canvasY?: number;
  inside: boolean;
}

export interface RenderResult {
  thresholds: ThresholdMark[];
  /** Called before the panel is drawn again. */
  destroy?: () => void;
}

export interface RenderContext {
  range: { from: number; to: number };
  annotations: { time: number; color: string; title: string }[];
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

function defaultsOf(panel: Panel): FieldDefaults {
  return panel.fieldConfig?.defaults ?? {};
}

function options(panel: Panel): Json {
  return panel.options ?? {};
}

function alpha(color: string, opacity: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (!hex) return color;
  const n = parseInt(hex[1]!, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${opacity})`;
}

/** The series' display name: fieldConfig displayName (with ${__field.labels.x}) or the legend. */
function displayName(panel: Panel, s: Series): string {
  const template = defaultsOf(panel).displayName;
  if (!template) return s.name;
  return template.replace(/\$\{__field\.labels\.(\w+)\}/g, (_w, k: string) => s.labels[k] ?? '').replace(/\$\{__series\.name\}/g, s.name);
}

function seriesColor(panel: Panel, s: Series, index: number, steps = absoluteSteps(defaultsOf(panel), 0, 100)): string {
  const color = defaultsOf(panel).color;
  if (color?.mode === 'fixed') return cssColor(color.fixedColor);
  if (color?.mode === 'thresholds') return thresholdColor(reduce(s.values, 'lastNotNull'), steps);
  return PALETTE[index % PALETTE.length]!;
}

// ---- timeseries ---------------------------------------------------------------------------------

export function renderTimeseries(body: HTMLElement, panel: Panel, series: Series[], ctx: RenderContext): RenderResult {
  const uPlot = window.uPlot;
  const d = defaultsOf(panel);
  const custom = (d.custom ?? {}) as Json;
  const legend = (options(panel).legend ?? {}) as { showLegend?: boolean; displayMode?: string; placement?: string; calcs?: string[] };
  const tooltip = (options(panel).tooltip ?? {}) as { mode?: string };
  const stacking = ((custom.stacking ?? {}) as { mode?: string }).mode === 'normal';
  const thresholdsMode = ((custom.thresholdsStyle ?? {}) as { mode?: string }).mode ?? 'off';
  const drawLines = /line|dashed/.test(thresholdsMode);
  const drawArea = thresholdsMode.includes('area');
  const unit = d.unit;
  const decimals = d.decimals;
  const fillOpacity = typeof custom.fillOpacity === 'number' ? custom.fillOpacity : 0;
  const lineWidth = typeof custom.lineWidth === 'number' ? custom.lineWidth : 1;
  const showPoints = custom.showPoints === 'always';
  const spanNulls = custom.spanNulls === true;
  const interpolation = custom.lineInterpolation as string | undefined;
  const drawStyle = custom.drawStyle as string | undefined;
  const log = ((custom.scaleDistribution ?? {}) as { type?: string; log?: number }).type === 'log';

  // Align every series on one time axis (the same step for all queries of a panel).
  const times = [...new Set(series.flatMap((s) => s.times))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  let columns = series.map((s) => {
    const column: (number | null)[] = new Array(times.length).fill(null);
    s.times.forEach((t, i) => (column[index.get(t)!] = s.values[i] ?? null));
    return column;
  });
  if (stacking) {
    const sums = new Array<number | null>(times.length).fill(null);
    columns = columns.map((column) =>
      column.map((v, i) => {
        if (v === null) return sums[i] ?? null;
        sums[i] = (sums[i] ?? 0) + v;
        return sums[i]!;
      }),
    );
  }

  const finite = columns.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const dataMin = finite.length ? Math.min(...finite) : 0;
  const dataMax = finite.length ? Math.max(...finite) : 1;
  const stepsFor = (min: number, max: number) => absoluteSteps(d, min, max);
  const preliminary = drawnSteps(stepsFor(d.min ?? dataMin, d.max ?? dataMax));

  const calcs = legend.calcs ?? [];
  const labels = series.map((s) => {
    const name = displayName(panel, s);
    if (calcs.length === 0) return name;
    return `${name} (${calcs.map((c) => `${c}: ${formatValue(reduce(s.values, c), unit, decimals)}`).join(', ')})`;
  });

  const paths = (uPlot as unknown as { paths?: Record<string, ((opts?: unknown) => uPlotType.Series.PathBuilder) | undefined> }).paths;
  const pathBuilder = (): uPlotType.Series.PathBuilder | undefined => {
    if (drawStyle === 'bars' && paths?.bars) return paths.bars({ size: [0.6, 100] });
    if (interpolation === 'smooth' && paths?.spline) return paths.spline();
    if (interpolation === 'stepBefore' && paths?.stepped) return paths.stepped({ align: -1 });
    if (interpolation === 'stepAfter' && paths?.stepped) return paths.stepped({ align: 1 });
    return undefined;
  };

  const uSeries: uPlotType.Series[] = [
    {},
    ...series.map((s, i) => {
      const color = seriesColor(panel, s, i);
      const builder = pathBuilder();
      return {
        label: labels[i],
        stroke: color,
        width: drawStyle === 'points' ? 0 : lineWidth,
        fill: fillOpacity > 0 ? alpha(color, fillOpacity / 100) : undefined,
        spanGaps: spanNulls,
        points: { show: showPoints || drawStyle === 'points' },
        value: (_u: uPlotType, v: number | null) => (v === null || v === undefined ? '—' : formatValue(v, unit, decimals)),
        ...(builder ? { paths: builder } : {}),
      } satisfies uPlotType.Series;
    }),
  ];
  const bands: uPlotType.Band[] = stacking ? series.slice(1).map((_s, i) => ({ series: [i + 2, i + 1] as [number, number] })) : [];

  const marks: ThresholdMark[] = [];
  const annotations = ctx.annotations;
  const drawHook = (u: uPlotType) => {
    const c = u.ctx;
    const { left, top, width, height } = u.bbox;
    const scale = u.scales.y!;
    const steps = stepsFor(scale.min ?? dataMin, scale.max ?? dataMax);
    const drawn = drawnSteps(steps);
    marks.length = 0;
    c.save();
    if (drawArea) {
      // Bands between consecutive steps, in each step's colour.
      for (let i = 0; i < steps.length; i++) {
        const lo = steps[i]!.value ?? scale.min ?? dataMin;
        const hi = steps[i + 1]?.value ?? scale.max ?? dataMax;
        const y0 = u.valToPos(Math.max(lo, scale.min ?? lo), 'y', true);
        const y1 = u.valToPos(Math.min(hi, scale.max ?? hi), 'y', true);
        c.fillStyle = alpha(cssColor(steps[i]!.color), 0.12);
        c.fillRect(left, Math.min(y0, y1), width, Math.abs(y0 - y1));
      }
    }
    for (const step of drawn) {
      const y = u.valToPos(step.value, 'y', true);
      const cssY = u.valToPos(step.value, 'y', false);
      const inside = cssY >= -0.5 && cssY <= height / devicePixelRatio + 0.5;
      marks.push({ value: step.value, color: cssColor(step.color), y: Math.round(cssY * 10) / 10, canvasY: Math.round(y), inside });
      if (!drawLines || !inside) continue;
      c.strokeStyle = cssColor(step.color);
      c.lineWidth = 1.5 * devicePixelRatio;
      c.setLineDash(thresholdsMode.startsWith('dashed') ? [10 * devicePixelRatio, 10 * devicePixelRatio] : []);
      c.beginPath();
      c.moveTo(left, y);
      c.lineTo(left + width, y);
      c.stroke();
    }
    for (const event of annotations) {
      const x = u.valToPos(event.time, 'x', true);
      if (x < left || x > left + width) continue;
      c.strokeStyle = event.color;
      c.lineWidth = 1 * devicePixelRatio;
      c.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
      c.beginPath();
      c.moveTo(x, top);
      c.lineTo(x, top + height);
      c.stroke();
    }
    c.restore();
  };

  const showLegend = legend.showLegend !== false && legend.displayMode !== 'hidden';
  const wrap = el('div', legend.placement === 'right' ? 'legend-right' : '');
  body.append(wrap);
  const size = () => ({ width: Math.max(100, body.clientWidth - 16), height: Math.max(60, body.clientHeight - 6) });
  const opts: uPlotType.Options = {
    ...size(),
    series: uSeries,
    bands,
    scales: {
      x: { time: true, range: () => [ctx.range.from / 1000, ctx.range.to / 1000] },
      y: {
        ...(log ? { distr: 3 } : {}),
        range: (_u, min, max) => {
          let lo = min ?? dataMin;
          let hi = max ?? dataMax;
          if (drawLines || drawArea) for (const step of preliminary) (lo = Math.min(lo, step.value)), (hi = Math.max(hi, step.value));
          if (typeof custom.axisSoftMin === 'number') lo = Math.min(lo, custom.axisSoftMin);
          if (typeof custom.axisSoftMax === 'number') hi = Math.max(hi, custom.axisSoftMax);
          const [nlo, nhi] = lo === hi ? [lo - (Math.abs(lo) || 1) * 0.1, hi + (Math.abs(hi) || 1) * 0.1] : uPlot.rangeNum(lo, hi, 0.1, true);
          const rlo: number = d.min ?? (lo >= 0 && (nlo ?? lo) < 0 ? 0 : (nlo ?? lo));
          const rhi: number = d.max ?? nhi ?? hi;
          return [rlo, rhi > rlo ? rhi : rlo + 1];
        },
      },
    },
    axes: [
      { stroke: '#555', grid: { stroke: '#eceef2' }, ticks: { stroke: '#ddd' } },
      {
        stroke: '#555',
        grid: { stroke: '#eceef2' },
        ticks: { stroke: '#ddd' },
        side: custom.axisPlacement === 'right' ? 1 : 3,
        show: custom.axisPlacement !== 'hidden',
        ...(typeof custom.axisLabel === 'string' && custom.axisLabel ? { label: custom.axisLabel } : {}),
        values: (_u, splits) => splits.map((v) => formatValue(v, unit, decimals)),
        size: (_u, values) => (values ? Math.max(...values.map((v) => String(v).length)) * 8 + 22 : 50),
      },
    ],
    legend: { show: showLegend, live: tooltip.mode !== 'none' },
    cursor: { show: tooltip.mode !== 'none', drag: { x: false, y: false } },
    hooks: { draw: [drawHook] },
  };
  const data = [times, ...columns] as uPlotType.AlignedData;
  const plot = new uPlot(opts, data, wrap);
  // The legend takes room under the plot: give the canvas what is left.
  const fit = () => {
    const legendEl = wrap.querySelector<HTMLElement>('.u-legend');
    const legendHeight = legendEl && legend.placement !== 'right' ? legendEl.offsetHeight : 0;
    const { width, height } = size();
    const legendWidth = legendEl && legend.placement === 'right' ? legendEl.offsetWidth : 0;
    plot.setSize({ width: Math.max(100, width - legendWidth), height: Math.max(60, height - legendHeight) });
  };
  fit();
  const observer = new ResizeObserver(() => fit());
  observer.observe(body);
  return {
    thresholds: marks,
    destroy: () => {
      observer.disconnect();
      plot.destroy();
    },
  };
}

// ---- reduced values (stat, gauge, bar gauge) ----------------------------------------------------

interface Reduced {
  name: string;
  value: number | null;
  series: Series;
}

function reduced(panel: Panel, series: Series[]): Reduced[] {
  const reduceOptions = (options(panel).reduceOptions ?? {}) as { calcs?: string[] };
  const calc = reduceOptions.calcs?.[0] ?? 'lastNotNull';
  return series.map((s) => ({ name: displayName(panel, s), value: reduce(s.values, calc), series: s }));
}

function sparkline(s: Series, color: string, range: { from: number; to: number }): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 100 100');
  svg.setAttribute('preserveAspectRatio', 'none');
  const points = s.times.map((t, i) => [t, s.values[i]] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));
  if (points.length < 2) return svg;
  const min = Math.min(...points.map((p) => p[1]));
  const max = Math.max(...points.map((p) => p[1]));
  const x = (t: number) => ((t * 1000 - range.from) / (range.to - range.from)) * 100;
  const y = (v: number) => (max === min ? 50 : 100 - ((v - min) / (max - min)) * 90 - 5);
  const line = points.map((p) => `${x(p[0]).toFixed(2)},${y(p[1]).toFixed(2)}`).join(' ');
  const area = document.createElementNS(ns, 'polygon');
  area.setAttribute('points', `${x(points[0]![0]).toFixed(2)},100 ${line} ${x(points[points.length - 1]![0]).toFixed(2)},100`);
  area.setAttribute('fill', alpha(color, 0.2));
  const polyline = document.createElementNS(ns, 'polyline');
  polyline.setAttribute('points', line);
  polyline.setAttribute('fill', 'none');
  polyline.setAttribute('stroke', color);
  polyline.setAttribute('stroke-width', '1.5');
  polyline.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(area, polyline);
  return svg;
}

function rangeOf(panel: Panel, fallbackMax: number): { min: number; max: number } {
  const d = defaultsOf(panel);
  const min = d.min ?? 0;
  const max = d.max ?? (d.unit === 'percentunit' ? 1 : fallbackMax);
  return { min, max: max > min ? max : min + 1 };
}

function marksOf(panel: Panel, min: number, max: number): ThresholdMark[] {
  return drawnSteps(absoluteSteps(defaultsOf(panel), min, max)).map((s) => ({ value: s.value, color: cssColor(s.color), inside: s.value >= min && s.value <= max }));
}

export function renderStat(body: HTMLElement, panel: Panel, series: Series[], ctx: RenderContext): RenderResult {
  const o = options(panel) as { colorMode?: string; graphMode?: string; textMode?: string; orientation?: string; text?: { valueSize?: number; titleSize?: number } };
  const d = defaultsOf(panel);
  const values = reduced(panel, series);
  const finite = values.map((v) => v.value).filter((v): v is number => v !== null);
  const { min, max } = { min: d.min ?? Math.min(0, ...finite), max: d.max ?? Math.max(1, ...finite) };
  const steps = absoluteSteps(d, min, max);
  const box = el('div', 'stats');
  if (o.orientation === 'vertical') box.style.flexDirection = 'column';
  body.append(box);
  for (const [i, item] of values.entries()) {
    const color = d.color?.mode === 'palette-classic' ? PALETTE[i % PALETTE.length]! : d.color?.mode === 'fixed' ? cssColor(d.color.fixedColor) : thresholdColor(item.value, steps);
    const cell = el('div', 'stat');
    cell.dataset.value = item.value === null ? '' : String(item.value);
    cell.dataset.color = color;
    const text = item.value === null ? (d.noValue ?? 'No data') : formatValue(item.value, d.unit, d.decimals);
    const mode = o.textMode ?? 'auto';
    const showName = mode === 'name' || mode === 'value_and_name' || (mode === 'auto' && values.length > 1);
    const showValue = mode !== 'name' && mode !== 'none';
    if (o.colorMode === 'background' || o.colorMode === 'background_solid') {
      cell.style.background = color;
      cell.style.color = '#fff';
    }
    if (showName) cell.append(el('div', 'stat-name', item.name));
    if (showValue) {
      const value = el('div', 'stat-value', text);
      if (o.colorMode === 'value' || o.colorMode === undefined) value.style.color = color;
      if (o.text?.valueSize) value.style.fontSize = `${o.text.valueSize}px`;
      cell.append(value);
    }
    if (o.graphMode === 'area' && item.series.times.length > 1) cell.append(sparkline(item.series, o.colorMode?.startsWith('background') ? '#ffffff' : color, ctx.range));
    box.append(cell);
  }
  return { thresholds: marksOf(panel, min, max) };
}

export function renderGauge(body: HTMLElement, panel: Panel, series: Series[]): RenderResult {
  const o = options(panel) as { showThresholdMarkers?: boolean; showThresholdLabels?: boolean; orientation?: string };
  const d = defaultsOf(panel);
  const { min, max } = rangeOf(panel, 100);
  const steps = absoluteSteps(d, min, max);
  const box = el('div', 'gauges');
  if (o.orientation === 'vertical') box.style.flexDirection = 'column';
  body.append(box);
  const ns = 'http://www.w3.org/2000/svg';
  const START = -120;
  const SWEEP = 240;
  const polar = (angle: number, r: number) => {
    const rad = ((angle - 90) * Math.PI) / 180;
    return [100 + r * Math.cos(rad), 100 + r * Math.sin(rad)] as const;
  };
  const arc = (from: number, to: number, r: number, color: string, width: number) => {
    const a0 = START + SWEEP * Math.max(0, Math.min(1, from));
    const a1 = START + SWEEP * Math.max(0, Math.min(1, to));
    const [x0, y0] = polar(a0, r);
    const [x1, y1] = polar(a1, r);
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${r} ${r} 0 ${a1 - a0 > 180 ? 1 : 0} 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`);
    path.setAttribute('stroke', color);
    path.setAttribute('stroke-width', String(width));
    path.setAttribute('fill', 'none');
    return path;
  };
  const fraction = (v: number) => (v - min) / (max - min);
  for (const item of reduced(panel, series)) {
    const cell = el('div', 'gauge');
    cell.dataset.value = item.value === null ? '' : String(item.value);
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 200 170');
    svg.append(arc(0, 1, 70, '#eef0f3', 18));
    const color = thresholdColor(item.value, steps);
    cell.dataset.color = color;
    if (item.value !== null) svg.append(arc(0, fraction(item.value), 70, color, 18));
    if (o.showThresholdMarkers !== false) {
      for (let i = 0; i < steps.length; i++) {
        const lo = steps[i]!.value === null ? 0 : fraction(steps[i]!.value!);
        const hi = steps[i + 1]?.value === undefined || steps[i + 1]?.value === null ? 1 : fraction(steps[i + 1]!.value!);
        if (hi > lo) svg.append(arc(lo, hi, 86, cssColor(steps[i]!.color), 5));
      }
    }
    if (o.showThresholdLabels) {
      for (const step of drawnSteps(steps)) {
        const [x, y] = polar(START + SWEEP * Math.max(0, Math.min(1, fraction(step.value))), 98);
        const label = document.createElementNS(ns, 'text');
        label.setAttribute('x', x.toFixed(1));
        label.setAttribute('y', y.toFixed(1));
        label.setAttribute('font-size', '9');
        label.setAttribute('text-anchor', 'middle');
        label.textContent = formatValue(step.value, d.unit, d.decimals);
        svg.append(label);
      }
    }
    const text = document.createElementNS(ns, 'text');
    text.setAttribute('x', '100');
    text.setAttribute('y', '112');
    text.setAttribute('text-anchor', 'middle');
    text.setAttribute('font-size', '24');
    text.setAttribute('font-weight', '500');
    text.setAttribute('fill', color);
    text.textContent = item.value === null ? (d.noValue ?? 'No data') : formatValue(item.value, d.unit, d.decimals);
    svg.append(text);
    cell.append(svg);
    if (series.length > 1) cell.append(el('div', 'gauge-name', item.name));
    box.append(cell);
  }
  return { thresholds: marksOf(panel, min, max) };
}

export function renderBarGauge(body: HTMLElement, panel: Panel, series: Series[]): RenderResult {
  const o = options(panel) as { displayMode?: string; orientation?: string; showUnfilled?: boolean; valueMode?: string; namePlacement?: string };
  const d = defaultsOf(panel);
  const { min, max } = rangeOf(panel, 100);
  const steps = absoluteSteps(d, min, max);
  const box = el('div', `bars${o.orientation === 'vertical' ? ' vertical' : ''}`);
  body.append(box);
  const gradient = drawnSteps(steps).length > 0 ? `linear-gradient(to right, ${steps.map((s) => cssColor(s.color)).join(', ')})` : undefined;
  for (const item of reduced(panel, series)) {
    const row = el('div', 'bar');
    row.dataset.value = item.value === null ? '' : String(item.value);
    const color = thresholdColor(item.value, steps);
    row.dataset.color = color;
    if (o.namePlacement !== 'hidden') row.append(el('div', 'bar-name', item.name));
    const track = el('div', 'bar-track');
    if (o.showUnfilled === false) track.style.background = 'transparent';
    const fill = el('div', 'bar-fill');
    const fraction = item.value === null ? 0 : Math.max(0, Math.min(1, (item.value - min) / (max - min)));
    fill.style.width = `${(fraction * 100).toFixed(2)}%`;
    if (o.displayMode === 'gradient' && gradient) {
      fill.style.background = gradient;
      fill.style.backgroundSize = `${fraction > 0 ? 100 / fraction : 100}% 100%`;
    } else if (o.displayMode === 'lcd') {
      fill.style.background = `repeating-linear-gradient(to right, ${color} 0 8px, transparent 8px 11px)`;
    } else fill.style.background = color;
    track.append(fill);
    row.append(track);
    if (o.valueMode !== 'hidden') {
      const value = el('div', 'bar-value', item.value === null ? (d.noValue ?? 'No data') : formatValue(item.value, d.unit, d.decimals));
      if (o.valueMode !== 'text') value.style.color = color;
      row.append(value);
    }
    box.append(row);
  }
  return { thresholds: marksOf(panel, min, max) };
}

export function renderTable(body: HTMLElement, panel: Panel, series: Series[]): RenderResult {
  const d = defaultsOf(panel);
  const custom = (d.custom ?? {}) as { cellOptions?: { type?: string }; displayMode?: string; align?: string };
  const cellType = custom.cellOptions?.type ?? custom.displayMode ?? 'auto';
  const refIds = (panel.targets ?? []).filter((t) => !t.hide).map((t) => t.refId ?? 'A');
  let table = toTable(series, refIds.length > 0 ? refIds : ['A']);
  for (const t of panel.transformations ?? []) if (t.id === 'organize' && !t.disabled) table = organize(table, t.options as Parameters<typeof organize>[1]);
  const numbers = table.rows.flatMap((r) => r.filter((v, i) => table.numeric[i] && typeof v === 'number')) as number[];
  const min = d.min ?? Math.min(0, ...numbers);
  const max = d.max ?? Math.max(1, ...numbers);
  const steps = absoluteSteps(d, min, max);
  const sortBy = ((options(panel).sortBy ?? []) as { displayName: string; desc?: boolean }[])[0];
  let sortColumn = sortBy ? table.columns.indexOf(sortBy.displayName) : -1;
  let sortDesc = sortBy?.desc ?? false;
  const wrap = el('div', 'table-wrap');
  body.append(wrap);
  const draw = () => {
    wrap.replaceChildren();
    const t = el('table', 'data');
    if (options(panel).showHeader !== false) {
      const head = el('tr');
      table.columns.forEach((c, i) => {
        const th = el('th', undefined, `${c}${i === sortColumn ? (sortDesc ? ' ↓' : ' ↑') : ''}`);
        th.addEventListener('click', () => {
          sortDesc = sortColumn === i ? !sortDesc : false;
          sortColumn = i;
          draw();
        });
        head.append(th);
      });
      t.append(head);
    }
    const rows = [...table.rows];
    if (sortColumn >= 0) {
      rows.sort((a, b) => {
        const x = a[sortColumn];
        const y = b[sortColumn];
        const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
        return sortDesc ? -order : order;
      });
    }
    for (const row of rows) {
      const tr = el('tr');
      row.forEach((value, i) => {
        const td = el('td');
        const column = table.columns[i]!;
        if (column === 'Time' && typeof value === 'number') td.textContent = new Date(value).toLocaleString();
        else if (table.numeric[i] && (typeof value === 'number' || value === null)) {
          td.className = 'num';
          td.textContent = formatValue(value, d.unit, d.decimals);
          const color = thresholdColor(value, steps);
          if (cellType === 'color-text') td.style.color = color;
          if (cellType === 'color-background') (td.style.background = color), (td.style.color = '#fff');
        } else td.textContent = String(value ?? '');
        if (custom.align && custom.align !== 'auto') td.style.textAlign = custom.align;
        tr.append(td);
      });
      t.append(tr);
    }
    wrap.append(t);
  };
  draw();
  return { thresholds: marksOf(panel, min, max) };
}
