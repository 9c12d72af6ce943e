// Formatting, ordering and escaping shared by the Markdown and HTML renderers, so both say
// the same thing with the same numbers. Everything here is locale- and time-zone-independent.

import type { KpiUnit, Verdict } from '../kpi.js';
import type { ComparisonReport, KpiComparison } from './types.js';

// ---------------------------------------------------------------------------------------------
// Numbers

/** Median of the values (NaN for none). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Linear-interpolated quantile (type 7), NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

/** A plain number: integers from 100 up, else three significant digits; no exponent. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  const abs = Math.abs(value);
  let text: string;
  if (abs === 0) text = '0';
  else if (abs >= 100) text = Math.round(value).toString();
  else if (abs >= 1e-4) text = trimZeros(value.toPrecision(3));
  else text = trimZeros(value.toFixed(Math.min(20, 2 - Math.floor(Math.log10(abs)))));
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A KPI value in its unit, scaled to something readable: "212 ms", "0.52%", "1234/s". */
export function formatValue(unit: KpiUnit, value: number): string {
  if (!Number.isFinite(value)) return formatNumber(value);
  const abs = Math.abs(value);
  switch (unit) {
    case 'seconds':
      if (abs === 0) return '0 ms';
      if (abs >= 1) return `${formatNumber(value)} s`;
      if (abs >= 1e-3) return `${formatNumber(value * 1e3)} ms`;
      return `${formatNumber(value * 1e6)} µs`;
    case 'ratio':
      return `${formatNumber(value * 100)}%`;
    case 'per-second':
      return `${formatNumber(value)}/s`;
    case 'bytes': {
      let scaled = value;
      let i = 0;
      while (Math.abs(scaled) >= 1024 && i < BYTE_UNITS.length - 1) {
        scaled /= 1024;
        i += 1;
      }
      return `${formatNumber(scaled)} ${BYTE_UNITS[i] ?? 'B'}`;
    }
    case 'count':
      return formatNumber(value);
  }
}

/** One scale for a whole chart axis: values are multiplied by `factor` and labelled `suffix`. */
export interface DisplayScale {
  factor: number;
  /** Axis title suffix, e.g. "ms", "%", "per second". */
  suffix: string;
}

export function displayScale(unit: KpiUnit, values: readonly number[]): DisplayScale {
  const max = values.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  switch (unit) {
    case 'seconds':
      if (max >= 1) return { factor: 1, suffix: 's' };
      if (max >= 1e-3 || max === 0) return { factor: 1e3, suffix: 'ms' };
      return { factor: 1e6, suffix: 'µs' };
    case 'ratio':
      return { factor: 100, suffix: '%' };
    case 'per-second':
      return { factor: 1, suffix: 'per second' };
    case 'bytes': {
      let factor = 1;
      let i = 0;
      while (max * factor >= 1024 && i < BYTE_UNITS.length - 1) {
        factor /= 1024;
        i += 1;
      }
      return { factor, suffix: BYTE_UNITS[i] ?? 'B' };
    }
    case 'count':
      return { factor: 1, suffix: '' };
  }
}

