import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { GENERATED_HEADER, SEVERITIES, renderYaml, type GeneratedFile, type PerfstackConfig, type Severity } from '../config/index.js';
import { SLACK_TEMPLATE_NAMES, callTemplate, renderSlackTemplate } from './templates/slack.tmpl.js';

export const ALERTMANAGER_DIR = 'provisioning/alertmanager';
export const ALERTMANAGER_CONFIG_PATH = `${ALERTMANAGER_DIR}/alertmanager.yml`;
export const SLACK_TEMPLATE_PATH = `${ALERTMANAGER_DIR}/templates/slack.tmpl`;

export interface AlertmanagerOptions {
  /** Where Alertmanager reads the Slack webhook URL; defaults to config.alerting.slackApiUrlFile. */
  slackApiUrlFile?: string;
}

/** The labels an alert carries and the receiver Alertmanager must pick for it. */
export interface RouteTestCase {
  labels: Record<string, string>;
  receiver: string;
}

type ReceiverBySeverity = Record<Severity, string>;

/** Who is notified where, decided once so the YAML and the route test cases cannot disagree. */
interface RoutingPlan {
  /** One Slack receiver per distinct channel, in order of first use. */
  receivers: { name: string; channel: string }[];
  bySeverity: ReceiverBySeverity;
  /** Only teams that override at least one channel; the others follow the severity routes. */
  teams: { name: string; bySeverity: ReceiverBySeverity }[];
}

function planRouting(config: PerfstackConfig): RoutingPlan {
  const receiverByChannel = new Map<string, string>();
  // A channel keeps the name of whoever claimed it first: severity channels come first,
  // so a team that reuses #perfstack-critical shares slack-critical instead of duplicating it.
  const claim = (channel: string, name: string): string => {
    const existing = receiverByChannel.get(channel);
    if (existing !== undefined) return existing;
    receiverByChannel.set(channel, name);
    return name;
  };
  const bySeverity = perSeverity((severity) => claim(config.alerting.severities[severity].channel, `slack-${severity}`));
  const teams = config.alerting.teams
    .filter((team) => Object.keys(team.channels).length > 0)
    .map((team) => ({
      name: team.name,
      bySeverity: perSeverity((severity) => {
        const channel = team.channels[severity];
        return channel === undefined ? bySeverity[severity] : claim(channel, `slack-${team.name}-${severity}`);
      }),
    }));
  const receivers = [...receiverByChannel].map(([channel, name]) => ({ name, channel }));
  return { receivers, bySeverity, teams };
}

function perSeverity(receiverFor: (severity: Severity) => string): ReceiverBySeverity {
  return Object.fromEntries(SEVERITIES.map((severity) => [severity, receiverFor(severity)])) as ReceiverBySeverity;
}

/** Alerts without a severity label go where warnings go. */
const DEFAULT_SEVERITY: Severity = 'warning';

function timings(config: PerfstackConfig, severity: Severity) {
  const { groupWait, groupInterval, repeatInterval } = config.alerting.severities[severity];
  return { group_wait: groupWait, group_interval: groupInterval, repeat_interval: repeatInterval };
}

function severityRoutes(config: PerfstackConfig, bySeverity: ReceiverBySeverity) {
  return SEVERITIES.map((severity) => ({
    matchers: [`severity="${severity}"`],
    receiver: bySeverity[severity],
    ...timings(config, severity),
  }));
}

/** The receiver of the always-firing Watchdog: the dead man's switch. */
export const HEARTBEAT_RECEIVER = 'heartbeat';
const WATCHDOG_ALERT = 'Watchdog';

/**
 * First route: the Watchdog goes to the heartbeat receiver only, re-sent every repeatInterval, so
 * an outside dead man's switch notices when the posts stop (and no Slack channel is spammed).
 */
function heartbeatRoute(config: PerfstackConfig) {
  return {
    matchers: [`alertname="${WATCHDOG_ALERT}"`],
    receiver: HEARTBEAT_RECEIVER,
    group_wait: '0s',
    group_interval: '1m',
    repeat_interval: config.alerting.heartbeat.repeatInterval,
  };
}

function heartbeatReceiver(config: PerfstackConfig) {
  const url = config.alerting.heartbeat.url;
  return url ? { name: HEARTBEAT_RECEIVER, webhook_configs: [{ url, send_resolved: false }] } : { name: HEARTBEAT_RECEIVER };
}

