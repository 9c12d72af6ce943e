import type { GeneratedFile, PerfstackConfig } from '../../config/index.js';
import { renderYaml } from '../../config/index.js';
import { alertingRule, alertTestGroups, type AlertDefinition, type RuleFile } from './alert.js';
import { FIXTURE_INTERVAL_MINUTES } from './fixtures.js';
import { promDuration } from './format.js';
import { capacityRuleFile } from './capacity.js';
import { regressionRuleFile } from './regression.js';
import { databaseRuleFile } from './database.js';
import { hostRuleFile } from './host.js';
import { recordingRuleFile } from './recording.js';
import { slaRuleFile } from './sla.js';
import { sloRuleFile } from './slo.js';
import { metaRuleFile } from './meta.js';
import { cacheRuleFile } from './cache.js';
import { redisRuleFile } from './redis.js';
import { frontendRuleFile } from './frontend.js';

export { runbookAnchor, alertId, dashboardUrl } from './alert.js';
export type { AlertDefinition, AlertAnnotations, FiringFixture, RecordingRule, RuleFile, RuleGroup } from './alert.js';
export type { InputSeries } from './fixtures.js';
export { BURN_RATE_TIERS } from './slo.js';
export { SLO_BURN_WINDOWS } from './recording.js';
export { runbookAnchors, readRunbookAnchors, RUNBOOKS_PATH } from './runbooks.js';
export { thresholdText } from './alert.js';
export type { Threshold, AlertSeverity } from './alert.js';
export { WATCHDOG, META, scrapeJobs } from './meta.js';
export { BLACKBOX_JOB, BLACKBOX_MODULE, HEALTH_PATH, blackboxConfig, probe } from './probes.js';
export { longestSloWindowSeconds, windowSeconds, SLO_RAW_WINDOWS, SLO_EVENT_RECORDS } from './recording.js';
export { THROUGHPUT_SCENARIOS } from './sla.js';

export const RULES_DIR = 'provisioning/prometheus/rules';
export const RULE_TESTS_DIR = 'provisioning/prometheus/tests';

/** Every rule file, recording rules first (the alert files read their series). */
export function ruleFiles(config: PerfstackConfig): RuleFile[] {
  return [recordingRuleFile, slaRuleFile, sloRuleFile, databaseRuleFile, hostRuleFile, capacityRuleFile, regressionRuleFile, cacheRuleFile, redisRuleFile, frontendRuleFile, metaRuleFile].map((build) => build(config));
}

/** Every alert the rule files define, with its labels, annotations and test fixtures. */
export function ruleDefinitions(config: PerfstackConfig): AlertDefinition[] {
  return ruleFiles(config).flatMap((file) => file.groups.flatMap((group) => group.alerts ?? []));
}

function renderRuleFile(file: RuleFile): GeneratedFile {
  const groups = file.groups
    .map((group) => ({
      name: group.name,
      rules: [
        ...(group.recordingRules ?? []).map((rule) => ({ record: rule.record, expr: rule.expr, ...(rule.labels ? { labels: rule.labels } : {}) })),
        ...(group.alerts ?? []).map(alertingRule),
      ],
    }))
    .filter((group) => group.rules.length > 0);
  return { path: `${RULES_DIR}/${file.name}.yml`, content: renderYaml({ groups }) };
}

function groupOrder(file: RuleFile, all: readonly RuleFile[]): string[] {
  const files = [...file.dependsOn.map((name) => all.find((f) => f.name === name)!), file];
  return files.flatMap((f) => f.groups.filter((g) => (g.recordingRules?.length ?? 0) + (g.alerts?.length ?? 0) > 0).map((g) => g.name));
}

function renderTestFile(file: RuleFile, all: readonly RuleFile[]): GeneratedFile | undefined {
  const alerts = file.groups.flatMap((group) => group.alerts ?? []);
  if (alerts.length === 0) return undefined;
  return {
    path: `${RULE_TESTS_DIR}/${file.name}.test.yml`,
    content: renderYaml({
      rule_files: [...file.dependsOn, file.name].map((name) => `../rules/${name}.yml`),
      evaluation_interval: promDuration(FIXTURE_INTERVAL_MINUTES),
      // promtool evaluates groups in no fixed order unless told: recording groups first, so an
      // alert sees the series recorded at the same evaluation (as Prometheus's own ordering gives).
      group_eval_order: groupOrder(file, all),
      tests: alerts.flatMap(alertTestGroups),
    }),
  };
}

/** Prometheus rule files plus their promtool unit tests (`promtool test rules provisioning/prometheus/tests/*.test.yml`). */
export function generateRules(config: PerfstackConfig): GeneratedFile[] {
  const files = ruleFiles(config);
  return [...files.map(renderRuleFile), ...files.flatMap((file) => renderTestFile(file, files) ?? [])];
}
