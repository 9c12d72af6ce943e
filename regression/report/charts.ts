// Charts for the HTML report: Vega-Lite specs compiled to Vega and rendered to SVG strings in
// Node (no browser, no canvas). Charts carry no user text (testids, endpoints): titles and
// captions live in the HTML around them, where they are escaped.

import { renderSvg } from '../../charts/index.js';
import type { TopLevelSpec } from 'vega-lite';
import { displayScale, median, quantile, type DisplayScale } from './format.js';
import type { KpiComparison } from './types.js';

/** Colours shared with the HTML stylesheet. */
export const COLORS = {
  regressed: '#c62828',
  improved: '#2e7d32',
  unchanged: '#455a64',
  'insufficient data': '#9e9e9e',
  baseline: '#3f6fb5',
  band: '#9db5de',
  history: '#607d8b',
  changePoint: '#ef6c00',
} as const;

/** Per-request samples beyond this are thinned to evenly spaced order statistics. */
const MAX_SAMPLES = 2000;

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelColor: '#333', titleColor: '#333', gridColor: '#eee' },
  legend: { disable: true },
} as const;

export interface KpiCharts {
  history: string;
  distribution: string;
}

function axisTitle(c: KpiComparison, scale: DisplayScale): string {
  return scale.suffix === '' ? c.label : `${c.label} (${scale.suffix})`;
}

function verdictColor(c: KpiComparison): string {
  return COLORS[c.verdict];
}

/** Evenly spaced order statistics: keeps min, max and the shape, drops the bulk. */
export function thin(samples: readonly number[], max = MAX_SAMPLES): number[] {
  const sorted = samples.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  const out: number[] = [];
  for (let k = 0; k < max; k += 1) {
    out.push(sorted[Math.round((k * (sorted.length - 1)) / (max - 1))] ?? 0);
  }
  return out;
}

