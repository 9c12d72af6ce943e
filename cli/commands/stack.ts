import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { bootstrapTools, startNativeStack, stopNativeStack, TOOL_GROUPS, type NativeStack, type ToolGroup } from '../../stack/index.js';
import { describeK6Exit, formatVerdictTable, newTestId, runScenario, scenarioNames } from '../../k6/index.js';
import { startSlackCapture, writeAlertmanagerConfig } from '../../alerts/index.js';
import { DASHBOARD_UIDS } from '../../dashboards/index.js';
import { generateAll } from '../generate.js';
import { configOption, parsePort, stateDirOption, untilSignal } from '../options.js';
import { startUserGrafana, startViewerProcess, stopViewerProcesses, type ViewerProcess } from '../../viewer/index.js';
import { DASHBOARDS_FOLDER, DATASOURCES_FOLDER } from './dashboards.js';

/** The viewer and the user's own Grafana, started after the native stack (stack/native.ts does not know them). */
interface Viewers {
  viewer?: ViewerProcess;
  grafana?: ViewerProcess;
  /** One line each for what did not start. */
  notes: string[];
}

async function startViewers(config: Awaited<ReturnType<typeof loadConfig>>, stack: NativeStack, stateDir: string, perfstackCommand: string[]): Promise<Viewers> {
  const out: Viewers = { notes: [] };
  try {
    out.viewer = await startViewerProcess({ stateDir, prometheusUrl: stack.urls.prometheus, perfstackCommand, dashboardsDir: DASHBOARDS_FOLDER, datasourcesDir: DATASOURCES_FOLDER });
  } catch (error) {
    out.notes.push(`dashboard viewer did not start: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    out.grafana = await startUserGrafana({ stateDir, config, prometheusUrl: stack.urls.prometheus, provisioningDir: 'provisioning/grafana' });
    if (!out.grafana) out.notes.push('Grafana: not installed (no grafana or grafana-server on PATH); perfstack never downloads it — the viewer shows the dashboards.');
  } catch (error) {
    out.notes.push(`Grafana did not start: ${(error as Error).message.split('\n')[0]}`);
  }
  return out;
}

/** The table `perfstack start` ends with: where everything answers, and where its secrets are. */
function printStack(stack: NativeStack, stateDir: string, viewers: Viewers): void {
  const extra = [viewers.viewer, viewers.grafana].filter((p): p is ViewerProcess => p !== undefined);
  const rows = [...stack.components, ...extra].map((c) => [c.name, c.url, String(c.pid), c.log]);
  const header = ['component', 'url', 'pid', 'log'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`;
  console.log('\nperfstack is running:');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('');
  if (stack.files.slackCaptureLog) console.log(`  Slack messages (capture server): ${stack.files.slackCaptureLog}`);
  console.log(`  admin token (PERFSTACK_ADMIN_TOKEN, /admin/fault): ${stack.files.adminToken}`);
  console.log(`  database URL, password included (use as DATABASE_URL_FILE): ${stack.files.databaseUrl}`);
  console.log(`  baseline store URL (role perfstack_store; run, import and compare use it): ${stack.files.storeUrl}`);
  console.log(`  Prometheus remote-write (load runs): ${stack.urls.prometheusRemoteWrite}`);
  if (stack.urls.longTermStore) console.log(`  long-term store (Prometheus remote-writes here; Prometheus query API): ${stack.urls.longTermStore}`);
  if (viewers.viewer) console.log(`  dashboards (perfstack viewer): ${viewers.viewer.url}`);
  if (viewers.grafana) console.log(`  Grafana (your own install; admin password in ${join(stateDir, 'secrets', 'grafana_admin_password')}): ${viewers.grafana.url}`);
  for (const note of viewers.notes) console.log(`  ${note}`);
  console.log(`\nStop it with: npx perfstack down --state-dir ${stateDir}`);
}

/** bootstrap, start, down and slack-capture: running the stack. */
export function registerStackCommands(program: Command): void {
  program
    .command('bootstrap')
    .description('Install the system tools perfstack needs (Debian packages), skipping what is already there')
    .addOption(new Option('--group <group...>', 'tool groups to install').choices(Object.keys(TOOL_GROUPS)).default(Object.keys(TOOL_GROUPS)))
    .option('--dry-run', 'say what would be installed, install nothing')
    .addHelpText(
      'after',
      `
Load tests run on perfstack's own engine; nothing here fetches or builds k6 (it is AGPL-licensed).
To use your own k6 with \`perfstack run --engine k6\`, install it from Grafana's packages
(https://grafana.com/docs/k6/latest/set-up/install-k6/, e.g. their Debian repository) and put it
on PATH or point K6_BINARY at it.`,
    )
    .action(async (options: { group: ToolGroup[]; dryRun?: boolean }) => {
      await bootstrapTools(options.group, { dryRun: options.dryRun ?? false });
    });

  program
    .command('start')
    .description(
      'Run the stack natively on loopback (no Docker): PostgreSQL, the reference service, the pg-stats exporter, node_exporter, Alertmanager, Prometheus, a Slack capture server, the dashboard viewer, and your own Grafana if one is installed',
    )
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(new Option('--slack-webhook-url <url>', 'a real Slack webhook; without one, messages go to a local capture server').env('SLACK_WEBHOOK_URL'))
    .addOption(new Option('--scenario <name>', 'the load scenario to run once the stack is up').choices(scenarioNames()).default('smoke'))
    .option('--no-load', 'start the stack without running a load scenario')
    .option('--long-term-store', 'also run VictoriaMetrics and remote-write everything to it (as config.longTermStore.enabled does; docs/long-term-storage.md)')
    .action(async (options: { config: string; stateDir: string; slackWebhookUrl?: string; scenario: string; load: boolean; longTermStore?: boolean }) => {
      const config = await loadConfig(options.config);
      const longTermStore = (options.longTermStore ?? false) || config.longTermStore.enabled;
      await bootstrapTools(['prometheus', 'postgres', 'redis', ...(longTermStore && !config.longTermStore.remoteWriteUrl ? (['longTermStore'] as const) : [])], { dryRun: false });
      const bin = fileURLToPath(new URL('../../bin/perfstack.js', import.meta.url));
      let stack: NativeStack;
      try {
        stack = await startNativeStack(config, {
          stateDir: options.stateDir,
          ruleFiles: generateAll(config).filter((file) => file.path.startsWith('provisioning/prometheus/rules/')),
          writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, config, { slackApiUrlFile }),
          slackWebhookUrl: options.slackWebhookUrl,
          perfstackCommand: [process.execPath, bin],
          configFile: options.config,
          longTermStore,
        });
      } catch (error) {
        console.error(`\nperfstack start failed: ${(error as Error).message}`);
        console.error(`\nWhat did start is recorded; stop it with: npx perfstack down --state-dir ${options.stateDir}`);
        process.exitCode = 1;
        return;
      }
      const viewers = await startViewers(config, stack, options.stateDir, [process.execPath, bin]);
      if (options.load) {
        console.log(`\nRunning the ${options.scenario} scenario against ${stack.urls.app} (results pushed to Prometheus)...`);
        const testid = newTestId(options.scenario);
        const run = await runScenario({
          scenario: options.scenario,
          testid,
          baseUrl: stack.urls.app,
          prometheusUrl: stack.urls.prometheus,
          outputDir: join(options.stateDir, 'runs', testid),
          log: (line) => console.log(`  ${line}`),
        });
        printStack(stack, options.stateDir, viewers);
        console.log(`\nLoad test ${run.testid}: ${run.passed ? 'all SLA thresholds passed' : 'SLA thresholds FAILED'} (${describeK6Exit(run.exitCode)})`);
        console.log(formatVerdictTable(run.verdicts));
        console.log(`Summary ${run.summaryPath}, HTML report ${run.reportPath}`);
        const viewerUrl = viewers.viewer ? ` or ${viewers.viewer.url}/d/${DASHBOARD_UIDS.k6}?var-testid=${encodeURIComponent(run.testid)}` : '';
        console.log(`In Grafana pick testid ${run.testid} on the Load tests dashboard${viewerUrl}; in Prometheus: k6_http_reqs_total{testid="${run.testid}"}`);
      } else {
        printStack(stack, options.stateDir, viewers);
      }
    });

  program
    .command('down')
    .description('Stop everything `perfstack start` started, by the PIDs it recorded (PostgreSQL with pg_ctl stop -m fast), in reverse order')
    .addOption(stateDirOption())
    .action(async (options: { stateDir: string }) => {
      // The viewer and Grafana first: they query Prometheus, which stops with the stack.
      const viewers = await stopViewerProcesses(options.stateDir);
      const stopped = viewers + (await stopNativeStack(options.stateDir));
      console.log(`${stopped} process(es) stopped.`);
    });

  program
    .command('slack-capture')
    .description('Run a local HTTP server that records and prints what Slack would receive')
    .addOption(new Option('--port <port>', 'loopback port (0 picks a free one)').default(0).argParser(parsePort('--port')))
    .action(async (options: { port: number }) => {
      const capture = await startSlackCapture({ port: options.port });
      await untilSignal();
      await capture.stop();
    });
}
