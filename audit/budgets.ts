// The budgets an audit is judged by: the front-end targets in config.frontend (shared with
// real-user monitoring) plus the audit-only ones in config.frontend.audit.

import type { PerfstackConfig } from '../config/index.js';
import { KPIS, RUN_LEVEL, type KpiName, type KpiValue } from '../regression/index.js';
import type { AuditMetrics } from './lighthouse.js';

export interface BudgetCheck {
  metric: keyof AuditMetrics;
  /** The config field the limit comes from, e.g. frontend.lcpSeconds. */
  field: string;
  measured: number;
  limit: number;
  /** at-most: measured ≤ limit passes; at-least: measured ≥ limit passes. */
  kind: 'at-most' | 'at-least';
  passed: boolean;
}

/** Every budget against the measured medians, in a fixed order. */
export function checkBudgets(metrics: AuditMetrics, frontend: PerfstackConfig['frontend']): BudgetCheck[] {
  const audit = frontend.audit;
  const rows: [keyof AuditMetrics, string, number, BudgetCheck['kind']][] = [
    ['performanceScore', 'frontend.audit.performanceScoreMin', audit.performanceScoreMin, 'at-least'],
    ['fcpSeconds', 'frontend.fcpSeconds', frontend.fcpSeconds, 'at-most'],
    ['lcpSeconds', 'frontend.lcpSeconds', frontend.lcpSeconds, 'at-most'],
    ['tbtSeconds', 'frontend.audit.tbtSeconds', audit.tbtSeconds, 'at-most'],
    ['cls', 'frontend.cls', frontend.cls, 'at-most'],
    ['speedIndexSeconds', 'frontend.audit.speedIndexSeconds', audit.speedIndexSeconds, 'at-most'],
    ['javascriptBytes', 'frontend.javascriptBytes', frontend.javascriptBytes, 'at-most'],
  ];
  return rows.map(([metric, field, limit, kind]) => {
    const measured = metrics[metric];
    return { metric, field, measured, limit, kind, passed: kind === 'at-most' ? measured <= limit : measured >= limit };
  });
}

/** The baseline store's KPI for each audit metric. */
export const AUDIT_KPIS: Readonly<Record<keyof AuditMetrics, KpiName>> = {
  fcpSeconds: 'lighthouse_fcp',
  lcpSeconds: 'lighthouse_lcp',
  tbtSeconds: 'lighthouse_tbt',
  cls: 'lighthouse_cls',
  speedIndexSeconds: 'lighthouse_speed_index',
  javascriptBytes: 'lighthouse_javascript_bytes',
  performanceScore: 'lighthouse_performance_score',
};

/** Run-level KPI values of an audit, for the baseline store. */
export function auditKpiValues(metrics: AuditMetrics): KpiValue[] {
  return (Object.keys(AUDIT_KPIS) as (keyof AuditMetrics)[]).map((metric) => ({ kpi: AUDIT_KPIS[metric], endpoint: RUN_LEVEL, value: metrics[metric] }));
}

/** The stored scenario of an audited page: lighthouse:<path>, so runs of one page compare with each other. */
export function auditScenario(url: string, preset: string): string {
  const path = new URL(url).pathname || '/';
  return `lighthouse${preset === 'desktop' ? '' : `-${preset}`}:${path}`;
}

export function formatMetric(metric: keyof AuditMetrics, value: number): string {
  if (metric === 'performanceScore') return String(Math.round(value * 100));
  if (metric === 'cls') return value.toFixed(3);
  if (metric === 'javascriptBytes') return `${Math.round(value).toLocaleString('en-US')} B`;
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}

/** A plain table: metric, measured, budget, verdict. */
export function formatBudgetTable(checks: BudgetCheck[]): string {
  const lines = checks.map((c) => {
    const label = KPIS[AUDIT_KPIS[c.metric]].label;
    const budget = `${c.kind === 'at-most' ? '≤' : '≥'} ${formatMetric(c.metric, c.limit)} (${c.field})`;
    return `  ${c.passed ? 'ok  ' : 'FAIL'}  ${label.padEnd(30)} ${formatMetric(c.metric, c.measured).padStart(12)}   ${budget}`;
  });
  return lines.join('\n');
}