/** A signed percentage of a fraction: 0.1234 → "+12.3%". */
export function formatChange(fraction: number): string {
  if (Number.isNaN(fraction)) return 'n/a';
  if (!Number.isFinite(fraction)) return fraction > 0 ? '+∞' : '−∞';
  const pct = fraction * 100;
  const abs = Math.abs(pct);
  const digits = abs >= 100 ? 0 : 1;
  const text = abs.toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)}%`;
  return `${pct < 0 ? '−' : '+'}${text}%`;
}

export function formatCi(ci: readonly [number, number]): string {
  return `[${formatChange(ci[0])}, ${formatChange(ci[1])}]`;
}

export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  if (p < 0.001) return '< 0.001';
  if (p >= 0.1) return p.toFixed(2);
  return p.toFixed(3);
}

export function testLabel(test: KpiComparison['test'], statistic?: KpiComparison['statistic']): string {
  const of = statistic ? ` of the ${statistic}` : '';
  if (test === 'two-level') return `two-level t${of} (runs, then requests)`;
  if (test === 'run-level') return `t across runs${of}`;
  return test === 'mann-whitney' ? 'Mann-Whitney U' : 'bootstrap';
}

/** The baseline's value of the statistic the verdict compared. */
export function baselineValueOf(c: KpiComparison): number {
  return c.baselineValue ?? median(c.baselineValues);
}

/** Confidence level of the interval, e.g. "95%". */
export function ciLevel(alpha: number): string {
  return `${formatNumber((1 - alpha) * 100)}%`;
}

/** "2025-03-04 09:30 UTC": always UTC, so the output does not depend on the machine. */
export function formatDate(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'unknown time';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'n/a';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m < 60) return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function endpointLabel(endpoint: string): string {
  return endpoint === '' ? 'whole run' : endpoint;
}

export function shortSha(sha: string): string {
  return /^[0-9a-f]{40}$/i.test(sha) ? sha.slice(0, 12) : sha;
}

// ---------------------------------------------------------------------------------------------
// Ordering

/**
 * How much worse the candidate is, as a fraction in the KPI's bad direction: positive is worse.
 * NaN sorts last.
 */
export function badness(c: KpiComparison): number {
  const v = c.direction === 'lower-is-better' ? c.relativeChange : -c.relativeChange;
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}

const VERDICT_ORDER: readonly Verdict[] = ['regressed', 'improved', 'unchanged', 'insufficient data'];

/** Stable tiebreak: label, then endpoint, then KPI key. */
function byName(a: KpiComparison, b: KpiComparison): number {
  return (
    compareStrings(a.label.toLowerCase(), b.label.toLowerCase()) ||
    compareStrings(a.label, b.label) ||
    compareStrings(a.endpoint, b.endpoint) ||
    compareStrings(a.kpi, b.kpi)
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface VerdictGroup {
  verdict: Verdict;
  title: string;
  comparisons: KpiComparison[];
}

/**
 * The comparisons by verdict: regressed worst first, improved best first, unchanged by name.
 * Groups are always all four, possibly empty.
 */
export function groupByVerdict(report: ComparisonReport): VerdictGroup[] {
  return VERDICT_ORDER.map((verdict) => {
    const comparisons = report.comparisons.filter((c) => c.verdict === verdict);
    if (verdict === 'regressed') comparisons.sort((a, b) => badness(b) - badness(a) || byName(a, b));
    else if (verdict === 'improved') comparisons.sort((a, b) => badness(a) - badness(b) || byName(a, b));
    else comparisons.sort(byName);
    const title = verdict === 'regressed' ? 'Regressed' : verdict === 'improved' ? 'Improved' : verdict === 'unchanged' ? 'Unchanged' : 'Insufficient data';
    return { verdict, title, comparisons };
  });
}

/** Every comparison in report order: regressed (worst first), improved, unchanged. */
export function orderedComparisons(report: ComparisonReport): KpiComparison[] {
  return groupByVerdict(report).flatMap((g) => g.comparisons);
}

export interface Headline {
  regressed: number;
  improved: number;
  unchanged: number;
  insufficient: number;
  /** The worst regression, if any. */
  worst: KpiComparison | undefined;
  /** "2 regressed, 1 improved, 5 unchanged" */
  counts: string;
}

export function headline(report: ComparisonReport): Headline {
  const groups = groupByVerdict(report);
  const n = (v: Verdict) => groups.find((g) => g.verdict === v)?.comparisons.length ?? 0;
  const regressed = n('regressed');
  const improved = n('improved');
  const unchanged = n('unchanged');
  const insufficient = n('insufficient data');
  return {
    regressed,
    improved,
    unchanged,
    insufficient,
    worst: groups[0]?.comparisons[0],
    counts: `${regressed} regressed, ${improved} improved, ${unchanged} unchanged${insufficient > 0 ? `, ${insufficient} with insufficient data` : ''}`,
  };
}

/** A short "rose 34.2% (212 ms → 285 ms)" phrase for one comparison. */
export function changePhrase(c: KpiComparison): { verb: string; change: string; fromTo: string } {
  const verb = c.relativeChange > 0 ? 'rose' : c.relativeChange < 0 ? 'fell' : 'stayed';
  return {
    verb,
    change: formatChange(c.relativeChange),
    fromTo: `${formatValue(c.unit, baselineValueOf(c))} → ${formatValue(c.unit, c.candidateValue)}`,
  };
}

/** The distinct alpha / minimum-effect settings, for a footnote. */
export function settingsNote(report: ComparisonReport): string {
  const alphas = [...new Set(report.comparisons.map((c) => c.alpha))].sort((a, b) => a - b);
  const effects = [...new Set(report.comparisons.map((c) => c.minEffect))].sort((a, b) => a - b);
  if (alphas.length === 0) return '';
  const alphaText = alphas.map((a) => formatNumber(a)).join(' / ');
  const levelText = alphas.map((a) => ciLevel(a)).join(' / ');
  const effectText = effects.map((e) => `±${formatNumber(e * 100)}%`).join(' / ');
  const noiseAware = report.comparisons.some((c) => c.threshold !== undefined);
  return (
    `A KPI counts as changed when its test is significant at α = ${alphaText} and the change can reach at ` +
    `least ${effectText}${noiseAware ? ' or the KPI’s run-to-run noise times its noise multiple, whichever is larger' : ''}. ` +
    `Intervals are ${levelText} confidence intervals of the relative change.`
  );
}

// ---------------------------------------------------------------------------------------------
// Change points

export interface ChangePointNote {
  comparison: KpiComparison;
  testid: string;
  startedAt: Date | undefined;
  /** 0 when the change point is the candidate itself. */
  runsBeforeCandidate: number;
  relativeChange: number;
  pValue: number;
  kind: 'step' | 'drift' | 'transient';
}

export function changePointNotes(report: ComparisonReport): ChangePointNote[] {
  return orderedComparisons(report).flatMap((c) =>
    [...c.changePoints]
      // An index outside the history names no run; there is nothing to point the reader at.
      .filter((cp) => Number.isInteger(cp.index) && cp.index >= 0 && cp.index < c.history.length)
      .sort((a, b) => a.index - b.index)
      .map((cp) => {
        const point = c.history[cp.index];
        return {
          comparison: c,
          testid: point?.testid ?? `#${cp.index}`,
          startedAt: point?.startedAt,
          runsBeforeCandidate: Math.max(0, c.history.length - 1 - cp.index),
          relativeChange: cp.relativeChange,
          pValue: cp.pValue,
          kind: cp.kind ?? 'step',
        };
      }),
  );
}

