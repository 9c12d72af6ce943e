import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEVERITIES, parseConfig, type PerfstackConfig } from '../config/index.js';
import { alertmanagerLaunch, freePort, startLaunch, type RunningProcess } from '../stack/index.js';
import projectConfigInput from '../perfstack.config.js';
import { ALERTMANAGER_CONFIG_PATH, SLACK_TEMPLATE_PATH, generateAlertmanager, routeTestCases, writeAlertmanagerConfig } from './alertmanager.js';
import { startSlackCapture, type CapturedSlackMessage, type SlackAttachment, type SlackCapture } from './slack-capture.js';

const AMTOOL = '/usr/bin/amtool';

const projectConfig = parseConfig(projectConfigInput, 'perfstack.config.ts');

function amtool(args: string[]) {
  const result = spawnSync(AMTOOL, args, { encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, stdout: result.stdout.trim(), output: `${result.stdout}${result.stderr}` };
}

function labelArgs(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([name, value]) => `${name}=${value}`);
}

/** The receiver(s) amtool says the labels route to, as it prints them: comma-separated. */
function routedReceiver(configFile: string, labels: Record<string, string>): string {
  const result = amtool(['config', 'routes', 'test', `--config.file=${configFile}`, ...labelArgs(labels)]);
  expect(result.status, result.output).toBe(0);
  return result.stdout;
}

async function withTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `perfstack-${prefix}-`));
}

function contentOf(files: { path: string; content: string }[], path: string): string {
  const file = files.find((candidate) => candidate.path === path);
  if (!file) throw new Error(`not generated: ${path}`);
  return file.content;
}

/** The project config with one team that reuses a severity channel and one that overrides only pages. */
const sharedChannelConfig: PerfstackConfig = {
  ...projectConfig,
  alerting: {
    ...projectConfig.alerting,
    teams: [
      { name: 'payments', channels: { critical: projectConfig.alerting.severities.critical.channel, ticket: '#payments-tickets' } },
      { name: 'search', channels: { critical: '#search-pager' } },
    ],
  },
};

