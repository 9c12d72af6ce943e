export { generateAlertmanager, routeTestCases, writeAlertmanagerConfig, ALERTMANAGER_CONFIG_PATH, SLACK_TEMPLATE_PATH } from './alertmanager.js';
export type { AlertmanagerOptions, RouteTestCase } from './alertmanager.js';
export { startSlackCapture } from './slack-capture.js';
export type { SlackCapture, CapturedSlackMessage, SlackPayload } from './slack-capture.js';
export { generateRules, ruleDefinitions, ruleFiles, readRunbookAnchors, runbookAnchors, runbookAnchor } from './rules/index.js';
export type { AlertDefinition } from './rules/index.js';
