// End to end: a fault in the reference service reaches on-call's Slack channel, and so does its end.
//
// The reference service gets, through its fault switch, first 800 ms of latency and then 50 % of
// 500s on its /api routes while a bounded loop of requests runs. Prometheus scrapes it every second
// and evaluates the generated SLA rules; Alertmanager routes with the generated config (group wait
// and interval shortened to 1 s) to the Slack capture server. The messages must carry the generated
// title, the severity's channel from perfstack.config.ts, the runbook and the dashboard link; when
// the fault is removed, the resolved message must arrive.
//
// Time is compressed for this test only: the generated rules wait 5 m windows and `for:` 5–15 m, so
// test/support/e2e-time.ts rewrites the rule YAML text (every range selector becomes [10s], every
// `for:` 2s) before Prometheus loads it. The promtool unit tests in alerts/ prove the rules with
// their real windows and durations; this test proves the wiring from the service's metrics to Slack.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateRules } from '../alerts/index.js';
import { compressRanges, compressRuleTime } from './support/e2e-time.js';
import { config, everyRoute, expectedChannel, startE2eStack, trafficLoop, type E2eStack, type TrafficLoop } from './support/e2e-stack.js';
import type { CapturedSlackMessage } from '../alerts/index.js';

interface RuleYaml {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function generatedRules(transform: (text: string) => string = (text) => text): RuleYaml[] {
  return generateRules(config)
    .filter((file) => file.path.includes('/rules/'))
    .flatMap((file) => (parse(transform(file.content)) as { groups: { rules: RuleYaml[] }[] }).groups.flatMap((g) => g.rules));
}

/** The generated (uncompressed) alert rule, by name and severity. */
function alertRule(name: string, severity: string): RuleYaml {
  const rule = generatedRules().find((r) => r.alert === name && r.labels?.severity === severity);
  if (!rule) throw new Error(`no generated alert ${name} (${severity})`);
  return rule;
}

const titled = (title: string) => (m: CapturedSlackMessage) => (m.payload.attachments ?? []).some((a) => a.title === title);

/** Checks a firing message against the generated rule: channel, title, summary, runbook and dashboard links. */
function expectFiring(message: CapturedSlackMessage, rule: RuleYaml, severity: 'critical' | 'warning', service: string) {
  const annotations = rule.annotations!;
  expect(message.payload.channel).toBe(expectedChannel(severity, rule.labels!.team!));
  const attachment = message.payload.attachments![0]!;
  expect(attachment.title).toBe(`[FIRING:1] ${rule.alert} (${severity}) on ${service}`);
  expect(attachment.title_link).toBe(annotations.dashboard_url);
  expect(attachment.text).toContain(`*${annotations.summary}*`);
  expect(attachment.text).toContain(`<${annotations.runbook_url}|Runbook>`);
  expect(attachment.text).toContain(`<${annotations.dashboard_url}|Dashboard>`);
  expect(annotations.runbook_url).toMatch(new RegExp(`^${config.links.runbookUrl.replace(/[.]/g, '\\.')}#${rule.alert!.toLowerCase()}$`));
  expect(annotations.dashboard_url).toMatch(new RegExp(`^${config.links.grafanaUrl}/d/`));
  expect(attachment.color).toBe(severity === 'critical' ? 'danger' : 'warning');
}

function expectResolved(message: CapturedSlackMessage, rule: RuleYaml, severity: 'critical' | 'warning', service: string) {
  expect(message.payload.channel).toBe(expectedChannel(severity, rule.labels!.team!));
  const attachment = message.payload.attachments![0]!;
  expect(attachment.title).toBe(`[RESOLVED:1] ${rule.alert} (${severity}) on ${service}`);
  expect(attachment.text).toContain(`Resolved: *${rule.annotations!.summary}*`);
  expect(attachment.text).toContain(`<${rule.annotations!.runbook_url}|Runbook>`);
  expect(attachment.color).toBe('good');
}

describe('compressed rule time (test helper)', () => {
  it('shrinks only range selectors and for:, leaving names, thresholds, labels, annotations and strings alone', () => {
    const real = generatedRules();
    const fast = generatedRules((text) => compressRuleTime(text));
    expect(fast.map((r) => r.alert ?? r.record)).toEqual(real.map((r) => r.alert ?? r.record));
    for (const [i, rule] of fast.entries()) {
      const original = real[i]!;
      expect(rule.labels).toEqual(original.labels);
      expect(rule.annotations).toEqual(original.annotations);
      expect(rule.for).toBe(original.for === undefined ? undefined : '2s');
      expect(rule.expr.replace(/\[10s\]/g, '')).toBe(original.expr.replace(/\[\d+[smhdwy]\]/g, ''));
    }
    expect(fast.find((r) => r.alert === 'ServiceLatencyP95High')?.expr).toBe('service:http_server_request_duration_seconds:p95_rate5m{service="api"} > 0.5');
    expect(compressRanges('rate(x{a="[5m]"}[5m]) + max_over_time(y[1h:5m]) offset 1h')).toBe('rate(x{a="[5m]"}[10s]) + max_over_time(y[10s:1s]) offset 1h');
  });
});

describe('fault injection makes the SLA alerts fire, reach Slack, and resolve', () => {
  let stack: E2eStack | undefined;
  let traffic: TrafficLoop | undefined;
  const api = config.services.find((s) => s.name === 'api')!;
  const latencyRule = alertRule('ServiceLatencyP95High', 'warning');
  const errorRule = alertRule('ServiceErrorRateHigh', 'critical');

  beforeAll(async () => {
    stack = await startE2eStack({ name: 'e2e-alerts', alerting: true, transformRules: (text) => compressRuleTime(text) });
    const statuses = await everyRoute(stack.app.url, 1);
    expect(Object.values(statuses).every((status) => status < 400)).toBe(true);
  });

  afterAll(async () => {
    stack?.app.fault.reset();
    await traffic?.stop();
    await stack?.stop();
  });

  it('800 ms of latency on /api fires ServiceLatencyP95High on the warning channel, with runbook and dashboard links', async () => {
    const { app, capture } = stack!;
    expect(capture!.messages.filter(titled(`[FIRING:1] ${latencyRule.alert} (warning) on ${api.name}`))).toEqual([]);
    expect(api.sla.latency.p95Seconds).toBe(0.5);
    app.fault.set({ latencyMs: 800, route: '/api/' });
    traffic = trafficLoop(app.url, ['/api/entities/1', '/api/entities?limit=5', '/api/entities/2'], 4, 150_000);
    const started = Date.now();
    const message = await capture!.waitFor(titled(`[FIRING:1] ${latencyRule.alert} (warning) on ${api.name}`), 60_000);
    console.log(`e2e-alerts: ServiceLatencyP95High reached Slack ${Date.now() - started} ms after the fault`);
    expectFiring(message, latencyRule, 'warning', api.name);
    expect(message.payload.channel).toBe('#perfstack-warnings');
    // The description carries the measured p95 (humanizeDuration), above the 500 ms SLA.
    expect(message.payload.attachments![0]!.text).toMatch(/p95 latency of api is (\d+(\.\d+)?ms|\d+(\.\d+)?s) over the last 5 minutes/);
  });

  it('50 % of 500s fires ServiceErrorRateHigh on the critical channel, and the latency alert resolves', async () => {
    const { app, capture } = stack!;
    app.fault.set({ errorRate: 0.5, route: '/api/' });
    const started = Date.now();
    const [firing, resolved] = await Promise.all([
      capture!.waitFor(titled(`[FIRING:1] ${errorRule.alert} (critical) on ${api.name}`), 60_000),
      capture!.waitFor(titled(`[RESOLVED:1] ${latencyRule.alert} (warning) on ${api.name}`), 60_000),
    ]);
    console.log(`e2e-alerts: ServiceErrorRateHigh reached Slack ${firing.receivedAt.getTime() - started} ms after the fault`);
    expectFiring(firing, errorRule, 'critical', api.name);
    expect(firing.payload.channel).toBe('#perfstack-critical');
    expect(firing.payload.attachments![0]!.text).toMatch(/api answers \d+(\.\d+)?% of requests with a 5xx status/);
    expectResolved(resolved, latencyRule, 'warning', api.name);
    expect(traffic!.statuses.get(500) ?? 0).toBeGreaterThan(5);
  });

  it('removing the fault sends the resolved message for the error alert', async () => {
    const { app, capture } = stack!;
    app.fault.reset();
    const resolved = await capture!.waitFor(titled(`[RESOLVED:1] ${errorRule.alert} (critical) on ${api.name}`), 60_000);
    expectResolved(resolved, errorRule, 'critical', api.name);
    await traffic!.stop();
    // Every request was answered (no connection failures or timeouts): 200s and injected 500s only.
    expect([...traffic!.statuses.keys()].sort()).toEqual([200, 500]);
    expect(traffic!.statuses.get(200) ?? 0).toBeGreaterThan(20);
  });
});
