import { parse } from 'yaml';
import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { ALERTMANAGER_CONFIG_PATH, SLACK_TEMPLATE_PATH, generateAlertmanager } from '../alerts/index.js';
import { configMap, objectFile, objectMeta } from './objects.js';
import { PROMETHEUS_OPERATOR_DIR } from './prometheus-operator.js';

// The generated alertmanager.yml translated into prometheus-operator's AlertmanagerConfig
// (monitoring.coreos.com/v1alpha1): the same route tree, receivers and inhibit rules, with the
// Slack webhook URL read from a Secret key. Translated from the YAML, so alerts/ stays the one
// place routing is decided; a key this translation does not know fails generation instead of
// being dropped.

export const ALERTMANAGER_CONFIG_NAME = 'perfstack';
export const ALERTMANAGER_TEMPLATES_CONFIGMAP = 'perfstack-alertmanager-templates';

type Yaml = Record<string, unknown>;

interface Matcher {
  name: string;
  value: string;
  matchType: '=' | '!=' | '=~' | '!~';
}

/** `severity="critical"` → { name, value, matchType }, as AlertmanagerConfig spells a matcher. */
export function parseMatcher(text: string): Matcher {
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"$/.exec(text);
  if (!match) throw new Error(`alertmanager.yml: cannot translate matcher ${JSON.stringify(text)} (expected name="value")`);
  return { name: match[1]!, value: JSON.parse(`"${match[3]!}"`) as string, matchType: match[2] as Matcher['matchType'] };
}

function known(where: string, value: Yaml, keys: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new Error(`${ALERTMANAGER_CONFIG_PATH}: ${where} has ${unknown.join(', ')}, which kubernetes/alertmanager-config.ts does not translate yet`);
}

const ROUTE_KEYS = ['receiver', 'group_by', 'group_wait', 'group_interval', 'repeat_interval', 'matchers', 'continue', 'routes'] as const;

function route(value: Yaml, where: string): Yaml {
  known(where, value, ROUTE_KEYS);
  const out: Yaml = {};
  if (value.receiver !== undefined) out.receiver = value.receiver;
  if (value.group_by !== undefined) out.groupBy = value.group_by;
  if (value.group_wait !== undefined) out.groupWait = value.group_wait;
  if (value.group_interval !== undefined) out.groupInterval = value.group_interval;
  if (value.repeat_interval !== undefined) out.repeatInterval = value.repeat_interval;
  if (value.matchers !== undefined) out.matchers = (value.matchers as string[]).map(parseMatcher);
  if (value.continue !== undefined) out.continue = value.continue;
  if (value.routes !== undefined) out.routes = (value.routes as Yaml[]).map((child, i) => route(child, `${where}.routes[${i}]`));
  return out;
}

const SLACK_KEYS = { channel: 'channel', send_resolved: 'sendResolved', title: 'title', title_link: 'titleLink', text: 'text', color: 'color', fallback: 'fallback' } as const;

function slackConfig(config: PerfstackConfig, value: Yaml, where: string): Yaml {
  known(where, value, Object.keys(SLACK_KEYS));
  const { name, key } = config.kubernetes.slackSecret;
  const out: Yaml = { apiURL: { name, key } };
  for (const [from, to] of Object.entries(SLACK_KEYS)) if (value[from] !== undefined) out[to] = value[from];
  return out;
}

function webhookConfig(value: Yaml, where: string): Yaml {
  known(where, value, ['url', 'send_resolved']);
  return { url: value.url, sendResolved: value.send_resolved };
}

function receiver(config: PerfstackConfig, value: Yaml, where: string): Yaml {
  known(where, value, ['name', 'slack_configs', 'webhook_configs']);
  const out: Yaml = { name: value.name };
  if (value.slack_configs) out.slackConfigs = (value.slack_configs as Yaml[]).map((c, i) => slackConfig(config, c, `${where}.slack_configs[${i}]`));
  if (value.webhook_configs) out.webhookConfigs = (value.webhook_configs as Yaml[]).map((c, i) => webhookConfig(c, `${where}.webhook_configs[${i}]`));
  return out;
}

function inhibitRule(value: Yaml, where: string): Yaml {
  known(where, value, ['source_matchers', 'target_matchers', 'equal']);
  return {
    sourceMatch: (value.source_matchers as string[]).map(parseMatcher),
    targetMatch: (value.target_matchers as string[]).map(parseMatcher),
    equal: value.equal,
  };
}

/** The AlertmanagerConfig object, from the generated alertmanager.yml. */
export function alertmanagerConfig(config: PerfstackConfig): Record<string, unknown> {
  const generated = generateAlertmanager(config).find((file) => file.path === ALERTMANAGER_CONFIG_PATH);
  if (!generated) throw new Error(`generateAlertmanager() no longer produces ${ALERTMANAGER_CONFIG_PATH}`);
  const yaml = parse(generated.content) as Yaml;
  // global (resolve_timeout, the Slack URL file) and templates belong to the Alertmanager
  // object, not to an AlertmanagerConfig: docs/kubernetes.md says where they go.
  known('the top level', yaml, ['global', 'templates', 'route', 'inhibit_rules', 'receivers']);
  return {
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'AlertmanagerConfig',
    metadata: objectMeta(config, ALERTMANAGER_CONFIG_NAME, 'alerting'),
    spec: {
      route: route(yaml.route as Yaml, 'route'),
      receivers: (yaml.receivers as Yaml[]).map((r, i) => receiver(config, r, `receivers[${i}]`)),
      inhibitRules: ((yaml.inhibit_rules ?? []) as Yaml[]).map((r, i) => inhibitRule(r, `inhibit_rules[${i}]`)),
    },
  };
}

/** The Slack message templates the receivers call, for the Alertmanager object to load. */
export function alertmanagerTemplates(config: PerfstackConfig): Record<string, unknown> {
  const template = generateAlertmanager(config).find((file) => file.path === SLACK_TEMPLATE_PATH);
  if (!template) throw new Error(`generateAlertmanager() no longer produces ${SLACK_TEMPLATE_PATH}`);
  return configMap(objectMeta(config, ALERTMANAGER_TEMPLATES_CONFIGMAP, 'alerting'), { 'slack.tmpl': template.content }, SLACK_TEMPLATE_PATH);
}

export function generateAlertmanagerObjects(config: PerfstackConfig): GeneratedFile[] {
  const { name, key } = config.kubernetes.slackSecret;
  return [
    objectFile(
      `${PROMETHEUS_OPERATOR_DIR}/alertmanagerconfig.yaml`,
      alertmanagerConfig(config),
      `The routing of ${ALERTMANAGER_CONFIG_PATH}; the Slack webhook URL is key ${key} of Secret ${name} (kubectl create secret generic ${name} --from-file=${key}=PATH).`,
    ),
    objectFile(
      `${PROMETHEUS_OPERATOR_DIR}/configmap-alertmanager-templates.yaml`,
      alertmanagerTemplates(config),
      `The receivers call these templates: list this ConfigMap in the Alertmanager's spec.alertmanagerConfiguration.templates.`,
    ),
  ];
}
