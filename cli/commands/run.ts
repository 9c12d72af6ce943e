import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SCENARIOS, findScenario, formatVerdictTable, newTestId, runScenario, K6_THRESHOLDS_FAILED } from '../../k6/index.js';
import { readStackState } from '../../stack/index.js';
import { parsePositive, stateDirOption } from '../options.js';

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

function parseDuration(value: string): string {
  if (!DURATION.test(value)) throw new InvalidArgumentError('--duration must be a k6 duration such as 30s, 5m or 1h30m');
  return value;
}

/** The URL of a component of a running native stack (`perfstack start`), if there is one. */
function stackUrl(stateDir: string, name: string): string | undefined {
  try {
    return readStackState(stateDir).components.find((c) => c.name === name)?.url;
  } catch {
    return undefined;
  }
}

interface RunOptions {
  samples?: boolean;
  baseUrl?: string;
  prometheusUrl?: string;
  remoteWrite: boolean;
  testid?: string;
  outDir?: string;
  vus?: number;
  duration?: string;
  stateDir: string;
}

/** perfstack run <scenario>: one k6 scenario against the reference service, judged by the SLAs. */
export function registerRunCommand(program: Command): void {
  const list = SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join('\n');
  program
    .command('run')
    .description('Run a k6 scenario against the service (loopback only), push results to Prometheus and print the SLA verdicts')
    .argument('<scenario>', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .addOption(new Option('--base-url <url>', 'the service under test (default: the native stack’s app, else http://127.0.0.1:8080)').env('PERFSTACK_BASE_URL'))
    .addOption(new Option('--prometheus-url <url>', 'Prometheus with the remote-write receiver (default: the native stack’s)').env('PERFSTACK_PROMETHEUS_URL'))
    .option('--no-remote-write', 'do not push results to Prometheus')
    .option('--samples', 'also keep every request’s duration (samples.json.gz) for `perfstack import` and a per-request comparison')
    .addOption(new Option('--testid <id>', 'label for every series of this run (default: <UTC time>-<scenario>-<random>)'))
    .addOption(new Option('--out-dir <dir>', 'where summary.json, report.html and k6.log go (default: <state-dir>/k6/<testid>)'))
    .addOption(new Option('--vus <n>', 'virtual users (PERFSTACK_VUS; each scenario has a small default)').argParser(parsePositive('--vus')))
    .addOption(new Option('--duration <d>', 'run length such as 30s or 5m (PERFSTACK_DURATION)').argParser(parseDuration))
    .addOption(stateDirOption())
    .addHelpText('after', `\nScenarios:\n${list}\n\nExit status: 0 when every threshold passed, ${K6_THRESHOLDS_FAILED} when a threshold failed, k6's own code otherwise.`)
    .action(async (scenario: string, options: RunOptions) => {
      try {
        findScenario(scenario);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
      const baseUrl = options.baseUrl ?? stackUrl(options.stateDir, 'app') ?? 'http://127.0.0.1:8080';
      const prometheusUrl = options.remoteWrite ? (options.prometheusUrl ?? stackUrl(options.stateDir, 'prometheus')) : undefined;
      const testid = options.testid ?? newTestId(scenario);
      const outputDir = options.outDir ?? join(options.stateDir, 'k6', testid);
      if (options.remoteWrite && !prometheusUrl) {
        console.log('perfstack run: no Prometheus given (--prometheus-url) and no native stack running; results stay local');
      }
      let result;
      try {
        result = await runScenario({
          scenario,
          baseUrl,
          prometheusUrl,
          testid,
          outputDir,
          vus: options.vus,
          duration: options.duration,
          recordSamples: options.samples ?? false,
          log: (line) => console.log(line),
        });
      } catch (error) {
        if (error instanceof Error && (error.name === 'RunScenarioError' || error.name === 'UnknownScenarioError')) {
          throw new InvalidArgumentError(error.message);
        }
        throw error;
      }
      console.log('');
      console.log(formatVerdictTable(result.verdicts).trimEnd());
      console.log('');
      console.log(`testid   ${result.testid} (git ${result.gitSha})`);
      console.log(`summary  ${result.summaryPath}`);
      console.log(`report   ${result.reportPath}`);
      if (!result.passed) process.exitCode = result.exitCode === 0 ? 1 : result.exitCode;
    });
}
