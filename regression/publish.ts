import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { regression } from '../metrics/index.js';
import type { KpiStatistic, Verdict } from './kpi.js';

// Verdicts reach Prometheus the way batch-job results usually do: `perfstack compare` writes a
// .prom file into node_exporter's textfile-collector folder, node_exporter serves it, and the
// PerformanceRegression rule alerts on it. No push gateway and no extra scrape job.

export interface PublishedVerdict {
  scenario: string;
  testid: string;
  /** "last 5 on main" or a pinned baseline's name. */
  baseline: string;
  /** The candidate run's git branch (the PerformanceRegression alert fires for the baseline branch only). */
  branch: string;
  kpi: string;
  endpoint: string;
  /** The statistic the verdict compared (p95, mean, rate, …): published as the `statistic` label. */
  statistic: KpiStatistic;
  verdict: Verdict;
  candidateValue: number;
  baselineValue: number;
  relativeChange: number;
}

/**
 * The labels naming the statistic a verdict compared and the candidate's branch. (To move into
 * metrics/index.ts's regression.labels, the metric contract, as `statistic` and `branch`; the
 * PerformanceRegression rule selects on `branch`.)
 */
export const STATISTIC_LABEL = regression.labels.statistic;
export const BRANCH_LABEL = regression.labels.branch;

/** The textfile the native stack's node_exporter reads (one per scenario, replaced on each compare). */
export const VERDICT_FILE_PREFIX = 'perfstack_regression_';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Prometheus text exposition of one comparison's verdicts. */
export function renderVerdictMetrics(verdicts: readonly PublishedVerdict[], comparedAt: Date): string {
  const L = regression.labels;
  const families: [name: string, help: string, value: (v: PublishedVerdict) => number][] = [
    [regression.detected, 'Whether the KPI of the run regressed against its baseline (1) or not (0, also with insufficient data).', (v) => (v.verdict === 'regressed' ? 1 : 0)],
    [regression.candidateValue, 'The candidate run’s value of the statistic the verdict compared (label statistic: p95, mean, rate), in the KPI unit.', (v) => v.candidateValue],
    [regression.baselineValue, 'The baseline’s value of that statistic (the mean of its runs’ values), in the KPI unit.', (v) => v.baselineValue],
    [regression.relativeChange, 'Candidate over baseline minus one, for that statistic.', (v) => v.relativeChange],
  ];
  const lines: string[] = [];
  for (const [name, help, value] of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const v of verdicts) {
      const labels = [
        [L.scenario, v.scenario],
        [L.testid, v.testid],
        [L.baseline, v.baseline],
        [BRANCH_LABEL, v.branch],
        [L.kpi, v.kpi],
        [L.endpoint, v.endpoint],
        [STATISTIC_LABEL, v.statistic],
      ]
        .map(([key, text]) => `${key}="${escapeLabel(text!)}"`)
        .join(',');
      const number = value(v);
      lines.push(`${name}{${labels}} ${Number.isFinite(number) ? number : 'NaN'}`);
    }
  }
  lines.push(`# HELP ${regression.comparedAt} When the comparison ran.`, `# TYPE ${regression.comparedAt} gauge`);
  const scenarios = [...new Set(verdicts.map((v) => v.scenario))];
  for (const scenario of scenarios) lines.push(`${regression.comparedAt}{${L.scenario}="${escapeLabel(scenario)}"} ${Math.floor(comparedAt.getTime() / 1000)}`);
  return `${lines.join('\n')}\n`;
}

/** Writes the verdicts of one scenario into the textfile folder atomically (node_exporter must never read half a file). */
export function publishVerdicts(folder: string, scenario: string, verdicts: readonly PublishedVerdict[], comparedAt = new Date()): string {
  mkdirSync(folder, { recursive: true });
  const safeScenario = scenario.replace(/[^A-Za-z0-9_-]/g, '_');
  const target = join(folder, `${VERDICT_FILE_PREFIX}${safeScenario}.prom`);
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, renderVerdictMetrics(verdicts, comparedAt));
  renameSync(temporary, target);
  return target;
}
