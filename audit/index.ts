// perfstack audit: Lighthouse lab audits of loopback pages on Debian's Chromium, judged by the
// front-end budgets and stored as runs in the baseline store. See docs/frontend-audits.md.
export { auditPage, checkLoopbackUrl, AUDIT_METRIC_NAMES } from './lighthouse.js';
export type { AuditMetrics, AuditOptions, AuditPreset, AuditResult } from './lighthouse.js';
export { AUDIT_KPIS, auditKpiValues, auditScenario, checkBudgets, formatBudgetTable, formatMetric } from './budgets.js';
export type { BudgetCheck } from './budgets.js';
export { chromiumPath, launchChromium } from './chromium.js';
export type { RunningChromium } from './chromium.js';
export { AUDIT_EXIT_CODES, AuditError } from './errors.js';
export type { AuditErrorReason } from './errors.js';
export { newAuditTestId, runAudit } from './run.js';
export type { RunAuditOptions, RunAuditResult } from './run.js';
