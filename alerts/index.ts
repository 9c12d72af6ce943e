export { generateAlertmanager, routeTestCases, writeAlertmanagerConfig, ALERTMANAGER_CONFIG_PATH, SLACK_TEMPLATE_PATH } from './alertmanager.js';
export type { AlertmanagerOptions, RouteTestCase } from './alertmanager.js';
export { startSlackCapture } from './slack-capture.js';
export type { SlackCapture, CapturedSlackMessage, SlackPayload } from './slack-capture.js';
export {
  generateRules, ruleDefinitions, ruleFiles, readRunbookAnchors, runbookAnchors, runbookAnchor, thresholdText, alertId, WATCHDOG, META, scrapeJobs,
  BLACKBOX_JOB, BLACKBOX_MODULE, HEALTH_PATH, blackboxConfig, probe, longestSloWindowSeconds, windowSeconds, THROUGHPUT_SCENARIOS, RULES_DIR, RULE_TESTS_DIR,
} from './rules/index.js';
export type { AlertDefinition, Threshold, AlertSeverity } from './rules/index.js';
