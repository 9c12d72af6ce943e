// The report as Markdown: summary table, where the time goes, each finding with its evidence and
// recommendation, then what was checked without a finding, and what could not be measured.

import { fmtDuration, fmtPercent, fmtRate, fmtSeconds } from './format.js';
import { FINDING_CATALOGUE, PLAYBOOK_PATH, playbookAnchor, type AnalysisReport, type Evidence, type Finding } from './types.js';

/** Rows of the route table: enough for every route of a service like the reference one. */
const MAX_ROUTE_ROWS = 30;

const SEVERITY_LABEL = { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' } as const;

/** Inline code that survives backticks inside it. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return fence.length > 1 || text.startsWith('`') || text.endsWith('`') ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function evidenceLines(evidence: Evidence, playbookPrefix: string): string[] {
  void playbookPrefix;
  switch (evidence.kind) {
    case 'promql':
      return [`- ${code(evidence.query)} → ${evidence.value}`];
    case 'note':
      return [`- ${evidence.text}`];
    case 'sql': {
      const result = evidence.result.includes('\n') ? ['', '  ```', ...evidence.result.split('\n').map((l) => `  ${l}`), '  ```'] : [` → ${code(evidence.result)}`];
      if (result.length === 1) return [`- ${code(evidence.statement)}${result[0]}`];
      return [`- ${code(evidence.statement)}:`, ...result.slice(1)];
    }
  }
}

function findingBlock(finding: Finding, index: number, playbook: string): string[] {
  const entry = FINDING_CATALOGUE[finding.check];
  return [
    `### ${index}. [${SEVERITY_LABEL[finding.severity]}] ${finding.title}`,
    '',
    'Evidence:',
    '',
    ...finding.evidence.flatMap((e) => evidenceLines(e, playbook)),
    '',
    `**Recommendation:** ${finding.recommendation}`,
    '',
    `Playbook: [${entry.title}](${playbook}#${playbookAnchor(entry.title)})`,
    '',
  ];
}

export interface RenderOptions {
  /** Link to the playbook; default the repository path docs/performance_optimization_guide.md. */
  playbookUrl?: string;
}

