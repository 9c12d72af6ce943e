// Regression reports: a Markdown summary for PR comments and a self-contained HTML file with
// charts, both rendered from one ComparisonReport.

export type { ChangePoint, ComparisonReport, HistoryPoint, KpiComparison } from './types.js';
export { renderMarkdown } from './markdown.js';
export { renderHtml, plottedComparisons, PLOT_ALL_LIMIT } from './html.js';
export { writeReports, type WriteReportsOptions, type WrittenReports } from './write.js';
