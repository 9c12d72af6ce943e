import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig, type GeneratedFile, type PerfstackConfig } from '../config/index.js';
import { checkPromql } from '../metrics/index.js';
import rawConfig from '../perfstack.config.js';
import { runPromtool } from './promtool.js';
import { writeGeneratedFiles } from '../cli/index.js';
import { alertId, generateRules, readRunbookAnchors, ruleDefinitions, ruleFiles, runbookAnchor, RULE_TESTS_DIR, RULES_DIR } from './rules/index.js';

const defaultConfig = parseConfig(rawConfig);

/** The default config with other thresholds: the generated tests must follow them. */
function changedThresholds(): PerfstackConfig {
  const config = parseConfig(structuredClone(rawConfig));
  const api = config.services[0]!;
  api.sla.latency.p95Seconds = 0.25;
  api.sla.errorRate = { warning: 0.005, critical: 0.008 };
  api.sla.minThroughputRps = 20;
  config.services[1]!.sla.latency.p99Seconds = 4;
  config.host.cpu = 0.5;
  config.database.poolUtilisation = 0.6;
  config.database.maxQuerySeconds = 0.3;
  config.database.sizeLimitBytes = 2 * 1024 ** 3;
  config.slos[0]!.objective = 0.995;
  return parseConfig(config);
}

const tempDirs: string[] = [];
function writeTree(files: GeneratedFile[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'perfstack-rules-'));
  tempDirs.push(dir);
  writeGeneratedFiles(dir, files);
  return dir;
}
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const ruleFilePaths = (files: GeneratedFile[]) => files.filter((f) => f.path.startsWith(`${RULES_DIR}/`)).map((f) => f.path);
const testFilePaths = (files: GeneratedFile[]) => files.filter((f) => f.path.startsWith(`${RULE_TESTS_DIR}/`)).map((f) => f.path);

/** One promtool process per test file, in parallel: the SLO file dominates the run time. */
async function promtoolTestRules(dir: string, testFiles: string[]) {
  return Promise.all(testFiles.map((file) => runPromtool(['test', 'rules', file], dir)));
}

