// perfstack analyze: a bottleneck analysis of one time range (or one k6 run) in Markdown, from
// Prometheus and, optionally, direct evidence from PostgreSQL. See docs/performance_optimization_guide.md.
export { analyze, compareFindings } from './analyze.js';
export type { AnalyzeOptions } from './analyze.js';
export { renderAnalysisMarkdown } from './render.js';
export type { RenderOptions } from './render.js';
export { ANALYSIS_LIMITS } from './checks.js';
export { filterColumns, whereClauses } from './database.js';
export { prometheusClient, PrometheusError } from './prometheus.js';
export type { PrometheusClient } from './prometheus.js';
export { k6RunRange, parseDurationSeconds, parseTime, checkRange } from './time-range.js';
export type { TimeRange } from './time-range.js';
export { CHECK_IDS, FINDING_CATALOGUE, PLAYBOOK_PATH, SEVERITY_ORDER, playbookAnchor } from './types.js';
export type { AnalysisReport, CatalogueEntry, CheckId, Evidence, Finding, FindingSeverity, RouteTime, Section, SectionStatus } from './types.js';
export { captureExplains, notPlainSelect } from './explain.js';
export type { CaptureExplainsOptions, ExplainCapture, ExplainMode } from './explain.js';
export { linkProfile } from './profile-link.js';
export type { ProfileLink } from './profile-link.js';
