// handleSummary: the end-of-test data as JSON in the run's output folder (PERFSTACK_SUMMARY_PATH,
// read back by k6/run.ts for the SLA verdicts), and a short text summary on stdout. The bookkeeping
// thresholds that keep per-route sub-metrics (TRACKING_THRESHOLDS) are not printed as checks.

import { TRACKING_THRESHOLDS } from './catalog.ts';

const BOOKKEEPING = new Set<string>(Object.values(TRACKING_THRESHOLDS));

interface SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: 'default' | 'time' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  state: { testRunDurationMs: number };
  [key: string]: unknown;
}

function format(metric: SummaryMetric, stat: string, value: number | undefined): string {
  if (value === undefined) return 'n/a';
  if (metric.contains === 'time' && stat !== 'count') return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(2)}ms`;
  if (metric.contains === 'data') return `${value.toFixed(0)} B`;
  if (metric.type === 'rate') return `${(value * 100).toFixed(2)}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** The statistic a threshold expression tests: "p(95)<500" → "p(95)". */
const statOf = (expression: string) => /^\s*([a-z]+(\(\d+(\.\d+)?\))?)/.exec(expression)?.[1] ?? 'value';

function textSummary(data: SummaryData): string {
  const lines = [`perfstack: ${__ENV.PERFSTACK_SCENARIO ?? 'scenario'} (testid ${__ENV.PERFSTACK_TESTID ?? 'n/a'}) ran ${(data.state.testRunDurationMs / 1000).toFixed(1)} s`];
  const show = (name: string, stats: string[]) => {
    const metric = data.metrics[name];
    if (metric) lines.push(`  ${name.padEnd(44)} ${stats.map((s) => `${s}=${format(metric, s, metric.values[s])}`).join(' ')}`);
  };
  show('http_reqs', ['count', 'rate']);
  show('http_req_duration', ['p(50)', 'p(95)', 'p(99)', 'max']);
  show('http_req_failed', ['rate']);
  show('checks', ['rate']);
  show('iterations', ['count']);
  show('dropped_iterations', ['count']);
  lines.push('  thresholds:');
  for (const [name, metric] of Object.entries(data.metrics).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [expression, result] of Object.entries(metric.thresholds ?? {})) {
      if (BOOKKEEPING.has(expression)) continue;
      const stat = statOf(expression);
      lines.push(`    ${result.ok ? 'ok  ' : 'FAIL'} ${name} ${expression} (measured ${format(metric, stat, metric.values[stat === 'value' ? 'value' : stat])})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const out: Record<string, string> = { stdout: textSummary(data) };
  const path = __ENV.PERFSTACK_SUMMARY_PATH;
  if (path) {
    const perfstack = {
      scenario: __ENV.PERFSTACK_SCENARIO ?? null,
      testid: __ENV.PERFSTACK_TESTID ?? null,
      gitSha: __ENV.PERFSTACK_GIT_SHA ?? null,
      baseUrl: __ENV.PERFSTACK_BASE_URL ?? null,
    };
    out[path] = `${JSON.stringify({ perfstack, ...data }, null, 2)}\n`;
  }
  return out;
}