describe('generated Prometheus rules (default config)', () => {
  const files = generateRules(defaultConfig);
  const alerts = ruleDefinitions(defaultConfig);

  it('writes one rule file and one test file per area, byte-stable', () => {
    expect(files.map((f) => f.path)).toEqual([
      ...['recording', 'sla', 'slo', 'database', 'host', 'capacity', 'regression', 'cache', 'redis', 'frontend', 'meta'].map((n) => `${RULES_DIR}/${n}.yml`),
      ...['sla', 'slo', 'database', 'host', 'capacity', 'regression', 'cache', 'redis', 'frontend', 'meta'].map((n) => `${RULE_TESTS_DIR}/${n}.test.yml`),
    ]);
    expect(generateRules(parseConfig(rawConfig))).toEqual(files);
  });

  it('passes promtool check rules and promtool test rules', async () => {
    const dir = writeTree(files);
    const check = await runPromtool(['check', 'rules', ...ruleFilePaths(files)], dir);
    expect(check.code, check.output).toBe(0);
    for (const result of await promtoolTestRules(dir, testFilePaths(files))) expect(result.code, result.output).toBe(0);
  }, 60_000);

  it('gives every alert a firing test that pins for: from both sides, and a quiet test (the Watchdog only fires)', () => {
    const groups = testFilePaths(files).flatMap((path) => {
      const content = files.find((f) => f.path === path)?.content ?? '';
      return (parse(content) as { tests: { name: string; alert_rule_test: { eval_time: string; exp_alerts: unknown[] }[] }[] }).tests;
    });
    const names = groups.map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
    for (const alert of alerts) {
      const firing = groups.filter((g) => g.name === `${alertId(alert)} fires`);
      const quiet = groups.filter((g) => g.name === `${alertId(alert)} stays quiet`);
      expect(firing, alertId(alert)).toHaveLength(1);
      const checks = firing[0]!.alert_rule_test;
      // Pending one evaluation before for: has elapsed (no alert yet), firing once it has.
      if (alert.forMinutes > 0) {
        expect(checks, alertId(alert)).toHaveLength(2);
        expect(checks[0]!.exp_alerts, alertId(alert)).toEqual([]);
      }
      expect(checks[checks.length - 1]!.exp_alerts, alertId(alert)).toHaveLength(1);
      if (alert.name === 'Watchdog') {
        expect(quiet).toHaveLength(0);
        continue;
      }
      expect(quiet, alertId(alert)).toHaveLength(1);
      expect(quiet[0]!.alert_rule_test[0]!.exp_alerts).toEqual([]);
    }
    expect(groups).toHaveLength(alerts.length * 2 - 1);
  });

  it('has expressions that parse as PromQL', () => {
    const exprs = ruleFiles(defaultConfig).flatMap((file) =>
      file.groups.flatMap((group) => [...(group.recordingRules ?? []), ...(group.alerts ?? [])].map((rule) => rule.expr)),
    );
    expect(exprs.length).toBeGreaterThan(alerts.length);
    for (const expr of exprs) expect(checkPromql(expr), expr).toBeUndefined();
  });

  it('labels and annotates every alert', () => {
    for (const alert of alerts) {
      expect(alert.name === 'Watchdog' ? ['none'] : ['critical', 'warning', 'ticket']).toContain(alert.labels.severity);
      expect(alert.labels.team, alert.name).toBeTruthy();
      expect(alert.annotations.summary, alert.name).toMatch(/^[^\n]+$/);
      if (alert.name !== 'Watchdog') expect(alert.annotations.description, alert.name).toMatch(/\{\{ \$(labels\.\w+|value \| humanize\w*) \}\}/);
      expect(alert.annotations.runbook_url).toBe(`${defaultConfig.links.runbookUrl}#${alert.name.toLowerCase()}`);
      expect(alert.annotations.dashboard_url).toMatch(new RegExp(`^${defaultConfig.links.grafanaUrl}/d/perfstack-`));
    }
  });

  it('links every alert to an existing section of docs/runbooks.md', () => {
    const anchors = new Set(readRunbookAnchors(join(import.meta.dirname, '..')));
    const missing = [...new Set(alerts.map((a) => runbookAnchor(a.name)))].filter((anchor) => !anchors.has(anchor));
    expect(missing).toEqual([]);
  });

  it('covers every SLA target, burn-rate tier and area in the default config', () => {
    const ids = alerts.map(alertId);
    expect(ids).toContain('ServiceLatencyP95High{severity=warning,service=api}');
    expect(ids).toContain('ServiceLatencyP50High{severity=warning,service=search}');
    expect(ids.filter((id) => id.startsWith('ServiceErrorRateHigh{'))).toHaveLength(2);
    expect(ids.filter((id) => id.startsWith('SLOErrorBudgetBurn{'))).toHaveLength(defaultConfig.slos.length * 4);
    const throughput = alerts.find((a) => a.name === 'ServiceThroughputLow')?.expr;
    expect(throughput).toContain('k6_http_reqs_total{service="api",scenario=~"load|soak|read-heavy|write-heavy|mixed"}');
    expect(throughput).not.toMatch(/smoke|stress/);
    // Meta-monitoring: every scrape job down and absent, the dead man's switch, the pipeline itself.
    const names = new Set(alerts.map((a) => a.name));
    for (const name of ['Watchdog', 'TargetDown', 'TargetAbsent', 'ServiceProbeFailed', 'PrometheusRuleFailures', 'PrometheusErrorSendingAlerts',
      'PrometheusNotificationQueueRunningFull', 'PrometheusNotificationsDropped', 'PrometheusRemoteWriteReceiverErrors', 'PrometheusBadConfig',
      'PrometheusTSDBWALCorruptions', 'AlertmanagerFailedToSendAlerts', 'AlertmanagerFailedReload', 'PostgresDown', 'DatabaseExporterDown']) {
      expect(names, name).toContain(name);
    }
    const absentJobs = alerts.filter((a) => a.name === 'TargetAbsent').map((a) => a.labels.job);
    expect(absentJobs.sort()).toEqual(['alertmanager', 'blackbox', 'node', 'perfstack-app', 'pg-stats', 'prometheus', 'redis']);
    // The Redis server (redis_exporter): RedisDown covers its target down too, so no TargetDown of its own;
    // the service answers from PostgreSQL without Redis, so every Redis alert is a warning.
    expect(alerts.filter((a) => a.name === 'TargetDown' && a.labels.job === 'redis')).toEqual([]);
    const redisAlerts = alerts.filter((a) => a.name.startsWith('Redis'));
    // No memory or eviction alert: an LRU cache is full and evicts by design (alerts/rules/redis.ts).
    expect(redisAlerts.map((a) => a.name).sort()).toEqual(['RedisDown', 'RedisRejectingConnections']);
    for (const alert of redisAlerts) expect(alert.severity, alert.name).toBe('warning');
    expect(alerts.find((a) => a.name === 'RedisDown')?.expr).toBe('redis_up{job="redis"} == 0 or up{job="redis"} == 0');
    expect(alerts.find((a) => a.name === 'PostgresDown')?.severity).toBe('critical');
    expect(alerts.find((a) => a.name === 'DatabaseExporterDown')?.severity).toBe('warning');
    expect(alerts.find((a) => a.name === 'PerformanceRegression')?.expr).toContain('perfstack_regression_detected{branch="main"}');
  });

  it('computes SLO windows beyond 6h from the 5m recorded rates, never raw over days', () => {
    const recording = files.find((f) => f.path === `${RULES_DIR}/recording.yml`)!.content;
    const rules = (parse(recording) as { groups: { rules: { record: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    for (const window of ['1d', '3d', '30d']) {
      const rule = rules.filter((r) => r.record === `slo:sli_error:ratio_rate${window}`);
      expect(rule.length, window).toBe(defaultConfig.slos.length);
      for (const r of rule) expect(r.expr.startsWith('sum_over_time(slo:sli_errors:rate5m{slo="'), window).toBe(true);
    }
    for (const rule of rules) expect(rule.expr, rule.record).not.toMatch(/\[(1d|3d|30d)\]\)\)/);
    // A dead service still burns its availability budget: failed probes are bad events.
    expect(rules.find((r) => r.record === 'slo:sli_errors:rate5m')?.expr).toContain('probe_success{job="blackbox",service="api"}');
  });
});

describe('generated promtool tests follow the config thresholds', () => {
  const changed = changedThresholds();

  it('passes promtool test rules with changed thresholds', async () => {
    const files = generateRules(changed);
    expect(files).not.toEqual(generateRules(defaultConfig));
    expect(ruleDefinitions(changed).map(alertId)).toContain('ServiceLatencyP99High{severity=warning,service=search}');
    const dir = writeTree(files);
    for (const result of await promtoolTestRules(dir, testFilePaths(files))) expect(result.code, result.output).toBe(0);
  }, 60_000);

  it('fails promtool test rules when rules and tests come from different thresholds', async () => {
    const rules = generateRules(defaultConfig).filter((f) => f.path.startsWith(`${RULES_DIR}/`));
    const tests = generateRules(changed).filter((f) => f.path.startsWith(`${RULE_TESTS_DIR}/`));
    const dir = writeTree([...rules, ...tests]);
    const results = await promtoolTestRules(dir, [`${RULE_TESTS_DIR}/sla.test.yml`, `${RULE_TESTS_DIR}/host.test.yml`]);
    for (const result of results) {
      expect(result.code, result.output).not.toBe(0);
      expect(result.output).toContain('FAILED');
    }
    // The p95 SLA test from the 250ms config puts requests at (0.25, 0.5], which a 500ms rule ignores.
    expect(results[0]!.output).toMatch(/ServiceLatencyP95High\{severity=warning,service=api\} fires/);
  }, 60_000);

  it('rejects thresholds that no histogram bucket can test', () => {
    const config = changedThresholds();
    config.database.maxQuerySeconds = 20;
    expect(() => generateRules(config)).toThrow(/database\.maxQuerySeconds/);
  });
});

it('reads runbook anchors the way GitHub renders them', async () => {
  const { runbookAnchors } = await import('./rules/index.js');
  expect(runbookAnchors('# Runbooks\n## ServiceLatencyP95High\n```\n## not a heading\n```\n## What to do?\n## What to do?')).toEqual([
    'runbooks',
    'servicelatencyp95high',
    'what-to-do',
    'what-to-do-1',
  ]);
  expect(readFileSync(join(import.meta.dirname, '..', 'docs', 'runbooks.md'), 'utf8')).toContain('## ServiceErrorRateHigh');
});
