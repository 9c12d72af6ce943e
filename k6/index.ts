export { generateK6Thresholds, k6Thresholds } from './thresholds.js';
export { runScenario, newTestId, gitSha, resolveScript, reachable, RunScenarioError } from './run.js';
export type { Engine, RunScenarioOptions, RunScenarioResult, ResolvedScript } from './run.js';
export { findK6, k6Invocation, K6NotFoundError, K6_INSTALL_HINT } from './k6-engine.js';
export type { K6Invocation, K6InvocationOptions } from './k6-engine.js';
export { SCENARIOS, SCENARIOS_DIR, scenarioNames, scenarioFile, findScenario, UnknownScenarioError } from './scenarios.js';
export type { ScenarioInfo } from './scenarios.js';
export {
  formatVerdictTable,
  verdictsFromSummary,
  verdictsForRun,
  describeK6Exit,
  allPassed,
  parseMetricKey,
  K6_THRESHOLDS_FAILED,
} from './verdicts.js';
export type { SlaVerdict, K6Summary } from './verdicts.js';
