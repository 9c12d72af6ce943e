import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { registerGenerateCommands } from './commands/generate.js';
import { registerStackCommands } from './commands/stack.js';
import { registerAppCommands } from './commands/app.js';
import { registerExporterCommands } from './commands/exporter.js';
import { registerDbBenchCommand } from './commands/db-bench.js';
import { registerRunCommand } from './commands/run.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerRegressionCommands } from './commands/regression.js';
import { registerDashboardCommands } from './commands/dashboards.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerProfileCommand } from './commands/profile.js';
import { registerExperimentCommand } from './commands/experiment.js';

const program = new Command()
  .name('perfstack')
  .description('Performance-testing and monitoring stack as code: one config generates dashboards, rules, routing and k6 thresholds.')
  .showHelpAfterError()
  // Usage errors (an unknown option, a missing argument, a value outside its choices) are bad input: exit 2, like every other bad flag.
  .exitOverride((error) => {
    process.exit(error.exitCode === 1 && error.code !== 'commander.executeSubCommandAsync' ? 2 : error.exitCode);
  });

registerGenerateCommands(program);
registerStackCommands(program);
registerAppCommands(program);
registerExporterCommands(program);
registerDbBenchCommand(program);
registerRunCommand(program);
registerAnalyzeCommand(program);
registerRegressionCommands(program);
registerDashboardCommands(program);
registerAuditCommand(program);
registerProfileCommand(program);
registerExperimentCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A bad config or bad input exits 2 with the field or flag named; anything else exits 1.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else if (error instanceof Error && (error.name === 'DbBenchOptionError' || error.name === 'InvalidArgumentError')) {
    console.error(`perfstack: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