describe('generated alertmanager.yml', () => {
  let dir: string;
  const configFiles = new Map<string, string>();

  beforeAll(async () => {
    dir = await withTempDir('alertmanager');
    const slackUrlFile = join(dir, 'slack_api_url');
    await writeFile(slackUrlFile, 'http://127.0.0.1:9/never-called\n');
    for (const [name, config] of [
      ['project', projectConfig],
      ['shared-channel', sharedChannelConfig],
    ] as const) {
      configFiles.set(name, await writeAlertmanagerConfig(join(dir, name), config, { slackApiUrlFile: slackUrlFile }));
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const configFile = (name: string) => configFiles.get(name) ?? '';

  it.each(['project', 'shared-channel'])('passes amtool check-config (%s)', (name) => {
    const result = amtool(['check-config', configFile(name)]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('1 templates');
  });

  describe.each([
    ['project', projectConfig],
    ['shared-channel', sharedChannelConfig],
  ] as const)('routing of the %s config', (name, config) => {
    it.each(routeTestCases(config).map((testCase) => [labelArgs(testCase.labels).join(' '), testCase] as const))(
      '%s',
      (_, testCase) => {
        expect(routedReceiver(configFile(name), testCase.labels)).toBe(testCase.receiver);
      },
    );
  });

  it('routes the project teams as perfstack.config.ts says', () => {
    const expected = {
      'severity=critical team=database': 'slack-database-critical',
      'severity=ticket team=database': 'slack-database-ticket',
      'severity=critical team=platform': 'slack-critical',
      'severity=warning': 'slack-warning',
    };
    const actual = Object.fromEntries(
      routeTestCases(projectConfig)
        .map((testCase) => [labelArgs(testCase.labels).join(' '), testCase.receiver] as const)
        .filter(([labels]) => labels in expected),
    );
    expect(actual).toEqual(expected);
  });

  it('gives each distinct channel one receiver and falls back to the severity channel', () => {
    const all = (parse(contentOf(generateAlertmanager(sharedChannelConfig), ALERTMANAGER_CONFIG_PATH)) as AlertmanagerYaml).receivers;
    // The last receiver is the Watchdog's heartbeat (no Slack).
    expect(all[all.length - 1]).toEqual({ name: 'heartbeat' });
    const receivers = all.slice(0, -1);
    const channels = receivers.map((receiver) => receiver.slack_configs?.[0]?.channel);
    expect(new Set(channels).size).toBe(channels.length);
    const routeFor = (labels: Record<string, string>) => routedReceiver(configFile('shared-channel'), labels);
    expect(routeFor({ severity: 'critical', team: 'payments' })).toBe('slack-critical');
    expect(routeFor({ severity: 'warning', team: 'payments' })).toBe('slack-warning');
    expect(routeFor({ severity: 'ticket', team: 'payments' })).toBe('slack-payments-ticket');
    expect(routeFor({ severity: 'critical', team: 'search' })).toBe('slack-search-critical');
    expect(routeFor({ severity: 'ticket', team: 'search' })).toBe('slack-ticket');
  });

  it('detects a wrong expectation', () => {
    const labels = { severity: 'critical', team: 'database' };
    expect(routedReceiver(configFile('project'), labels)).not.toBe('slack-critical');
    const verified = amtool(['config', 'routes', 'test', `--config.file=${configFile('project')}`, '--verify.receivers=slack-critical', ...labelArgs(labels)]);
    expect(verified.status).not.toBe(0);
  });

  it('lets a page inhibit the matching warning and SLO ticket', () => {
    const { inhibit_rules: rules } = parse(contentOf(generateAlertmanager(projectConfig), ALERTMANAGER_CONFIG_PATH)) as AlertmanagerYaml;
    expect(rules).toContainEqual({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ['alertname', 'service'],
    });
    expect(rules).toContainEqual(
      expect.objectContaining({
        source_matchers: expect.arrayContaining(['severity="critical"']),
        target_matchers: expect.arrayContaining(['severity="ticket"']),
        equal: ['alertname', 'slo'],
      }),
    );
  });

  it('names the Slack URL file and never a Slack URL', () => {
    for (const files of [generateAlertmanager(projectConfig), generateAlertmanager(projectConfig, { slackApiUrlFile: '/run/secrets/slack' })]) {
      for (const file of files) {
        expect(file.content).not.toContain('hooks.slack.com');
        expect(file.content).not.toMatch(/https?:\/\//);
      }
    }
    const yaml = parse(contentOf(generateAlertmanager(projectConfig), ALERTMANAGER_CONFIG_PATH)) as AlertmanagerYaml;
    expect(yaml.global.slack_api_url_file).toBe(projectConfig.alerting.slackApiUrlFile);
    expect(yaml.global).not.toHaveProperty('slack_api_url');
    const overridden = parse(contentOf(generateAlertmanager(projectConfig, { slackApiUrlFile: '/run/secrets/slack' }), ALERTMANAGER_CONFIG_PATH)) as AlertmanagerYaml;
    expect(overridden.global.slack_api_url_file).toBe('/run/secrets/slack');
  });

  it('uses the perfstack templates and sends resolved messages on every receiver', () => {
    const yaml = parse(contentOf(generateAlertmanager(projectConfig), ALERTMANAGER_CONFIG_PATH)) as AlertmanagerYaml;
    for (const receiver of yaml.receivers) {
      for (const slack of receiver.slack_configs ?? []) {
        expect(slack.send_resolved, receiver.name).toBe(true);
        expect(slack.title).toBe('{{ template "slack.perfstack.title" . }}');
        expect(slack.text).toBe('{{ template "slack.perfstack.text" . }}');
      }
    }
  });

  it('sends the always-firing Watchdog only to the heartbeat receiver, a webhook when one is configured', () => {
    const withUrl: PerfstackConfig = { ...projectConfig, alerting: { ...projectConfig.alerting, heartbeat: { url: 'https://hc-ping.example/abc', repeatInterval: '5m' } } };
    const yaml = parse(contentOf(generateAlertmanager(withUrl), ALERTMANAGER_CONFIG_PATH)) as { route: { routes: Record<string, unknown>[] }; receivers: Record<string, unknown>[] };
    expect(yaml.route.routes[0]).toEqual({ matchers: ['alertname="Watchdog"'], receiver: 'heartbeat', group_wait: '0s', group_interval: '1m', repeat_interval: '5m' });
    expect(yaml.receivers.find((r) => r.name === 'heartbeat')).toEqual({ name: 'heartbeat', webhook_configs: [{ url: 'https://hc-ping.example/abc', send_resolved: false }] });
    expect(routedReceiver(configFile('project'), { alertname: 'Watchdog', severity: 'none', team: 'database' })).toBe('heartbeat');
  });

  it('is byte-stable', () => {
    expect(generateAlertmanager(projectConfig)).toEqual(generateAlertmanager(parseConfig(projectConfigInput)));
    expect(generateAlertmanager(projectConfig).map((file) => file.path)).toEqual([ALERTMANAGER_CONFIG_PATH, SLACK_TEMPLATE_PATH]);
  });
});

interface AlertmanagerYaml {
  global: Record<string, unknown>;
  inhibit_rules: unknown[];
  receivers: { name: string; slack_configs?: Record<string, unknown>[] }[];
}

describe('a live Alertmanager', () => {
  const FAST = { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' };
  const FAST_GROUP_WAIT_MS = 1_000;
  const liveConfig: PerfstackConfig = {
    ...projectConfig,
    alerting: {
      ...projectConfig.alerting,
      severities: Object.fromEntries(
        SEVERITIES.map((severity) => [severity, { ...projectConfig.alerting.severities[severity], ...FAST }]),
      ) as PerfstackConfig['alerting']['severities'],
    },
  };
  const annotations = {
    summary: 'API error ratio above 1 %',
    description: 'api answers 4.2 % of requests with a 5xx.',
    runbook_url: 'https://example.test/runbooks.md#perfstackliveprobe',
    dashboard_url: 'http://127.0.0.1:3000/d/perfstack-api',
  };
  const pageLabels = { alertname: 'PerfstackLiveProbe', severity: 'critical', team: 'platform', service: 'api' };
  const warningLabels = { ...pageLabels, severity: 'warning' };
  const databasePageLabels = { ...pageLabels, alertname: 'PerfstackLiveDatabaseProbe', team: 'database', service: 'postgres' };
  // startsAt "now", so each group waits its group_wait as it would behind Prometheus.
  const firing = (labels: Record<string, string>, startsAt: Date) => ({ labels, annotations, startsAt: startsAt.toISOString() });
  const resolvedAgo = (alert: ReturnType<typeof firing>) => ({ ...alert, endsAt: new Date(Date.now() - 100).toISOString() });

  let dir: string;
  let capture: SlackCapture;
  let alertmanager: RunningProcess | undefined;
  let apiUrl: string;

  beforeAll(async () => {
    dir = await withTempDir('alertmanager-live');
    capture = await startSlackCapture({ log: () => {} });
    const slackUrlFile = join(dir, 'slack_api_url');
    await writeFile(slackUrlFile, `${capture.url}\n`);
    const configFile = await writeAlertmanagerConfig(join(dir, 'config'), liveConfig, { slackApiUrlFile: slackUrlFile });
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}/api/v2`;
    alertmanager = await startLaunch('alertmanager', port, alertmanagerLaunch({ configFile, dataDir: join(dir, 'data'), port }));
  }, 15_000);

  afterAll(async () => {
    await alertmanager?.stop();
    await capture?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function postAlerts(alerts: object[]): Promise<void> {
    const response = await fetch(`${apiUrl}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    expect(response.status, await response.text()).toBe(200);
  }

  const attachment = (message: CapturedSlackMessage): SlackAttachment => message.payload.attachments?.[0] ?? {};
  const onChannel = (channel: string, titlePrefix: string) => (message: CapturedSlackMessage) =>
    message.payload.channel === channel && String(attachment(message).title ?? '').startsWith(titlePrefix);

  async function waitUntilInhibited(labels: Record<string, string>, timeoutMs: number): Promise<void> {
    const filter = new URLSearchParams(Object.entries(labels).map(([name, value]) => ['filter', `${name}="${value}"`]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const alerts = (await (await fetch(`${apiUrl}/alerts?${filter}`)).json()) as { status: { state: string; inhibitedBy: string[] } }[];
      if (alerts[0]?.status.state === 'suppressed' && alerts[0].status.inhibitedBy.length > 0) return;
      if (Date.now() > deadline) throw new Error(`${JSON.stringify(labels)} not inhibited: ${JSON.stringify(alerts)}`);
      await sleep(200);
    }
  }

  it('posts firing and resolved messages to the severity and team channels', { timeout: 30_000 }, async () => {
    const { critical, warning } = liveConfig.alerting.severities;
    const databaseCritical = liveConfig.alerting.teams.find((team) => team.name === 'database')?.channels.critical ?? '';
    const page = firing(pageLabels, new Date());
    await postAlerts([page, firing(databasePageLabels, new Date())]);

    const fired = await capture.waitFor(onChannel(critical.channel, '[FIRING:1] PerfstackLiveProbe (critical)'), 10_000);
    expect(attachment(fired).text).toContain(annotations.summary);
    expect(attachment(fired).text).toContain(annotations.description);
    expect(attachment(fired).text).toContain(`<${annotations.runbook_url}|Runbook>`);
    expect(attachment(fired).text).toContain(`<${annotations.dashboard_url}|Dashboard>`);
    expect(attachment(fired).title_link).toBe(annotations.dashboard_url);
    expect(attachment(fired).color).toBe('danger');
    await capture.waitFor(onChannel(databaseCritical, '[FIRING:1] PerfstackLiveDatabaseProbe (critical)'), 10_000);

    // The warning arrives after the page is known: posted together, the inhibitor can lose the race.
    await postAlerts([firing(warningLabels, new Date())]);
    await waitUntilInhibited(warningLabels, 5_000);
    await sleep(FAST_GROUP_WAIT_MS + 500);
    const onWarningChannel = (message: CapturedSlackMessage) => message.payload.channel === warning.channel;
    expect(capture.messages.filter(onWarningChannel)).toEqual([]);

    const pageResolvedAt = new Date();
    await postAlerts([resolvedAgo(page)]);
    const resolved = await capture.waitFor(onChannel(critical.channel, '[RESOLVED:1] PerfstackLiveProbe (critical)'), 10_000);
    expect(attachment(resolved).text).toContain(`Resolved: *${annotations.summary}*`);
    expect(attachment(resolved).text).toContain(`<${annotations.runbook_url}|Runbook>`);
    expect(attachment(resolved).color).toBe('good');

    // With the page gone the warning is no longer inhibited and reaches its channel.
    const released = await capture.waitFor(onWarningChannel, 10_000);
    expect(attachment(released).title).toBe('[FIRING:1] PerfstackLiveProbe (warning) on api');
    expect(released.receivedAt.getTime()).toBeGreaterThanOrEqual(pageResolvedAt.getTime());
  });
});

describe('slack capture', () => {
  it('records what it receives and reports a timeout with what it saw', async () => {
    const capture = await startSlackCapture({ log: () => {} });
    try {
      const response = await fetch(capture.url, { method: 'POST', body: JSON.stringify({ channel: '#x', text: 'hello' }) });
      expect(await response.text()).toBe('ok');
      expect((await capture.waitFor((message) => message.payload.text === 'hello', 1_000)).payload.channel).toBe('#x');
      await expect(capture.waitFor((message) => message.payload.text === 'never', 50)).rejects.toThrow(/#x: hello/);
    } finally {
      await capture.stop();
    }
  });
});

