import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import { generateAll } from './generate.js';
import { findDrift, writeGeneratedFiles } from './write-files.js';
import { filesAtRevision, filesFromGenerated, generatedPathsAtRevision, reviewSummary } from './review-summary.js';
import { bootstrapTools, startNativeStack, stopNativeStack, TOOL_GROUPS, type ToolGroup } from '../stack/index.js';
import { startSlackCapture, writeAlertmanagerConfig } from '../alerts/index.js';
import { checkGenerated } from './check.js';

const program = new Command()
  .name('perfstack')
  .description('Performance-testing and monitoring stack as code: one config generates dashboards, rules, routing and k6 thresholds.')
  .showHelpAfterError();

const configOption = () => new Option('-c, --config <file>', 'the perfstack config module').default(DEFAULT_CONFIG_FILE);

program
  .command('generate')
  .description('Generate dashboards, Prometheus rules and tests, Alertmanager routing, Grafana provisioning and k6 thresholds from the config')
  .addOption(configOption())
  .option('--check', 'write nothing; exit 1 if any generated file is stale')
  .action(async (options: { config: string; check?: boolean }) => {
    const config = await loadConfig(options.config);
    const files = generateAll(config);
    if (options.check) {
      const drift = findDrift(process.cwd(), files);
      const stale = [...drift.changed, ...drift.orphaned.map((path) => `${path} (no longer generated)`)];
      if (stale.length > 0) {
        console.error(`Stale generated files; run \`perfstack generate\` and commit:\n${stale.map((p) => `  ${p}`).join('\n')}`);
        process.exitCode = 1;
        return;
      }
      console.log(`All ${files.length} generated files are up to date.`);
      return;
    }
    const drift = writeGeneratedFiles(process.cwd(), files);
    for (const path of drift.changed) console.log(`wrote   ${path}`);
    for (const path of drift.orphaned) console.log(`removed ${path}`);
    console.log(`${files.length} files generated, ${drift.changed.length} changed, ${drift.orphaned.length} removed.`);
  });

program
  .command('summary')
  .description('Summarise in plain language what the config change does to the generated rules, dashboards, routing and k6 thresholds, against a git revision')
  .addOption(configOption())
  .option('--base <revision>', 'the git revision to compare with', 'HEAD')
  .action(async (options: { config: string; base: string }) => {
    const config = await loadConfig(options.config);
    const current = generateAll(config);
    const paths = [...new Set([...generatedPathsAtRevision(options.base), ...current.map((file) => file.path)])];
    console.log(reviewSummary(filesAtRevision(options.base, paths), filesFromGenerated(current)));
  });

program
  .command('check')
  .description('Validate the generated files with promtool (config, rules, rule unit tests) and amtool (config)')
  .action(() => {
    if (!checkGenerated(process.cwd())) process.exitCode = 1;
  });

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
  .addOption(new Option('--state-dir <dir>', 'where data, logs and PIDs live').env('PERFSTACK_STATE_DIR').default('.state'))
  .addOption(new Option('--slack-webhook-url <url>', 'a real Slack webhook; without one, messages go to a local capture server').env('SLACK_WEBHOOK_URL'))
  .action(async (options: { config: string; stateDir: string; slackWebhookUrl?: string }) => {
    await bootstrapTools(['prometheus'], { dryRun: false });
    const config = await loadConfig(options.config);
    const components = await startNativeStack(config, {
      stateDir: options.stateDir,
      ruleFiles: generateAll(config).filter((file) => file.path.startsWith('provisioning/prometheus/rules/')),
      writeAlertmanager: (folder, slackApiUrlFile) => writeAlertmanagerConfig(folder, config, { slackApiUrlFile }),
      slackWebhookUrl: options.slackWebhookUrl,
      captureCommand: [process.execPath, fileURLToPath(new URL('../bin/perfstack.js', import.meta.url)), 'slack-capture'],
    });
    console.log('\nperfstack is running:');
    for (const component of components) console.log(`  ${component.name.padEnd(14)} ${component.url.padEnd(24)} pid ${String(component.pid).padEnd(8)} log ${component.log}`);
    console.log(`\nStop it with: npx perfstack down --state-dir ${options.stateDir}`);
  });

program
  .command('down')
  .description('Stop everything `perfstack start` started, by the PIDs it recorded')
  .addOption(new Option('--state-dir <dir>', 'the state folder `start` used').env('PERFSTACK_STATE_DIR').default('.state'))
  .action(async (options: { stateDir: string }) => {
    const stopped = await stopNativeStack(options.stateDir);
    console.log(`${stopped} process(es) stopped.`);
  });

program
  .command('slack-capture')
  .description('Run a local HTTP server that records and prints what Slack would receive')
  .addOption(new Option('--port <port>', 'loopback port (0 picks a free one)').default(0).argParser((v) => {
    const port = Number(v);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('--port must be an integer from 0 to 65535');
    return port;
  }))
  .action(async (options: { port: number }) => {
    const capture = await startSlackCapture({ port: options.port });
    const stop = () => void capture.stop().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