/** (a) The KPI over the history: baseline band, median, runs, candidate and change points. */
export function historySpec(c: KpiComparison): TopLevelSpec {
  const all = [...c.history.map((h) => h.value), ...c.baselineValues, c.candidateValue];
  const scale = displayScale(c.unit, all);
  const y = (v: number) => v * scale.factor;
  const runs = c.history
    .filter((h) => Number.isFinite(h.value) && Number.isFinite(h.startedAt.getTime()))
    .map((h) => ({ t: h.startedAt.getTime(), v: y(h.value) }));
  const last = c.history[c.history.length - 1];
  const candidateT = last ? last.startedAt.getTime() : 0;
  const baseline = c.baselineValues.filter((v) => Number.isFinite(v));
  const layers: object[] = [];
  const yTitle = axisTitle(c, scale);
  const xEnc = {
    field: 't',
    type: 'temporal',
    scale: { type: 'utc', padding: 10 },
    axis: { title: null, format: '%b %d', formatType: 'utc', labelOverlap: true, tickCount: 6 },
  };

  if (baseline.length > 0) {
    layers.push({
      data: { values: [{ lo: y(Math.min(...baseline)), hi: y(Math.max(...baseline)) }] },
      mark: { type: 'rect', color: COLORS.band, opacity: 0.35 },
      encoding: { y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' } },
    });
    layers.push({
      data: { values: [{ m: y(median(baseline)) }] },
      mark: { type: 'rule', color: COLORS.baseline, strokeDash: [5, 3], strokeWidth: 1.2 },
      encoding: { y: { field: 'm', type: 'quantitative', title: yTitle } },
    });
  }

  const changes = c.changePoints
    .map((cp) => {
      const at = c.history[cp.index];
      const before = c.history[cp.index - 1];
      if (!at) return undefined;
      const t = before ? (before.startedAt.getTime() + at.startedAt.getTime()) / 2 : at.startedAt.getTime();
      return { t, label: changeLabel(cp.relativeChange), right: cp.index > c.history.length / 2 };
    })
    .filter((x): x is { t: number; label: string; right: boolean } => x !== undefined && Number.isFinite(x.t));
  if (changes.length > 0) {
    layers.push({
      data: { values: changes },
      mark: { type: 'rule', color: COLORS.changePoint, strokeWidth: 1.5, strokeDash: [2, 2] },
      encoding: { x: xEnc },
    });
    // Labels sit at the bottom (the candidate's label is at the top) on the inner side of the rule.
    for (const right of [false, true]) {
      const values = changes.filter((x) => x.right === right);
      if (values.length === 0) continue;
      layers.push({
        data: { values },
        mark: {
          type: 'text',
          color: COLORS.changePoint,
          align: right ? 'right' : 'left',
          baseline: 'bottom',
          dx: right ? -4 : 4,
          y: 'height',
          dy: -3,
          fontSize: 10,
          fontWeight: 'bold',
        },
        encoding: { x: xEnc, text: { field: 'label' } },
      });
    }
  }

  layers.push({
    data: { values: runs },
    mark: { type: 'line', color: COLORS.history, strokeWidth: 1.5, point: { filled: true, size: 28, color: COLORS.history } },
    encoding: { x: xEnc, y: { field: 'v', type: 'quantitative', title: yTitle, scale: { zero: false, padding: 8 } } },
  });

  if (last && Number.isFinite(c.candidateValue)) {
    const cand = [{ t: candidateT, v: y(c.candidateValue) }];
    layers.push({
      data: { values: cand },
      mark: { type: 'point', filled: true, size: 130, color: verdictColor(c), stroke: 'white', strokeWidth: 1.5, opacity: 1 },
      encoding: { x: xEnc, y: { field: 'v', type: 'quantitative', title: yTitle } },
    });
    layers.push({
      data: { values: cand },
      mark: { type: 'text', text: 'candidate', color: verdictColor(c), align: 'right', dx: -9, dy: -9, fontSize: 10, fontWeight: 'bold' },
      encoding: { x: xEnc, y: { field: 'v', type: 'quantitative', title: yTitle } },
    });
  }

  return {
    width: 470,
    height: 190,
    config: CONFIG,
    layer: layers,
  } as unknown as TopLevelSpec;
}

function changeLabel(fraction: number): string {
  if (!Number.isFinite(fraction)) return 'shift';
  const pct = Math.round(fraction * 100);
  return `shift ${pct >= 0 ? '+' : '−'}${Math.abs(pct)}%`;
}

/**
 * (b) Baseline vs candidate: per-request samples as box plots when both sides have them,
 * otherwise the baseline run values (box + points) against the candidate value.
 */
export function distributionSpec(c: KpiComparison): TopLevelSpec {
  const hasSamples = (c.baselineSamples?.length ?? 0) > 0 && (c.candidateSamples?.length ?? 0) > 0;
  const color = verdictColor(c);
  if (hasSamples) {
    const base = c.baselineSamples ?? [];
    const cand = c.candidateSamples ?? [];
    const scale = displayScale(c.unit, [quantile(base, 0.99), quantile(cand, 0.99)]);
    // Short labels: Node has no font metrics, and Vega reserves room for an overestimate.
    const baseLabel = 'baseline';
    const candLabel = 'candidate';
    const values = [
      ...thin(base).map((v) => ({ g: baseLabel, v: v * scale.factor })),
      ...thin(cand).map((v) => ({ g: candLabel, v: v * scale.factor })),
    ];
    return {
      width: 280,
      height: 150,
      config: CONFIG,
      data: { values },
      mark: { type: 'boxplot', extent: 1.5, size: 34, median: { color: 'white', strokeWidth: 2 }, outliers: { size: 10, opacity: 0.35 } },
      encoding: {
        y: { field: 'g', type: 'nominal', sort: [baseLabel, candLabel], axis: { title: null, labelLimit: 200 } },
        x: { field: 'v', type: 'quantitative', title: `per-request ${axisTitle(c, scale)}`, scale: { zero: false } },
        color: { field: 'g', type: 'nominal', scale: { domain: [baseLabel, candLabel], range: [COLORS.baseline, color] } },
      },
    } as unknown as TopLevelSpec;
  }

  const baseline = c.baselineValues.filter((v) => Number.isFinite(v));
  const scale = displayScale(c.unit, [...baseline, c.candidateValue]);
  const baseLabel = 'baseline';
  const candLabel = 'candidate';
  const points = [
    ...baseline.map((v) => ({ g: baseLabel, v: v * scale.factor })),
    ...(Number.isFinite(c.candidateValue) ? [{ g: candLabel, v: c.candidateValue * scale.factor }] : []),
  ];
  const yEnc = { field: 'g', type: 'nominal', sort: [baseLabel, candLabel], scale: { domain: [baseLabel, candLabel] }, axis: { title: null, labelLimit: 200 } };
  const xEnc = { field: 'v', type: 'quantitative', title: axisTitle(c, scale), scale: { zero: false } };
  const layers: object[] = [];
  if (baseline.length >= 3) {
    layers.push({
      transform: [{ filter: { field: 'g', equal: baseLabel } }],
      mark: { type: 'boxplot', extent: 'min-max', size: 30, color: COLORS.band, opacity: 0.6, median: { color: COLORS.baseline, strokeWidth: 2 }, rule: { color: COLORS.baseline } },
      encoding: { y: yEnc, x: xEnc },
    });
  }
  layers.push({
    mark: { type: 'point', filled: true, opacity: 0.9 },
    encoding: {
      y: yEnc,
      x: xEnc,
      color: { field: 'g', type: 'nominal', scale: { domain: [baseLabel, candLabel], range: [COLORS.baseline, color] } },
      size: { field: 'g', type: 'nominal', scale: { domain: [baseLabel, candLabel], range: [40, 140] } },
      shape: { field: 'g', type: 'nominal', scale: { domain: [baseLabel, candLabel], range: ['circle', 'diamond'] } },
    },
  });
  return {
    width: 280,
    height: 110,
    config: CONFIG,
    data: { values: points },
    layer: layers,
  } as unknown as TopLevelSpec;
}

/** Both charts of one comparison; `idPrefix` must be unique within the page. */
export async function renderKpiCharts(c: KpiComparison, idPrefix: string): Promise<KpiCharts> {
  const [history, distribution] = await Promise.all([
    renderSvg(historySpec(c), `${idPrefix}-h`),
    renderSvg(distributionSpec(c), `${idPrefix}-d`),
  ]);
  return { history, distribution };
}
