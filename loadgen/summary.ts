// The end-of-test data in k6's shape: what handleSummary() receives and what summary.json holds,
// so `perfstack import`, the verdicts and anything written for k6 read it unchanged.

import { createHash } from 'node:crypto';
import type { MetricRegistry } from './metrics/registry.js';
import type { ThresholdEvaluation } from './thresholds/index.js';

export interface SummaryMetric {
  type: string;
  contains: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryGroup {
  name: string;
  path: string;
  id: string;
  groups: SummaryGroup[];
  checks: Array<{ name: string; path: string; id: string; passes: number; fails: number }>;
}

export interface SummaryData {
  root_group: SummaryGroup;
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  metrics: Record<string, SummaryMetric>;
  setup_data?: unknown;
}

const id = (path: string) => createHash('md5').update(path).digest('hex');

function groupTree(checkResults: ReadonlyMap<string, ReadonlyMap<string, { passes: number; fails: number }>>): SummaryGroup {
  const root: SummaryGroup = { name: '', path: '', id: id(''), groups: [], checks: [] };
  const find = (path: string): SummaryGroup => {
    if (path === '') return root;
    const parentPath = path.slice(0, path.lastIndexOf('::'));
    const parent = find(parentPath);
    let group = parent.groups.find((g) => g.path === path);
    if (!group) {
      group = { name: path.slice(path.lastIndexOf('::') + 2), path, id: id(path), groups: [], checks: [] };
      parent.groups.push(group);
    }
    return group;
  };
  for (const [path, checks] of [...checkResults].sort(([a], [b]) => a.localeCompare(b))) {
    const group = find(path);
    for (const [name, tally] of checks) group.checks.push({ name, path: `${path}::${name}`, id: id(`${path}::${name}`), passes: tally.passes, fails: tally.fails });
  }
  return root;
}

export function buildSummary(options: {
  registry: MetricRegistry;
  trendStats: string[];
  elapsedMs: number;
  evaluation: ThresholdEvaluation | undefined;
  checkResults: ReadonlyMap<string, ReadonlyMap<string, { passes: number; fails: number }>>;
  setupData?: unknown;
}): SummaryData {
  const { registry, trendStats, elapsedMs, evaluation } = options;
  const metrics: Record<string, SummaryMetric> = {};
  const attach = (key: string, entry: SummaryMetric) => {
    const results = evaluation?.results[key];
    if (results) entry.thresholds = Object.fromEntries(Object.entries(results).map(([expression, r]) => [expression, { ok: r.ok }]));
    metrics[key] = entry;
  };
  for (const metric of registry.all().sort((a, b) => a.info.name.localeCompare(b.info.name))) {
    const thresholdsOnIt = evaluation && Object.keys(evaluation.results).some((key) => key === metric.info.name || key.startsWith(`${metric.info.name}{`));
    // k6 lists the metrics that had samples, and those a threshold names.
    if (metric.total.empty && !thresholdsOnIt) continue;
    const { type, contains } = metric.info;
    attach(metric.info.name, { type, contains, values: metric.total.values(trendStats, elapsedMs) });
    for (const sub of metric.subMetrics) attach(sub.key, { type, contains, values: sub.aggregate.values(trendStats, elapsedMs) });
  }
  return {
    root_group: groupTree(options.checkResults),
    options: { summaryTrendStats: trendStats, summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: Boolean(process.stdout.isTTY), isStdErrTTY: Boolean(process.stderr.isTTY), testRunDurationMs: elapsedMs },
    metrics,
    ...(options.setupData === undefined ? {} : { setup_data: options.setupData }),
  };
}
