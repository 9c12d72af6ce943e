// The Markdown report: short enough for a PR comment, worst news first.

import {
  OPTIMIZATION_GUIDE,
  REGRESSION_GUIDE,
  changePhrase,
  changePointNotes,
  ciLevel,
  endpointLabel,
  escapeMarkdown,
  formatChange,
  formatCi,
  formatDate,
  formatDuration,
  formatPValue,
  formatValue,
  groupByVerdict,
  headline,
  hints,
  markdownCode,
  baselineValueOf,
  settingsNote,
  shortSha,
  testLabel,
  type Inline,
} from './format.js';
import type { ComparisonReport, KpiComparison } from './types.js';

const TABLE_HEADER = [
  '| KPI | Endpoint | Baseline | Candidate | Change | CI | p-value | Test |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
];

function tableRow(c: KpiComparison): string {
  const cells = [
    escapeMarkdown(c.label),
    c.endpoint === '' ? '_whole run_' : markdownCode(c.endpoint, { inTable: true }),
    escapeMarkdown(formatValue(c.unit, baselineValueOf(c))),
    escapeMarkdown(formatValue(c.unit, c.candidateValue)),
    c.verdict === 'unchanged' ? formatChange(c.relativeChange) : `**${formatChange(c.relativeChange)}**`,
    formatCi(c.ci),
    // formatPValue's "< 0.001" is no tag (a space follows the '<'), so it needs no escaping.
    formatPValue(c.pValue),
    testLabel(c.test, c.statistic),
  ];
  return `| ${cells.join(' | ')} |`;
}

function inline(parts: Inline[]): string {
  return parts.map((p) => (typeof p === 'string' ? escapeMarkdown(p) : markdownCode(p.code))).join('');
}

function subject(c: KpiComparison): string {
  return c.endpoint === ''
    ? `${escapeMarkdown(c.label)} of the whole run`
    : `${escapeMarkdown(c.label)} of ${markdownCode(c.endpoint)}`;
}

export function renderMarkdown(report: ComparisonReport): string {
  const head = headline(report);
  const groups = groupByVerdict(report);
  const { candidate } = report;
  const lines: string[] = [];

  const status = head.regressed > 0 ? 'FAIL' : 'PASS';
  lines.push(`## Performance regression report: ${status} (${head.counts})`, '');

  if (head.worst) {
    const w = head.worst;
    const p = changePhrase(w);
    lines.push(
      `**Worst regression:** ${subject(w)} ${p.verb} **${p.change}** (${escapeMarkdown(p.fromTo)}; ` +
        `${ciLevel(w.alpha)} CI ${formatCi(w.ci)}, p ${pValueWithRelation(w.pValue)}, ${testLabel(w.test, w.statistic)}).`,
      '',
    );
  } else if (report.comparisons.length === 0) {
    lines.push('No KPIs were compared.', '');
  } else {
    lines.push('**No regressions.**', '');
  }

  lines.push(
    `Candidate ${markdownCode(candidate.testid)}: scenario ${markdownCode(candidate.scenario)}, ` +
      `branch ${markdownCode(candidate.branch)} at ${markdownCode(shortSha(candidate.gitSha))}, ` +
      `${markdownCode(candidate.environment)}, k6 ${markdownCode(candidate.k6Version)}, ` +
      `started ${formatDate(candidate.startedAt)} ` +
      `(${formatDuration(candidate.endedAt.getTime() - candidate.startedAt.getTime())}).  `,
    `Baseline: ${escapeMarkdown(report.baseline.description)} (${report.baseline.runs.length} ` +
      `run${report.baseline.runs.length === 1 ? '' : 's'}).`,
    '',
  );

  for (const group of groups) {
    if (group.comparisons.length === 0) continue;
    const table = [...TABLE_HEADER, ...group.comparisons.map(tableRow)];
    if (group.verdict === 'insufficient data') {
      lines.push(
        `### ${group.title} (${group.comparisons.length})`,
        '',
        ...group.comparisons.map((c) => `- ${subject(c)}: missing ${escapeMarkdown(c.missing ?? 'data')}.`),
        '',
      );
    } else if (group.verdict === 'unchanged') {
      // Collapsed: unchanged KPIs are rarely what a reviewer came for.
      lines.push(
        '<details>',
        `<summary>${group.title} (${group.comparisons.length})</summary>`,
        '',
        ...table,
        '',
        '</details>',
        '',
      );
    } else {
      lines.push(`### ${group.title} (${group.comparisons.length})`, '', ...table, '');
    }
  }

  const notes = changePointNotes(report);
  if (notes.length > 0) {
    lines.push('### Change points in the history', '');
    for (const n of notes) {
      const where =
        n.runsBeforeCandidate === 0
          ? 'at this run'
          : `${n.runsBeforeCandidate} run${n.runsBeforeCandidate === 1 ? '' : 's'} before this one`;
      const when = n.startedAt ? `, ${formatDate(n.startedAt)}` : '';
      lines.push(
        `- ${subject(n.comparison)}: ${n.kind === 'drift' ? 'a gradual drift' : n.kind === 'transient' ? 'a transient shift' : 'a step'} of **${formatChange(n.relativeChange)}** starting at run ` +
          `${markdownCode(n.testid)} (${where}${when}; p ${pValueWithRelation(n.pValue)}).`,
      );
    }
    lines.push('');
  }

  const hintList = hints(report);
  if (hintList.length > 0) {
    lines.push('### What to do', '');
    for (const h of hintList) {
      const affected = h.affected.map((c) => `${escapeMarkdown(c.label)} (${escapeMarkdown(endpointLabel(c.endpoint))})`);
      lines.push(`**${escapeMarkdown(h.title)}**: ${affected.join(', ')}`, '');
      h.steps.forEach((step, i) => lines.push(`${i + 1}. ${inline(step)}`));
      lines.push('');
    }
    lines.push(
      `Triage steps: ${markdownCode(REGRESSION_GUIDE)}. Common fixes: ${markdownCode(OPTIMIZATION_GUIDE)}.`,
      '',
    );
  }

  const note = settingsNote(report);
  lines.push(`<sub>${note ? `${escapeMarkdown(note)} ` : ''}Generated ${formatDate(report.generatedAt)} by perfstack.</sub>`);
  return `${lines.join('\n')}\n`;
}

/** "= 0.012" or "< 0.001", so the sentence reads "p < 0.001" rather than "p = < 0.001". */
export function pValueWithRelation(p: number): string {
  const text = formatPValue(p);
  return text.startsWith('<') ? text : `= ${text}`;
}
