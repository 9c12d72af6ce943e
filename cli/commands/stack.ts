import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { bootstrapTools, startNativeStack, stopNativeStack, TOOL_GROUPS, type ToolGroup } from '../../stack/index.js';
import { startSlackCapture, writeAlertmanagerConfig } from '../../alerts/index.js';
import { generateAll } from '../generate.js';
import { configOption, parsePort, stateDirOption, untilSignal } from '../options.js';

/** bootstrap, start, down and slack-capture: running the stack. */
export function registerStackCommands(program: Command): void {
  program
    .command('bootstrap')
    .description('Install the system tools perfstack needs (Debian packages), skipping what is already there')
    .addOption(new Option('--group <group...>', 'tool groups to install').choices(Object.keys(TOOL_GROUPS)).default(Object.keys(TOOL_GROUPS)))
    .option('--dry-run', 'say what would be installed, install nothing')
    .action(async (options: { group: ToolGroup[]; dryRun?: boolean }) => {
      await bootstrapTools(options.group, { dryRun: options.dryRun ?? false });
    });

  program
    .command('start')
    .description('Run the stack natively on loopback (no Docker): Prometheus, Alertmanager, node_exporter and a Slack capture server')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(new Option('--slack-webhook-url <url>', 'a real Slack webhook; without one, messages go to a local capture server').env('SLACK_WEBHOOK_URL'))
    .action(async (options: { config: string; stateDir: string; slackWebhookUrl?: string }) => {
      await bootstrapTools(['prometheus'], { dryRun: false });
      const config = await loadConfig(options.config);
      const components = await startNativeStack(config, {
        stateDir: options.stateDir,
        ruleFiles: generateAll(config).filter((file) => file.path.startsWith('provisioning/prometheus/rules/')),
        writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, config, { slackApiUrlFile }),
        slackWebhookUrl: options.slackWebhookUrl,
        captureCommand: [process.execPath, fileURLToPath(new URL('../../bin/perfstack.js', import.meta.url)), 'slack-capture'],
      });
      console.log('\nperfstack is running:');
      for (const c of components) console.log(`  ${c.name.padEnd(14)} ${c.url.padEnd(24)} pid ${String(c.pid).padEnd(8)} log ${c.log}`);
      console.log(`\nStop it with: npx perfstack down --state-dir ${options.stateDir}`);
    });

  program
    .command('down')
    .description('Stop everything `perfstack start` started, by the PIDs it recorded')
    .addOption(stateDirOption())
    .action(async (options: { stateDir: string }) => {
      const stopped = await stopNativeStack(options.stateDir);
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
