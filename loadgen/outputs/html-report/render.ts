// The run report: one self-contained HTML document (inline CSS and SVG, no scripts, no
// external resources, a Content-Security-Policy that forbids loading any) describing one run:
// header, verdict, thresholds, charts over time, checks and the end-of-test metrics.

import { COLORS, prepareTimeline, renderCharts, type RenderedChart } from './charts.js';
import {
  escapeHtml as h,
  formatBytes,
  formatDate,
  formatDuration,
  formatMs,
  formatNumber,
  formatRatio,
  formatUnit,
  plural,
  shortSha,
} from './format.js';
import type { CheckResult, ReportInput, SummaryRow, ThresholdResult } from './types.js';

/** Summary value keys in k6's order; any others follow, sorted. */
const VALUE_ORDER = ['count', 'rate', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'value', 'passes', 'fails'];

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 2px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eff1f3; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 14px; color: #57606a; }
dl.meta dt { font-weight: 600; color: #1f2328; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.verdict { border-radius: 6px; padding: 10px 14px; margin: 12px 0; font-size: 16px; font-weight: 600; border-left: 6px solid; }
.verdict.pass { background: #e8f5e9; border-color: ${COLORS.pass}; color: #1b5e20; }
.verdict.fail { background: #fdecea; border-color: ${COLORS.fail}; color: #8e1b1b; }
.verdict.none { background: #eceff1; border-color: ${COLORS.neutral}; color: #263238; }
.verdict .detail { display: block; font-size: 13px; font-weight: normal; margin-top: 2px; }
ul.notes { margin: 8px 0; padding-left: 22px; color: #57606a; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.name { overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; padding: 1px 7px; border-radius: 10px; color: #fff; }
.badge.ok { background: ${COLORS.pass}; }
.badge.fail { background: ${COLORS.fail}; }
tr.fail td { background: #fdf3f2; }
tr.fail td.measured { color: ${COLORS.fail}; font-weight: 700; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 18px 16px; }
figure.chart { margin: 0; min-width: 0; }
figure.chart > svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #57606a; padding-top: 2px; }
.empty { color: #57606a; font-style: italic; border: 1px dashed #d0d7de; border-radius: 6px; padding: 16px; margin: 4px 0; }
footer { margin-top: 28px; color: #57606a; font-size: 12px; }
`;

function code(text: string): string {
  return `<code>${h(text)}</code>`;
}

function safeNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

function header(input: ReportInput): string {
  const sha = String(input.gitSha ?? '');
  const rows: Array<[string, string]> = [
    ['Scenario', code(input.scenario)],
    ['Test ID', code(input.testid)],
    ['Git SHA', sha === '' ? '—' : `<code title="${h(sha)}">${h(shortSha(sha))}</code>`],
    ['Started', h(formatDate(String(input.startedAt ?? '')))],
    ['Duration', h(formatDuration(safeNumber(input.durationMs)))],
  ];
  return `<dl class="meta" id="run-meta">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function verdict(thresholds: ThresholdResult[]): string {
  const failed = thresholds.filter((t) => !t.ok);
  if (thresholds.length === 0) {
    return '<div class="verdict none" id="verdict" role="status">No thresholds were defined for this run.</div>';
  }
  if (failed.length === 0) {
    const what = thresholds.length === 1 ? 'The threshold passed' : `All ${formatNumber(thresholds.length)} thresholds passed`;
    return `<div class="verdict pass" id="verdict" role="status">✔ ${what}.</div>`;
  }
  const keys = [...new Set(failed.map((t) => t.key))];
  return (
    `<div class="verdict fail" id="verdict" role="alert">✘ ${formatNumber(failed.length)} of ${plural(thresholds.length, 'threshold')} failed.` +
    `<span class="detail">Failed on ${keys.map(code).join(', ')}.</span></div>`
  );
}

function thresholdsTable(thresholds: ThresholdResult[]): string {
  if (thresholds.length === 0) return '<p class="empty">No thresholds were defined.</p>';
  const rows = thresholds.map(
    (t) =>
      `<tr class="${t.ok ? 'ok' : 'fail'}"><td><span class="badge ${t.ok ? 'ok' : 'fail'}">${t.ok ? 'ok' : 'FAIL'}</span></td>` +
      `<td class="name">${code(t.key)}</td><td class="name">${code(t.expression)}</td>` +
      `<td class="num measured">${h(formatUnit(t.unit, typeof t.value === 'number' ? t.value : undefined))}</td></tr>`,
  );
  return (
    '<table id="thresholds-table"><thead><tr><th>Result</th><th>Metric</th><th>Threshold</th><th class="num">Measured</th></tr></thead>\n<tbody>\n' +
    rows.join('\n') +
    '\n</tbody></table>'
  );
}

function chartFigure(c: RenderedChart): string {
  const body = c.svg ?? `<p class="empty">${h(c.empty ?? 'Nothing to plot.')}</p>`;
  return `<figure class="chart" id="chart-${c.id}"><h3>${h(c.title)}</h3>${body}<figcaption>${h(c.caption)}</figcaption></figure>`;
}

function checksTable(checks: CheckResult[]): string {
  if (checks.length === 0) return '<p class="empty">No checks were run.</p>';
  const rows = checks.map((c) => {
    const passes = safeNumber(c.passes);
    const fails = safeNumber(c.fails);
    const total = passes + fails;
    const rate = total > 0 ? formatRatio(passes / total) : '—';
    return (
      `<tr class="${fails > 0 ? 'fail' : 'ok'}"><td class="name">${h(c.name)}</td>` +
      `<td class="num">${h(formatNumber(passes))}</td><td class="num measured">${h(formatNumber(fails))}</td>` +
      `<td class="num">${h(rate)}</td></tr>`
    );
  });
  return (
    '<table id="checks-table"><thead><tr><th>Check</th><th class="num">Passes</th><th class="num">Fails</th><th class="num">Pass rate</th></tr></thead>\n<tbody>\n' +
    rows.join('\n') +
    '\n</tbody></table>'
  );
}

/** Formats one summary value using the metric's type and value kind when the engine gave them. */
function summaryValue(row: SummaryRow, key: string, v: number): string {
  if (row.type === 'rate' && key === 'rate') return formatRatio(v);
  if (row.type === 'rate' && (key === 'passes' || key === 'fails')) return formatNumber(v);
  if (row.type === 'counter' && key === 'rate') {
    return row.contains === 'data' ? `${formatBytes(v)}/s` : `${formatNumber(v)}/s`;
  }
  if (row.contains === 'time' && key !== 'count') return formatMs(v);
  if (row.contains === 'data' && key !== 'rate') return formatBytes(v);
  return formatNumber(v);
}

function metricsTable(rows: SummaryRow[]): string {
  if (rows.length === 0) return '<p class="empty">No metrics were recorded.</p>';
  const present = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.values ?? {})) present.add(k);
  const keys = [
    ...VALUE_ORDER.filter((k) => present.has(k)),
    ...[...present].filter((k) => !VALUE_ORDER.includes(k)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  ];
  const body = rows.map((r) => {
    const values = r.values ?? {};
    const cells = keys.map((k) => {
      const v = Object.prototype.hasOwnProperty.call(values, k) ? values[k] : undefined;
      return `<td class="num">${typeof v === 'number' ? h(summaryValue(r, k, v)) : ''}</td>`;
    });
    return `<tr><td class="name">${code(r.metric)}</td>${cells.join('')}</tr>`;
  });
  return (
    `<table id="metrics-table"><thead><tr><th>Metric</th>${keys.map((k) => `<th class="num">${h(k)}</th>`).join('')}</tr></thead>\n<tbody>\n` +
    body.join('\n') +
    '\n</tbody></table>'
  );
}

/** Renders the run report as a complete HTML document; the same input gives the same bytes. */
export async function renderRunReport(input: ReportInput): Promise<string> {
  const thresholds = Array.isArray(input.thresholds) ? input.thresholds : [];
  const checks = Array.isArray(input.checks) ? input.checks : [];
  const summaryRows = Array.isArray(input.summaryRows) ? input.summaryRows : [];
  const notes = Array.isArray(input.notes) ? input.notes : [];

  const prep = prepareTimeline(input.timeline ?? { points: [] });
  const charts = prep.buckets.length > 0 ? await renderCharts(prep) : [];

  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(input.title)} · ${h(input.testid)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    `<h1>${h(input.title)}</h1>`,
    header(input),
    verdict(thresholds),
  ];
  if (notes.length > 0) out.push(`<ul class="notes" id="notes">${notes.map((n) => `<li>${h(String(n))}</li>`).join('')}</ul>`);

  out.push('<h2 id="thresholds">Thresholds</h2>', thresholdsTable(thresholds));

  out.push('<h2 id="over-time">Over time</h2>');
  if (charts.length === 0) {
    out.push('<p class="empty" id="no-timeline">No timeline data: the run recorded no intervals (it may have ended before the first one).</p>');
  } else {
    out.push(`<div class="charts">\n${charts.map(chartFigure).join('\n')}\n</div>`);
  }

  out.push('<h2 id="checks">Checks</h2>', checksTable(checks));
  out.push('<h2 id="metrics">Metrics</h2>', metricsTable(summaryRows));
  out.push('<footer><p>Generated by the perfstack load engine.</p></footer>', '</main></body>', '</html>');
  return `${out.join('\n')}\n`;
}
