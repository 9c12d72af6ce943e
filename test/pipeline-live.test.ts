import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import defaults from '../perfstack.config.js';
import { parseConfig, renderYaml } from '../config/index.js';
import { generateAll, writeGeneratedFiles } from '../cli/index.js';
import { startSlackCapture, writeAlertmanagerConfig, type SlackCapture } from '../alerts/index.js';
import { alertmanagerLaunch, freePort, prometheusConfig, prometheusLaunch, startLaunch, type RunningProcess } from '../stack/index.js';

// The generated files, loaded by the real binaries: Prometheus evaluates every generated rule and
// sends to Alertmanager, which routes to the Slack capture server with the generated templates.

const config = parseConfig(defaults);
const fastRouting = structuredClone(defaults);
for (const severity of Object.values(fastRouting.alerting.severities)) {
  severity.groupWait = '1s';
  severity.groupInterval = '1s';
}

const PROBE_RULES = {
  groups: [
    {
      name: 'pipeline-probe',
      rules: [
        {
          alert: 'PerfstackPipelineProbe',
          expr: 'vector(1)',
          labels: { severity: 'critical', team: 'platform', service: 'api' },
          annotations: {
            summary: 'Pipeline probe for the api service',
            description: 'Value {{ $value }} proves Prometheus reaches Alertmanager reaches Slack.',
            runbook_url: `${config.links.runbookUrl}#perfstackpipelineprobe`,
            dashboard_url: `${config.links.grafanaUrl}/d/perfstack-service-overview`,
          },
        },
      ],
    },
  ],
};

interface RulesResponse {
  data: { groups: { name: string; file: string; rules: { name: string; type: string; health: string; lastError?: string }[] }[] };
}

describe('generated rules and routing on live Prometheus and Alertmanager', () => {
  let root: string;
  let capture: SlackCapture;
  let alertmanager: RunningProcess | undefined;
  let prometheus: RunningProcess | undefined;
  let prometheusUrl: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'perfstack-live-'));
    writeGeneratedFiles(root, generateAll(config));
    capture = await startSlackCapture({ log: () => undefined });
    const slackUrlFile = join(root, 'slack_api_url');
    writeFileSync(slackUrlFile, capture.url);

    const alertmanagerPort = await freePort();
    const alertmanagerConfig = await writeAlertmanagerConfig(join(root, 'am'), parseConfig(fastRouting), { slackApiUrlFile: slackUrlFile });
    alertmanager = await startLaunch('alertmanager', alertmanagerPort, alertmanagerLaunch({ configFile: alertmanagerConfig, dataDir: join(root, 'am-data'), port: alertmanagerPort }));

    const prometheusPort = await freePort();
    const rulesFolder = join(root, 'provisioning/prometheus/rules');
    mkdirSync(rulesFolder, { recursive: true });
    writeFileSync(join(rulesFolder, 'zz-pipeline-probe.yml'), renderYaml(PROBE_RULES));
    const serviceTargets = Object.fromEntries(config.services.map((s) => [s.job, '127.0.0.1:1']));
    const prometheusYaml = prometheusConfig(
      { ...config, scrape: { interval: '1s', evaluationInterval: '1s' } },
      { serviceTargets, pgStats: '127.0.0.1:1', nodeExporter: '127.0.0.1:1', prometheus: `127.0.0.1:${prometheusPort}`, alertmanager: `127.0.0.1:${alertmanagerPort}` },
      `${rulesFolder}/*.yml`,
    );
    const prometheusConfigFile = join(root, 'prometheus.yml');
    writeFileSync(prometheusConfigFile, renderYaml(prometheusYaml));
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = await startLaunch(
      'prometheus',
      prometheusPort,
      prometheusLaunch({ configFile: prometheusConfigFile, dataDir: join(root, 'prom-data'), port: prometheusPort, fastAlerts: true }),
    );
  });

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await capture?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('loads every generated rule, and each evaluates without error', async () => {
    const rulesFolder = join(root, 'provisioning/prometheus/rules');
    const generated = readdirSync(rulesFolder)
      .filter((file) => file !== 'zz-pipeline-probe.yml')
      .flatMap((file) => (parse(readFileSync(join(rulesFolder, file), 'utf8')) as { groups: { rules: { alert?: string; record?: string }[] }[] }).groups)
      .flatMap((group) => group.rules.map((rule) => rule.alert ?? rule.record!));
    expect(generated.length).toBeGreaterThan(0);

    // Wait for one full evaluation so that health moves from "unknown" to "ok" or "err".
    let loaded: RulesResponse['data']['groups'][number]['rules'] = [];
    const deadline = Date.now() + 20_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const response = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as RulesResponse;
      loaded = response.data.groups.filter((g) => !g.file.endsWith('zz-pipeline-probe.yml')).flatMap((g) => g.rules);
    } while (loaded.some((rule) => rule.health === 'unknown') && Date.now() < deadline);

    expect(loaded.map((rule) => rule.name).sort()).toEqual([...generated].sort());
    const unhealthy = loaded.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
    expect(unhealthy).toEqual([]);
  });

  it('delivers a firing alert to Slack through the generated routing and templates, on the severity channel', async () => {
    const message = await capture.waitFor(
      (m) => (m.payload.attachments ?? []).some((a) => a.title?.includes('PerfstackPipelineProbe')),
      30_000,
    );
    expect(message.payload.channel).toBe(config.alerting.severities.critical.channel);
    const attachment = message.payload.attachments![0]!;
    expect(attachment.title).toBe('[FIRING:1] PerfstackPipelineProbe (critical) on api');
    expect(attachment.text).toContain('Pipeline probe for the api service');
    expect(attachment.text).toContain('Value 1 proves Prometheus reaches Alertmanager reaches Slack.');
    expect(attachment.text).toContain(`<${config.links.runbookUrl}#perfstackpipelineprobe|Runbook>`);
    expect(attachment.text).toContain(`<${config.links.grafanaUrl}/d/perfstack-service-overview|Dashboard>`);
    expect(attachment.color).toBe('danger');
  });
});
