export { generateK6Thresholds, k6Thresholds } from './thresholds.js';
export { runScenario, k6Invocation, newTestId, gitSha, RunScenarioError } from './run.js';
export type { RunScenarioOptions, RunScenarioResult, K6Invocation } from './run.js';
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
