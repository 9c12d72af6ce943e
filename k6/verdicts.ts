import { TRACKING_THRESHOLDS } from './scenarios/lib/catalog.js';
// SLA verdicts of a k6 run, read from the JSON summary that k6/scenarios/lib/summary.ts writes:
// every metric with thresholds (the `{service:…}` sub-metrics from k6/thresholds.json, checks,
// Web Vitals, the bundle budget) becomes one row per threshold expression.

/** k6's exit code when one or more thresholds failed. */
export const K6_THRESHOLDS_FAILED = 99;

export interface SlaVerdict {
  /** The service of a `{service:…}` sub-metric; null for run-wide thresholds (checks, Web Vitals). */
  service: string | null;
  /** k6 metric name, e.g. http_req_duration. */
  metric: string;
  /** The threshold expression as k6 evaluated it, e.g. p(95)<500. */
  threshold: string;
  /** Human-readable target, e.g. "p(95) < 500 ms". */
  target: string;
  /** The measured statistic in k6's unit (milliseconds for times, 0..1 for rates); null when unknown. */
  measured: number | null;
  /** Human-readable measurement, e.g. "12.3 ms" or "no requests". */
  measuredText: string;
  pass: boolean;
}

interface SummaryMetric {
  type?: string;
  contains?: string;
  values?: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface K6Summary {
  metrics?: Record<string, SummaryMetric>;
  perfstack?: { scenario?: string | null; testid?: string | null; gitSha?: string | null };
}

const EXPRESSION = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

function formatNumber(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return Number(value.toPrecision(3)).toString();
}

function formatValue(metric: string, summary: SummaryMetric, stat: string, value: number): string {
  if (stat === 'count') return formatNumber(value);
  if (summary.contains === 'time') return value >= 1000 ? `${formatNumber(value / 1000)} s` : `${formatNumber(value)} ms`;
  if (summary.contains === 'data' || /bytes/.test(metric)) {
    if (value >= 1024 * 1024) return `${formatNumber(value / 1024 / 1024)} MiB`;
    if (value >= 1024) return `${formatNumber(value / 1024)} KiB`;
    return `${formatNumber(value)} B`;
  }
  if (summary.type === 'rate') return `${formatNumber(value * 100)} %`;
  if (summary.type === 'counter' && stat === 'rate') return `${formatNumber(value)}/s`;
  return formatNumber(value);
}

/** "http_req_duration{service:api}" → { metric: http_req_duration, service: api }. */
export function parseMetricKey(key: string): { metric: string; service: string | null; tags: Record<string, string> } {
  const match = /^([^{]+)(?:\{(.*)\})?$/.exec(key);
  const metric = match?.[1] ?? key;
  const tags: Record<string, string> = {};
  for (const pair of (match?.[2] ?? '').split(',')) {
    const at = pair.indexOf(':');
    if (at > 0) tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return { metric, service: tags.service ?? null, tags };
}

function noDataText(summary: SummaryMetric): string {
  const values = summary.values ?? {};
  if (summary.type === 'trend' && values.count === 0) return 'no samples';
  if (summary.type === 'rate' && (values.passes ?? 0) + (values.fails ?? 0) === 0) return 'no samples';
  return '';
}

/** One verdict per threshold expression in the summary, services first (in name order), then run-wide ones. */
export function verdictsFromSummary(summary: K6Summary): SlaVerdict[] {
  const verdicts: SlaVerdict[] = [];
  for (const [key, metricSummary] of Object.entries(summary.metrics ?? {})) {
    const { metric, service, tags } = parseMetricKey(key);
    const otherTags = Object.entries(tags).filter(([name]) => name !== 'service');
    const label = otherTags.length > 0 ? `${metric}{${otherTags.map(([k, v]) => `${k}:${v}`).join(',')}}` : metric;
    for (const [threshold, result] of Object.entries(metricSummary.thresholds ?? {})) {
      if (TRACKING_THRESHOLDS[metric as keyof typeof TRACKING_THRESHOLDS] === threshold) continue; // bookkeeping, not an SLA
      const parsed = EXPRESSION.exec(threshold);
      const stat = parsed?.[1] ?? threshold;
      const raw = parsed ? metricSummary.values?.[stat] : undefined;
      const measured = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
      const target = parsed ? `${stat} ${parsed[2]} ${formatValue(metric, metricSummary, stat, Number(parsed[3]))}` : threshold;
      const empty = noDataText(metricSummary);
      verdicts.push({
        service,
        metric: label,
        threshold,
        target,
        measured: empty ? null : measured,
        measuredText: empty || (measured === null ? 'n/a' : formatValue(metric, metricSummary, stat, measured)),
        pass: result.ok,
      });
    }
  }
  const serviceRank = (v: SlaVerdict) => (v.service === null ? '\uffff' : v.service);
  return verdicts.sort((a, b) => serviceRank(a).localeCompare(serviceRank(b)) || a.metric.localeCompare(b.metric) || a.threshold.localeCompare(b.threshold));
}

/** What a k6 exit code means (https://github.com/grafana/k6/blob/master/errext/exitcodes/codes.go). */
export function describeK6Exit(code: number): string {
  const meanings: Record<number, string> = {
    0: 'passed',
    [K6_THRESHOLDS_FAILED]: 'thresholds failed',
    100: 'setup() timed out',
    101: 'teardown() timed out',
    102: 'timed out',
    103: 'engine error',
    104: 'invalid options or configuration',
    105: 'aborted from outside (signal or REST API)',
    107: 'script error (exception)',
    108: 'script aborted (test.abort() or abortOnFail)',
    109: 'k6 crashed (Go panic)',
    110: 'marked as failed by the script',
  };
  return meanings[code] ?? `k6 exited with ${code}`;
}

/**
 * The verdicts plus, when k6 failed without a failing threshold to show for it, one run-wide row
 * that says why (exit 99 with every row passing, a script error, a crash, an external abort).
 */
export function verdictsForRun(summary: K6Summary | undefined, exitCode: number): SlaVerdict[] {
  const verdicts = summary ? verdictsFromSummary(summary) : [];
  if (exitCode !== 0 && !verdicts.some((v) => !v.pass)) {
    verdicts.push({
      service: null,
      metric: 'k6 run',
      threshold: 'exit code 0',
      target: 'exit code 0',
      measured: exitCode,
      measuredText: `exit ${exitCode}: ${describeK6Exit(exitCode)}${summary ? '' : ' (no summary written)'}`,
      pass: false,
    });
  }
  return verdicts;
}

/** Whether every verdict passed. */
export const allPassed = (verdicts: readonly SlaVerdict[]): boolean => verdicts.every((v) => v.pass);

/** A plain-text table per service: metric, target, measured, pass/FAIL; run-wide rows last. */
export function formatVerdictTable(verdicts: readonly SlaVerdict[]): string {
  if (verdicts.length === 0) return 'no thresholds were evaluated\n';
  const groups = new Map<string, SlaVerdict[]>();
  for (const verdict of verdicts) {
    const name = verdict.service === null ? 'run' : `service ${verdict.service}`;
    groups.set(name, [...(groups.get(name) ?? []), verdict]);
  }
  const header = ['metric', 'target', 'measured', 'result'];
  const rows = verdicts.map((v) => [v.metric, v.target, v.measuredText, v.pass ? 'pass' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  const out: string[] = [];
  for (const [name, group] of groups) {
    const failed = group.filter((v) => !v.pass).length;
    out.push(`${name}: ${failed === 0 ? 'pass' : `FAIL (${failed} of ${group.length})`}`);
    out.push(line(header));
    for (const v of group) out.push(line([v.metric, v.target, v.measuredText, v.pass ? 'pass' : 'FAIL']));
  }
  const failed = verdicts.filter((v) => !v.pass).length;
  out.push(failed === 0 ? `all ${verdicts.length} thresholds passed` : `${failed} of ${verdicts.length} thresholds FAILED`);
  return `${out.join('\n')}\n`;
}