function routeTree(config: PerfstackConfig, plan: RoutingPlan) {
  const teamRoutes = plan.teams.map((team) => ({
    matchers: [`team="${team.name}"`],
    receiver: team.bySeverity[DEFAULT_SEVERITY],
    routes: severityRoutes(config, team.bySeverity),
  }));
  return {
    receiver: plan.bySeverity[DEFAULT_SEVERITY],
    group_by: config.alerting.groupBy,
    ...timings(config, DEFAULT_SEVERITY),
    routes: [heartbeatRoute(config), ...teamRoutes, ...severityRoutes(config, plan.bySeverity)],
  };
}

// A page already has someone's attention: the warning for the same problem, and the SLO ticket
// for the same budget burn (Sloth/Pyrra give both tiers one alertname and an slo label), add nothing.
const INHIBIT_RULES = [
  {
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity="warning"'],
    equal: ['alertname', 'service'],
  },
  {
    // slo=~".+" keeps non-SLO alerts out: labels missing on both sides would count as equal.
    source_matchers: ['severity="critical"', 'slo=~".+"'],
    target_matchers: ['severity="ticket"', 'slo=~".+"'],
    equal: ['alertname', 'slo'],
  },
];

function slackReceiver(name: string, channel: string) {
  return {
    name,
    slack_configs: [
      {
        channel,
        send_resolved: true,
        title: callTemplate(SLACK_TEMPLATE_NAMES.title),
        title_link: callTemplate(SLACK_TEMPLATE_NAMES.titleLink),
        text: callTemplate(SLACK_TEMPLATE_NAMES.text),
        color: callTemplate(SLACK_TEMPLATE_NAMES.color),
        fallback: callTemplate(SLACK_TEMPLATE_NAMES.fallback),
      },
    ],
  };
}

/**
 * alertmanager.yml and the Slack template. The webhook URL stays a secret: the config only names
 * the file Alertmanager reads it from.
 */
export function generateAlertmanager(config: PerfstackConfig, options: AlertmanagerOptions = {}): GeneratedFile[] {
  const plan = planRouting(config);
  const alertmanagerYaml = {
    global: {
      resolve_timeout: '5m',
      slack_api_url_file: options.slackApiUrlFile ?? config.alerting.slackApiUrlFile,
    },
    // Relative to alertmanager.yml, so the same file works in the container and the native stack.
    templates: [`${relative(dirname(ALERTMANAGER_CONFIG_PATH), dirname(SLACK_TEMPLATE_PATH))}/*.tmpl`],
    route: routeTree(config, plan),
    inhibit_rules: INHIBIT_RULES,
    receivers: [...plan.receivers.map(({ name, channel }) => slackReceiver(name, channel)), heartbeatReceiver(config)],
  };
  return [
    { path: ALERTMANAGER_CONFIG_PATH, content: renderYaml(alertmanagerYaml) },
    { path: SLACK_TEMPLATE_PATH, content: renderSlackTemplate(GENERATED_HEADER) },
  ];
}

/** Expected receiver for every severity, with and without each configured team, plus an unlabelled alert. */
export function routeTestCases(config: PerfstackConfig): RouteTestCase[] {
  const plan = planRouting(config);
  const overridesByTeam = new Map(plan.teams.map((team) => [team.name, team.bySeverity]));
  const withoutTeam = SEVERITIES.map((severity) => ({ labels: { severity }, receiver: plan.bySeverity[severity] }));
  const perTeam = config.alerting.teams.flatMap((team) =>
    SEVERITIES.map((severity) => ({
      labels: { severity, team: team.name },
      receiver: (overridesByTeam.get(team.name) ?? plan.bySeverity)[severity],
    })),
  );
  const unlabelled = { labels: { alertname: 'NoSeverityLabel' }, receiver: plan.bySeverity[DEFAULT_SEVERITY] };
  const teamName = config.alerting.teams[0]?.name ?? 'platform';
  const watchdog = { labels: { alertname: WATCHDOG_ALERT, severity: 'none', team: teamName }, receiver: HEARTBEAT_RECEIVER };
  return [...withoutTeam, ...perTeam, unlabelled, watchdog];
}

/**
 * Writes the generated files into `targetDir` (alertmanager.yml plus templates/), each through a
 * temporary file and a rename, and returns the path to pass as --config.file.
 */
export async function writeAlertmanagerConfig(targetDir: string, config: PerfstackConfig, options: AlertmanagerOptions = {}): Promise<string> {
  for (const file of generateAlertmanager(config, options)) {
    const target = join(targetDir, relative(ALERTMANAGER_DIR, file.path));
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, file.content);
    await rename(temporary, target);
  }
  return join(targetDir, relative(ALERTMANAGER_DIR, ALERTMANAGER_CONFIG_PATH));
}
