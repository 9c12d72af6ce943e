// The HTML report: the Markdown report's content plus two charts per KPI, in one
// self-contained file (inline CSS and SVG, no scripts, no external resources).

import { COLORS, renderKpiCharts, type KpiCharts } from './charts.js';
import {
  OPTIMIZATION_GUIDE,
  REGRESSION_GUIDE,
  changePhrase,
  changePointNotes,
  ciLevel,
  endpointLabel,
  escapeHtml,
  formatChange,
  formatCi,
  formatDate,
  formatDuration,
  formatPValue,
  formatValue,
  groupByVerdict,
  headline,
  hints,
  baselineValueOf,
  orderedComparisons,
  settingsNote,
  shortSha,
  testLabel,
  type Inline,
} from './format.js';
import type { ComparisonReport, KpiComparison } from './types.js';

/** With at most this many comparisons every KPI gets charts; beyond it only changed ones. */
export const PLOT_ALL_LIMIT = 20;

/** The comparisons that get charts, in report order. */
export function plottedComparisons(report: ComparisonReport): KpiComparison[] {
  const ordered = orderedComparisons(report);
  return ordered.length <= PLOT_ALL_LIMIT ? ordered : ordered.filter((c) => c.verdict !== 'unchanged');
}

const h = escapeHtml;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function pText(p: number): string {
  const text = formatPValue(p);
  return text.startsWith('<') ? h(text) : `= ${h(text)}`;
}

function code(text: string): string {
  return `<code>${h(text)}</code>`;
}

function inline(parts: Inline[]): string {
  return parts.map((p) => (typeof p === 'string' ? h(p) : code(p.code))).join('');
}

function subject(c: KpiComparison): string {
  return c.endpoint === '' ? `${h(c.label)} of the whole run` : `${h(c.label)} of ${code(c.endpoint)}`;
}

function title(c: KpiComparison): string {
  return `${h(c.label)} · ${c.endpoint === '' ? 'whole run' : h(c.endpoint)}`;
}

function table(comparisons: KpiComparison[], anchors: Map<KpiComparison, string>): string {
  const rows = comparisons.map((c) => {
    const anchor = anchors.get(c);
    const kpi = anchor ? `<a href="#${anchor}">${h(c.label)}</a>` : h(c.label);
    return (
      `<tr class="${c.verdict.replace(' ', '-')}"><td>${kpi}</td>` +
      `<td>${c.endpoint === '' ? '<em>whole run</em>' : code(c.endpoint)}</td>` +
      `<td class="num">${h(formatValue(c.unit, baselineValueOf(c)))}</td>` +
      `<td class="num">${h(formatValue(c.unit, c.candidateValue))}</td>` +
      `<td class="num change">${h(formatChange(c.relativeChange))}</td>` +
      `<td class="num">${h(formatCi(c.ci))}</td>` +
      `<td class="num">${h(formatPValue(c.pValue))}</td>` +
      `<td>${h(testLabel(c.test, c.statistic))}${c.missing ? ` (missing ${h(c.missing)})` : ''}</td></tr>`
    );
  });
  return (
    '<table><thead><tr><th>KPI</th><th>Endpoint</th><th class="num">Baseline</th>' +
    '<th class="num">Candidate</th><th class="num">Change</th><th class="num">CI</th>' +
    '<th class="num">p-value</th><th>Test</th></tr></thead>\n<tbody>\n' +
    rows.join('\n') +
    '\n</tbody></table>'
  );
}