// ---------------------------------------------------------------------------------------------
// What to do

/** Rich text: plain strings and code spans, escaped differently by each renderer. */
export type Inline = string | { code: string };

export interface Hint {
  kind: 'latency' | 'errors' | 'throughput' | 'web-vitals';
  title: string;
  /** The regressed KPIs this hint is about. */
  affected: KpiComparison[];
  steps: Inline[][];
}

export const REGRESSION_GUIDE = 'docs/performance_regression_guide.md';
export const OPTIMIZATION_GUIDE = 'docs/performance_optimization_guide.md';

function kindOf(c: KpiComparison): Hint['kind'] {
  switch (c.kpi) {
    case 'error_rate':
    case 'checks_rate':
      return 'errors';
    case 'throughput':
      return 'throughput';
    case 'latency_p50':
    case 'latency_p95':
    case 'latency_p99':
    case 'db_query_p95':
    case 'pool_wait_p95':
      return 'latency';
    default:
      return 'web-vitals';
  }
}

/** One hint per kind of regressed KPI, in order of the worst regression of each kind. */
export function hints(report: ComparisonReport): Hint[] {
  const regressed = groupByVerdict(report)[0]?.comparisons ?? [];
  const testid = report.candidate.testid;
  const byKind = new Map<Hint['kind'], KpiComparison[]>();
  for (const c of regressed) {
    const kind = kindOf(c);
    byKind.set(kind, [...(byKind.get(kind) ?? []), c]);
  }
  const out: Hint[] = [];
  for (const [kind, affected] of byKind) {
    switch (kind) {
      case 'latency':
        out.push({
          kind,
          title: 'Latency',
          affected,
          steps: [
            [
              'Open the ',
              { code: 'perfstack / Service overview' },
              ' dashboard on the time range of run ',
              { code: testid },
              ' and compare the request duration of the affected endpoints with a baseline run.',
            ],
            [
              'Open the ',
              { code: 'perfstack / Database' },
              ' dashboard: query duration p95 by query, connection acquire wait and pending requests show whether the time goes to the database or to waiting for a pooled connection.',
            ],
            [
              'Run ',
              { code: `perfstack analyze --testid ${shellQuote(testid)}` },
              ' for a bottleneck analysis of the run with evidence and recommendations.',
            ],
          ],
        });
        break;
      case 'errors':
        out.push({
          kind,
          title: 'Error rate and checks',
          affected,
          steps: [
            [
              'Open the ',
              { code: 'perfstack / Service overview' },
              ' dashboard and look at the responses by status code of the affected endpoints; the ',
              { code: 'perfstack / Load tests (k6)' },
              ' dashboard shows which checks failed.',
            ],
            [
              'Database failures carry an ',
              { code: 'error_type' },
              ' label on ',
              { code: 'db_client_operation_duration_seconds' },
              '; pool exhaustion shows in ',
              { code: 'db_client_connection_timeouts_total' },
              '.',
            ],
            ['Read the service log of the run for the first errors: later ones are often consequences.'],
          ],
        });
        break;
      case 'throughput':
        out.push({
          kind,
          title: 'Throughput',
          affected,
          steps: [
            [
              'On the ',
              { code: 'perfstack / Load tests (k6)' },
              ' dashboard check virtual users and dropped iterations: a starved load generator lowers throughput without the service being slower.',
            ],
            [
              'If latency regressed as well, fix that first; with a closed workload, throughput falls when latency rises.',
            ],
            [
              'Check that the candidate ran on the same kind of machine as the baselines (',
              { code: report.candidate.environment },
              ') and on the ',
              { code: 'perfstack / Host and process' },
              ' dashboard that CPU was not saturated.',
            ],
          ],
        });
        break;
      case 'web-vitals':
        out.push({
          kind,
          title: 'Web vitals',
          affected,
          steps: [
            ['Compare TTFB first: a slower server response moves every later vital.'],
            ['Compare the page weight and the render-blocking resources of the candidate with the baseline build.'],
          ],
        });
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Escaping

/** Quotes a word for a POSIX shell when it needs it, so a suggested command can be pasted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Escapes text for Markdown (GitHub flavour), including table cells. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1');
}

/** A Markdown code span that survives backticks, pipes and newlines in `text`. */
export function markdownCode(text: string, options: { inTable?: boolean } = {}): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  // In a GFM table a pipe ends the cell even inside a code span unless it is escaped.
  const flat = options.inTable ? oneLine.replace(/\|/g, '\\|') : oneLine;
  const runs = flat.match(/`+/g) ?? [];
  const longest = runs.reduce((m, r) => Math.max(m, r.length), 0);
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