export function renderAnalysisMarkdown(report: AnalysisReport, options: RenderOptions = {}): string {
  const playbook = options.playbookUrl ?? PLAYBOOK_PATH;
  const out: string[] = [];
  out.push('# Bottleneck analysis', '');
  out.push(`- Range: ${report.start} → ${report.end} (${fmtDuration(report.rangeSeconds)})${report.testid ? `, k6 run ${code(report.testid)}` : ''}`);
  out.push(`- Prometheus: ${report.prometheusUrl}`);
  out.push(`- Database evidence: ${report.database === 'not given' ? 'not given (pass --database-url for statement texts, plans and table sizes)' : report.database}`);
  out.push(`- Generated: ${report.generatedAt}`, '');

  const counts = (['critical', 'warning', 'info'] as const).map((s) => `${report.findings.filter((f) => f.severity === s).length} ${s}`);
  out.push('## Summary', '');
  if (report.findings.length === 0) {
    out.push('No findings: every check below either passed or could not be measured (see "Not measured").', '');
  } else {
    out.push(`${report.findings.length} findings: ${counts.join(', ')}.`, '');
    out.push('| # | severity | finding |', '| --- | --- | --- |');
    report.findings.forEach((f, i) => out.push(`| ${i + 1} | ${f.severity} | ${cell(f.title)} |`));
    out.push('');
  }

  out.push('## Where the time goes', '');
  if (report.routes.length === 0) {
    out.push('Not measured: no HTTP requests of the configured services in the range.', '');
  } else {
    out.push('Request time per route (rate of the `_sum` of the request-duration histogram), most first.', '');
    out.push('| route | service | requests | requests/s | mean | p95 | share of request time |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of report.routes.slice(0, MAX_ROUTE_ROWS)) {
      out.push(
        `| ${cell(r.route)} | ${cell(r.service ?? `(job ${r.job})`)} | ${r.requests === undefined ? 'n/a' : String(r.requests)} | ${fmtRate(r.requestsPerSecond, '')} | ${r.meanSeconds === undefined ? 'n/a' : fmtSeconds(r.meanSeconds)} | ${r.p95Seconds === undefined ? 'n/a' : fmtSeconds(r.p95Seconds)} | ${fmtPercent(r.share)} |`,
      );
    }
    if (report.routes.length > MAX_ROUTE_ROWS) out.push('', `… and ${report.routes.length - MAX_ROUTE_ROWS} more routes.`);
    out.push('');
    const dbShare = report.sections.find((s) => s.check === 'db-share');
    const shareLines = [...(dbShare?.findings.flatMap((f) => f.evidence) ?? []), ...(dbShare?.measured ?? [])].filter((e) => e.kind === 'promql');
    if (shareLines.length) {
      out.push('Database and pool-wait share of that time:', '');
      for (const e of shareLines) out.push(...evidenceLines(e, playbook));
      out.push('');
    }
  }

  out.push(...profileBlock(report), ...explainBlock(report));

  out.push('## Findings', '');
  if (report.findings.length === 0) out.push('None.', '');
  report.findings.forEach((f, i) => out.push(...findingBlock(f, i + 1, playbook)));

  out.push('## Checked, no finding', '');
  const ok = report.sections.filter((s) => s.findings.length === 0 && s.status === 'ok');
  if (ok.length === 0) out.push('None.', '');
  for (const section of ok) {
    out.push(`**${section.name}**: no finding (${FINDING_CATALOGUE[section.check].looksAt}).`, '');
    for (const e of section.measured) out.push(...evidenceLines(e, playbook));
    out.push('');
  }
  const partly = report.sections.filter((s) => s.findings.length > 0 && s.measured.length > 0);
  for (const section of partly) {
    out.push(`**${section.name}** (besides its findings above):`, '');
    for (const e of section.measured) out.push(...evidenceLines(e, playbook));
    out.push('');
  }

  out.push('## Not measured', '');
  const missing = report.sections.filter((s) => s.notMeasured.length > 0 || s.status === 'not-measured');
  if (missing.length === 0) out.push('Everything was measured.', '');
  for (const section of missing) {
    const whole = section.status === 'not-measured';
    out.push(`**${section.name}**${whole ? ': not measured — not a sign of health' : ': partly measured'}.`, '');
    for (const e of section.notMeasured) out.push(...evidenceLines(e, playbook));
    out.push('');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** --profile: the flame graph and the top functions, or why the profile is not linked. */
function profileBlock(report: AnalysisReport): string[] {
  const profile = report.profile;
  if (!profile) return [];
  const out = ['## CPU profile', ''];
  if (!profile.cpuBound) return [...out, `Profile in ${profile.dir} ${profile.note}.`, ''];
  out.push(`${profile.note[0]!.toUpperCase()}${profile.note.slice(1)}: flame graph [${profile.flameGraph}](${encodeURI(`file://${profile.flameGraph}`)}).`, '');
  out.push('| self time | share | function | where |', '| ---: | ---: | --- | --- |');
  for (const f of profile.top) out.push(`| ${f.selfMs.toFixed(1)} ms | ${fmtPercent(f.selfShare)} | ${cell(f.name)} | ${cell(f.location)} |`);
  out.push('');
  return out;
}

/** --explain: one plan per statement, or why there is none. */
function explainBlock(report: AnalysisReport): string[] {
  const explains = report.explains;
  if (!explains) return [];
  const out = ['## Statement plans', ''];
  if (explains.length === 0) return [...out, 'No SELECT statements in pg_stat_statements.', ''];
  out.push('The slowest SELECT statements by mean execution time (pg_stat_statements), each on a read-only connection inside BEGIN READ ONLY … ROLLBACK.', '');
  explains.forEach((e, i) => {
    out.push(`### Statement ${i + 1}: ${fmtSeconds(e.meanSeconds)} mean, ${e.calls} calls`, '', '```sql', e.query.trim(), '```', '', `${e.note}.`, '');
    if (e.plan) out.push('```', e.plan, '```', '');
  });
  return out;
}
