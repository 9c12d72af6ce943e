// k6 thresholds: parse and validate `options.thresholds`, then judge the aggregated values.
export {
  ThresholdError,
  METHODS_BY_TYPE,
  matchesTags,
  parseDuration,
  parseMetricKey,
  parseThresholds,
  type KeyThresholds,
  type Operator,
  type ThresholdExpression,
  type ThresholdSet,
} from './parse.js';
export {
  K6_EXIT_CODES,
  THRESHOLDS_FAILED_EXIT_CODE,
  evaluateThresholds,
  requiredStats,
  type ThresholdEvaluation,
  type ThresholdResult,
  type ValuesOf,
} from './evaluate.js';
