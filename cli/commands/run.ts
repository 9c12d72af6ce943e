import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { K6NotFoundError, K6_THRESHOLDS_FAILED, SCENARIOS, formatVerdictTable, newTestId, resolveScript, runScenario, type Engine } from '../../k6/index.js';
import { EXIT_CODES } from '../../loadgen/index.js';
import { openBaselineStore, samplesFromK6Json } from '../../regression/index.js';
import { findStoreUrl, parsePositive, stateDirOption, nativeComponentUrl } from '../options.js';

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

function parseDuration(value: string): string {
  if (!DURATION.test(value)) throw new InvalidArgumentError('--duration must be a k6 duration such as 30s, 5m or 1h30m');
  return value;
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
  engine: Engine;
  executionSegment?: string;
  executionSegmentSequence?: string;
  store: boolean;
  storeUrl?: string;
  branch: string;
}

/** Stores the run in the baseline store when one is known and answers; says what happened, never fails the run. */
async function storeRun(options: RunOptions, summaryPath: string, samplesPath: string | undefined): Promise<void> {
  const url = findStoreUrl(options.storeUrl, options.stateDir);
  if (!url) {
    console.log('store    not stored: no baseline store (--store-url, PERFSTACK_STORE_URL, DATABASE_URL or a running native stack)');
    return;
  }
  const store = openBaselineStore(url);
  try {
    await store.migrate();
    const samples = samplesPath ? await samplesFromK6Json(samplesPath) : undefined;
    await store.importK6Summary(JSON.parse(await readFile(summaryPath, 'utf8')) as unknown, { branch: options.branch }, samples ? { samples } : {});
    console.log(`store    stored in the baseline store (branch ${options.branch}); compare it with: perfstack compare <testid>`);
  } catch (error) {
    console.log(`store    not stored: ${(error as Error).message}`);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** perfstack run <scenario | script>: a load run against the reference service, judged by the SLAs. */
export function registerRunCommand(program: Command): void {
  const list = SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join('\n');
  program
    .command('run')
    .description('Run a load scenario or any k6 script (loopback only) on perfstack’s engine, push results to Prometheus, store the run and print the SLA verdicts')
    .argument('<scenario>', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}; or the path of a k6 script`)
    .addOption(new Option('--base-url <url>', 'the service under test (default: the native stack’s app, else http://127.0.0.1:8080)').env('PERFSTACK_BASE_URL'))
    .addOption(new Option('--prometheus-url <url>', 'Prometheus with the remote-write receiver (default: the native stack’s)').env('PERFSTACK_PROMETHEUS_URL'))
    .option('--no-remote-write', 'do not push results to Prometheus')
    .option('--samples', 'also keep every request’s duration (samples.json.gz) for `perfstack import` and a per-request comparison')
    .addOption(new Option('--testid <id>', 'label for every series of this run (default: <UTC time>-<scenario>-<random>)'))
    .addOption(new Option('--out-dir <dir>', 'where summary.json, report.html and run.log go (default: <state-dir>/runs/<testid>)'))
    .addOption(new Option('--vus <n>', 'virtual users (PERFSTACK_VUS for perfstack’s scenarios; replaces a script’s scenarios, as in k6)').argParser(parsePositive('--vus')))
    .addOption(new Option('--duration <d>', 'run length such as 30s or 5m (PERFSTACK_DURATION for perfstack’s scenarios)').argParser(parseDuration))
    .addOption(new Option('--engine <engine>', 'perfstack: the built-in engine; k6: your own k6 (K6_BINARY or on PATH; never downloaded)').choices(['perfstack', 'k6']).default('perfstack'))
    .addOption(new Option('--execution-segment <segment>', 'run only this part of the test, FROM:TO such as 1/3:2/3 (k6’s flag, for scale-out)'))
    .addOption(new Option('--execution-segment-sequence <list>', 'every instance’s segment boundaries, such as 0,1/3,2/3,1'))
    .option('--no-store', 'do not store the run in the baseline store')
    .addOption(new Option('--store-url <url>', 'PostgreSQL URL of the baseline store (default: $PERFSTACK_STORE_URL, $DATABASE_URL, or the native stack’s database)'))
    .addOption(new Option('--branch <branch>', 'git branch the run is stored under').env('PERFSTACK_GIT_BRANCH').default('main'))
    .addOption(stateDirOption())
    .addHelpText(
      'after',
      `\nScenarios:\n${list}\n\nExit status: 0 when every threshold passed; ${K6_THRESHOLDS_FAILED} when a threshold failed (or aborted the run);
2 for a bad flag, an unknown scenario or a target that does not answer; 104 for invalid options in the
script (unknown executor, malformed threshold); 107 for a script error (syntax, an unsupported k6 API,
an exception in init or setup); 100/101 for setup/teardown timeouts; 105 when interrupted; 108 when the
script called test.abort(). With --engine k6, k6's own code.`,
    )
    .action(async (scenario: string, options: RunOptions) => {
      let name: string;
      try {
        name = resolveScript(scenario).name;
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
      const baseUrl = options.baseUrl ?? nativeComponentUrl(options.stateDir, 'app') ?? 'http://127.0.0.1:8080';
      const prometheusUrl = options.remoteWrite ? (options.prometheusUrl ?? nativeComponentUrl(options.stateDir, 'prometheus')) : undefined;
      const testid = options.testid ?? newTestId(name);
      const outputDir = options.outDir ?? join(options.stateDir, 'runs', testid);
      if (options.remoteWrite && !prometheusUrl) {
        console.log('perfstack run: no Prometheus given (--prometheus-url) and no native stack running; results stay local');
      }
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
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
          engine: options.engine,
          executionSegment: options.executionSegment,
          executionSegmentSequence: options.executionSegmentSequence,
          recordSamples: options.samples ?? false,
          progress: process.stdout.isTTY ? 'tty' : 'lines',
          log: (line) => console.log(line),
        });
      } catch (error) {
        if (error instanceof Error && ['RunScenarioError', 'UnknownScenarioError', 'LoadgenError'].includes(error.name)) throw new InvalidArgumentError(error.message);
        if (error instanceof K6NotFoundError) throw new InvalidArgumentError(error.message);
        throw error;
      } finally {
        process.removeListener('SIGINT', interrupt);
      }
      if (result.error && result.exitCode !== EXIT_CODES.thresholdsFailed) {
        // The script could not run (or stopped): one line that names what and where, and k6's exit code.
        console.error(`perfstack run: ${result.error}`);
      }
      console.log('');
      console.log(formatVerdictTable(result.verdicts).trimEnd());
      console.log('');
      console.log(`testid   ${result.testid} (git ${result.gitSha}, engine ${result.engine})`);
      console.log(`summary  ${result.summaryPath}`);
      console.log(`report   ${result.reportPath}`);
      if (result.remoteWrite) console.log(`prometheus ${result.remoteWrite.pushes} pushes${result.remoteWrite.failedPushes ? `, ${result.remoteWrite.failedPushes} failed (${result.remoteWrite.lastError ?? ''})` : ''}`);
      const summaryWritten = result.exitCode === 0 || result.exitCode === EXIT_CODES.thresholdsFailed;
      if (options.store && summaryWritten) await storeRun(options, result.summaryPath, result.samplesPath);
      if (!result.passed) process.exitCode = result.exitCode === 0 ? 1 : result.exitCode;
    });
}