function kpiSection(c: KpiComparison, anchor: string, charts: KpiCharts): string {
  const p = changePhrase(c);
  const hasSamples = (c.baselineSamples?.length ?? 0) > 0 && (c.candidateSamples?.length ?? 0) > 0;
  const band = c.baselineValues.length > 0 ? ', shaded band: baseline runs min–max, dashed line: their median' : '';
  const cps = c.changePoints.some((cp) => c.history[cp.index] !== undefined) ? ', orange rules: change points' : '';
  const historyCaption =
    c.history.length === 0
      ? 'No history recorded for this KPI.'
      : `History: ${plural(c.history.length, 'run')}, candidate last${band}${cps}.`;
  return `<section class="kpi ${c.verdict.replace(' ', '-')}" id="${anchor}">
<h3><span class="badge ${c.verdict.replace(' ', '-')}">${c.verdict}</span> ${title(c)}</h3>
<p class="summary">${h(p.change)} (${h(p.fromTo)}), ${h(ciLevel(c.alpha))} CI ${h(formatCi(c.ci))}, p ${pText(c.pValue)}, ${h(testLabel(c.test, c.statistic))}.</p>
<div class="charts">
<figure class="history">${charts.history}<figcaption>${historyCaption}</figcaption></figure>
<figure class="distribution">${charts.distribution}<figcaption>${
    hasSamples
      ? `Per-request samples: ${c.baselineSamples?.length ?? 0} from the baseline runs, ${c.candidateSamples?.length ?? 0} from the candidate (box: quartiles, whiskers: 1.5 IQR).`
      : c.baselineValues.length === 1
        ? 'KPI value of the one baseline run vs the candidate run.'
        : `KPI value of each of the ${c.baselineValues.length} baseline runs vs the candidate run.`
  }</figcaption></figure>
</div>
</section>`;
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eff1f3; padding: 1px 4px; border-radius: 4px; word-break: break-all; }
.headline { font-size: 16px; margin: 8px 0; }
.status { display: inline-block; font-weight: 700; padding: 2px 10px; border-radius: 12px; color: #fff; margin-right: 8px; }
.status.fail { background: ${COLORS.regressed}; }
.status.pass { background: ${COLORS.improved}; }
.worst { border-left: 4px solid ${COLORS.regressed}; background: #fdecea; padding: 8px 12px; margin: 12px 0; }
.meta { color: #57606a; margin: 4px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.regressed td.change { color: ${COLORS.regressed}; font-weight: 700; }
tr.improved td.change { color: ${COLORS.improved}; font-weight: 700; }
a { color: #0969da; text-decoration: none; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; padding: 1px 7px; border-radius: 10px; color: #fff; vertical-align: 1px; }
.badge.regressed { background: ${COLORS.regressed}; }
.badge.improved { background: ${COLORS.improved}; }
.badge.unchanged { background: ${COLORS.unchanged}; }
.badge.insufficient-data { background: ${COLORS['insufficient data']}; }
section.kpi { border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 14px; margin: 14px 0; }
section.kpi.regressed { border-left: 4px solid ${COLORS.regressed}; }
section.kpi.improved { border-left: 4px solid ${COLORS.improved}; }
.summary { margin: 0 0 8px; color: #333; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; display: table; }
figure > svg { display: block; }
figcaption { display: table-caption; caption-side: bottom; font-size: 12px; color: #57606a; padding-top: 2px; }
ol { margin: 4px 0 12px; padding-left: 22px; }
footer { margin-top: 28px; color: #57606a; font-size: 12px; }
`;

export async function renderHtml(report: ComparisonReport): Promise<string> {
  const head = headline(report);
  const groups = groupByVerdict(report);
  const { candidate } = report;

  const plotted = plottedComparisons(report);
  const anchors = new Map<KpiComparison, string>(plotted.map((c, i) => [c, `kpi-${i + 1}`]));
  // Sequential, so the output does not depend on scheduling.
  const charts: KpiCharts[] = [];
  for (const [i, c] of plotted.entries()) charts.push(await renderKpiCharts(c, `kpi${i + 1}`));

  const out: string[] = [];
  const status = head.regressed > 0 ? 'FAIL' : 'PASS';
  out.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>perfstack regression report: ${h(candidate.testid)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    '<h1>Performance regression report</h1>',
    `<p class="headline" id="headline"><span class="status ${status.toLowerCase()}">${status}</span>${h(head.counts)}</p>`,
  );

  if (head.worst) {
    const w = head.worst;
    const p = changePhrase(w);
    out.push(
      `<p class="worst"><strong>Worst regression:</strong> ${subject(w)} ${h(p.verb)} <strong>${h(p.change)}</strong> ` +
        `(${h(p.fromTo)}; ${h(ciLevel(w.alpha))} CI ${h(formatCi(w.ci))}, p ${pText(w.pValue)}, ${h(testLabel(w.test, w.statistic))}).</p>`,
    );
  } else if (report.comparisons.length === 0) {
    out.push('<p>No KPIs were compared.</p>');
  } else {
    out.push('<p><strong>No regressions.</strong></p>');
  }

  out.push(
    `<p class="meta">Candidate ${code(candidate.testid)}: scenario ${code(candidate.scenario)}, branch ${code(candidate.branch)} ` +
      `at ${code(shortSha(candidate.gitSha))}, ${code(candidate.environment)}, k6 ${code(candidate.k6Version)}, ` +
      `started ${h(formatDate(candidate.startedAt))} (${h(formatDuration(candidate.endedAt.getTime() - candidate.startedAt.getTime()))}).</p>`,
    `<p class="meta">Baseline: ${h(report.baseline.description)} (${report.baseline.runs.length} run${report.baseline.runs.length === 1 ? '' : 's'}).</p>`,
  );

  for (const group of groups) {
    if (group.comparisons.length === 0) continue;
    out.push(`<h2 id="${group.verdict.replace(' ', '-')}">${h(group.title)} (${group.comparisons.length})</h2>`, table(group.comparisons, anchors));
  }

  const notes = changePointNotes(report);
  if (notes.length > 0) {
    out.push('<h2 id="change-points">Change points in the history</h2>', '<ul>');
    for (const n of notes) {
      const where =
        n.runsBeforeCandidate === 0
          ? 'at this run'
          : `${n.runsBeforeCandidate} run${n.runsBeforeCandidate === 1 ? '' : 's'} before this one`;
      const when = n.startedAt ? `, ${h(formatDate(n.startedAt))}` : '';
      out.push(
        `<li>${subject(n.comparison)}: ${n.kind === 'drift' ? 'a gradual drift' : n.kind === 'transient' ? 'a transient shift' : 'a step'} of <strong>${h(formatChange(n.relativeChange))}</strong> starting at run ` +
          `${code(n.testid)} (${where}${when}; p ${pText(n.pValue)}).</li>`,
      );
    }
    out.push('</ul>');
  }

  const hintList = hints(report);
  if (hintList.length > 0) {
    out.push('<h2 id="what-to-do">What to do</h2>');
    for (const hint of hintList) {
      const affected = hint.affected.map((c) => `${h(c.label)} (${h(endpointLabel(c.endpoint))})`);
      out.push(
        `<p><strong>${h(hint.title)}</strong>: ${affected.join(', ')}</p>`,
        `<ol>${hint.steps.map((s) => `<li>${inline(s)}</li>`).join('')}</ol>`,
      );
    }
    out.push(`<p>Triage steps: ${code(REGRESSION_GUIDE)}. Common fixes: ${code(OPTIMIZATION_GUIDE)}.</p>`);
  }

  if (plotted.length > 0) {
    out.push('<h2 id="charts">Charts</h2>');
    const skipped = report.comparisons.length - plotted.length;
    if (skipped > 0) out.push(`<p class="meta">${skipped} unchanged KPIs are not plotted.</p>`);
    plotted.forEach((c, i) => out.push(kpiSection(c, anchors.get(c) ?? `kpi-${i + 1}`, charts[i] ?? { history: '', distribution: '' })));
  }

  const note = settingsNote(report);
  out.push(
    '<footer>',
    note ? `<p>${h(note)}</p>` : '',
    `<p>Baseline runs: ${report.baseline.runs.map(code).join(' ')}</p>`,
    `<p>Generated ${h(formatDate(report.generatedAt))} by perfstack.</p>`,
    '</footer>',
    '</main></body>',
    '</html>',
  );
  return `${out.filter((l) => l !== '').join('\n')}\n`;
}
