import { Command, Option } from 'commander';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import { generateAll } from './generate.js';
import { findDrift, writeGeneratedFiles } from './write-files.js';
import { bootstrapTools, TOOL_GROUPS, type ToolGroup } from '../stack/index.js';
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
