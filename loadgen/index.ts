// perfstack's own load engine: runs k6 scripts (TypeScript, k6's async API) with k6's executors,
// metrics, thresholds, summary and Prometheus series, on permissively licensed libraries.
export { runLoad } from './run.js';
export type { LoadRunOptions, LoadRunResult } from './run.js';
export { EXIT_CODES, LoadgenError } from './errors.js';
export type { ExitCode, Where } from './errors.js';
export { MODULES } from './k6/modules.js';
export { EXECUTORS, consolidateOptions } from './options.js';
export type { ScenarioConfig, ShortcutOverrides } from './options.js';
export { parseExecutionSegment, ExecutionSegment } from './executors/index.js';
export { checkScriptSource } from './script/check.js';
export { parseDuration, formatDuration } from './durations.js';
export type { SummaryData } from './summary.js';
export { SUPPORTED_BROWSER_API } from './k6/browser/index.js';
export { inspectScript } from './inspect.js';
export type { ScriptInspection } from './inspect.js';
