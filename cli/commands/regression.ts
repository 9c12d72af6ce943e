import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import {
  BaselineStoreError,
  CompareInputError,
  changePoints,
  KPIS,
  compareRun,
  isKpiName,
  openBaselineStore,
  parseSummaryText,
  publishVerdicts,
  samplesFromK6Json,
  writeReports,
  type BaselineStore,
} from '../../regression/index.js';
import { readStackState, TEXTFILE_FOLDER } from '../../stack/index.js';
import { configOption, findStoreUrl, stateDirOption } from '../options.js';

// import, baseline, compare and history: the baseline store and the CI gate.
// Exit codes of compare, for CI: 0 no regression, 1 regression, 2 bad input.

const EXIT_REGRESSION = 1;
const EXIT_BAD_INPUT = 2;
/** perfstack itself failed (a bug or an unreachable store): never to be mistaken for a regression. */
const EXIT_FAILED = 3;

/** The store's database: --store-url, $PERFSTACK_STORE_URL, $DATABASE_URL, $DATABASE_URL_FILE, or the native stack's. */
function storeUrl(given: string | undefined, stateDir: string): string {
  const url = findStoreUrl(given, stateDir);
  if (url) return url;
  throw new InvalidArgumentError('no baseline store: pass --store-url, or set PERFSTACK_STORE_URL, DATABASE_URL or DATABASE_URL_FILE, or start the native stack');
}

const storeOption = () => new Option('--store-url <url>', 'PostgreSQL URL of the baseline store (default: $PERFSTACK_STORE_URL, $DATABASE_URL, or the native stack’s database)');

async function withStore<T>(options: { storeUrl?: string; stateDir: string }, work: (store: BaselineStore) => Promise<T>): Promise<T> {
  const store = openBaselineStore(storeUrl(options.storeUrl, options.stateDir));
  try {
    await store.migrate();
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Bad input exits 2 with the field named; nothing else is caught here. */
function badInput(error: unknown): never {
  if (error instanceof BaselineStoreError || error instanceof CompareInputError) {
    console.error(`perfstack: ${error.field}: ${error.message}`);
    process.exit(EXIT_BAD_INPUT);
  }
  throw error;
}

export function registerRegressionCommands(program: Command): void {
  program
    .command('import')
    .description('Store a run in the baseline store, from its k6 JSON summary (or from Prometheus with --from-prometheus)')
    .argument('[summary]', 'the summary.json a perfstack run wrote')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(storeOption())
    .addOption(new Option('--branch <branch>', 'git branch of the run').env('PERFSTACK_GIT_BRANCH').default('main'))
    .option('--environment <name>', 'where it ran (default: the hostname)')
    .option('--samples <file>', 'k6 JSON output with every request (default: samples.json.gz beside the summary, when present)')
    .option('--from-prometheus', 'import the run’s time range from Prometheus instead (needs --testid, --scenario, --start, --end)')
    .option('--prometheus-url <url>', 'Prometheus to read with --from-prometheus', 'http://127.0.0.1:9090')
    .option('--testid <id>')
    .option('--scenario <name>')
    .option('--start <iso>')
    .option('--end <iso>')
    .action(async (summary: string | undefined, options: { storeUrl?: string; stateDir: string; branch: string; environment?: string; samples?: string; fromPrometheus?: boolean; prometheusUrl: string; testid?: string; scenario?: string; start?: string; end?: string }) => {
      await withStore(options, async (store) => {
        try {
          if (options.fromPrometheus) {
            for (const flag of ['testid', 'scenario', 'start', 'end'] as const) {
              if (!options[flag]) throw new InvalidArgumentError(`--from-prometheus needs --${flag}`);
            }
            const dates = (['start', 'end'] as const).map((flag) => {
              const date = new Date(options[flag]!);
              if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`--${flag} must be an ISO time, got "${options[flag]}"`);
              return date;
            });
            await store.importFromPrometheus({ prometheusUrl: options.prometheusUrl, testid: options.testid!, scenario: options.scenario!, branch: options.branch, start: dates[0]!, end: dates[1]!, environment: options.environment });
            console.log(`imported ${options.testid} from ${options.prometheusUrl}`);
            return;
          }
          if (!summary) throw new InvalidArgumentError('give the summary.json to import, or --from-prometheus');
          let text: string;
          try {
            text = readFileSync(summary, 'utf8');
          } catch (error) {
            throw new InvalidArgumentError(`${summary}: cannot read it (${(error as Error).message})`);
          }
          const json = parseSummaryText(text, summary);
          // `perfstack run --samples` leaves every request's duration beside the summary.
          const samplesFile = options.samples ?? join(dirname(summary), 'samples.json.gz');
          const samples = existsSync(samplesFile) ? await samplesFromK6Json(samplesFile) : undefined;
          if (options.samples && !samples) throw new InvalidArgumentError(`--samples ${options.samples}: no such file`);
          await store.importK6Summary(json, { branch: options.branch, ...(options.environment ? { environment: options.environment } : {}) }, samples ? { samples } : {});
          console.log(`imported ${summary}${samples ? ` with per-request samples of ${samples.length} endpoint(s)` : ''}`);
        } catch (error) {
          badInput(error);
        }
      });
    });

  const baseline = program.command('baseline').description('List, pin and remove named baselines');
  baseline
    .command('list')
    .description('Pinned baselines, and the latest stored runs')
    .addOption(stateDirOption())
    .addOption(storeOption())
    .action(async (options: { storeUrl?: string; stateDir: string }) => {
      await withStore(options, async (store) => {
        const pinned = await store.listBaselines();
        console.log(pinned.length ? pinned.map((b) => `pinned  ${b.name.padEnd(20)} ${b.testid}`).join('\n') : 'no pinned baselines');
        for (const run of await store.listRuns({ limit: 20 })) {
          console.log(`run     ${run.testid.padEnd(40)} ${run.scenario.padEnd(12)} ${run.branch.padEnd(12)} ${run.startedAt.toISOString()}`);
        }
      });
    });
  baseline
    .command('pin')
    .description('Name a run as a baseline (compare --baseline NAME); pinning an existing name moves it')
    .argument('<name>')
    .argument('<testid>')
    .addOption(stateDirOption())
    .addOption(storeOption())
    .action(async (name: string, testid: string, options: { storeUrl?: string; stateDir: string }) => {
      await withStore(options, async (store) => {
        await store.pin(name, testid).catch(badInput);
        console.log(`pinned ${name} → ${testid}`);
      });
    });
  baseline
    .command('remove')
    .argument('<name>')
    .addOption(stateDirOption())
    .addOption(storeOption())
    .action(async (name: string, options: { storeUrl?: string; stateDir: string }) => {
      await withStore(options, async (store) => {
        if (!(await store.removeBaseline(name))) badInput(new CompareInputError('name', `no pinned baseline named "${name}"`));
        console.log(`removed ${name}`);
      });
    });

  program
    .command('compare')
    .description('Judge a stored run against its baseline, KPI by KPI; writes Markdown and HTML reports and publishes the verdicts. Exit 0: no regression, 1: regression, 2: bad input, 3: perfstack failed')
    .argument('<testid>')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(storeOption())
    .option('--baseline <name>', 'a pinned baseline instead of the last N runs on the baseline branch')
    .option('--out-dir <dir>', 'where the reports go (default: <state-dir>/reports/<testid>)')
    .option('--textfile-dir <dir>', 'node_exporter textfile folder for the verdict metrics (default: the native stack’s, when it runs)')
    .action(async (testid: string, options: { config: string; storeUrl?: string; stateDir: string; baseline?: string; outDir?: string; textfileDir?: string }) => {
      const config = await loadConfig(options.config);
      await withStore(options, async (store) => {
        const outcome = await compareRun(store, config, testid, { pinned: options.baseline }).catch((error: unknown) => {
          if (error instanceof BaselineStoreError || error instanceof CompareInputError) badInput(error);
          console.error(`perfstack compare failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          process.exit(EXIT_FAILED);
        });
        const { markdownPath, htmlPath } = await writeReports(outcome.report, options.outDir ?? join(options.stateDir, 'reports', testid));
        const textfileDir = options.textfileDir ?? (readStackState(options.stateDir).components.length > 0 ? join(options.stateDir, TEXTFILE_FOLDER) : undefined);
        if (textfileDir) console.log(`verdicts published to ${publishVerdicts(textfileDir, outcome.report.candidate.scenario, outcome.verdicts)}`);
        const counts = { regressed: 0, improved: 0, unchanged: 0 };
        for (const comparison of outcome.report.comparisons) counts[comparison.verdict]++;
        for (const comparison of outcome.report.comparisons.filter((c) => c.verdict !== 'unchanged')) {
          const endpoint = comparison.endpoint ? ` ${comparison.endpoint}` : '';
          console.log(`${comparison.verdict.padEnd(9)} ${comparison.kpi}${endpoint}: ${(comparison.relativeChange * 100).toFixed(1)} % (CI ${(comparison.ci[0] * 100).toFixed(1)}…${(comparison.ci[1] * 100).toFixed(1)} %, p ${comparison.pValue.toPrecision(2)}, ${comparison.test})`);
        }
        if (outcome.skipped.length > 0) {
          console.log(`skipped ${outcome.skipped.length} KPI(s) without enough baseline data, e.g. ${outcome.skipped.slice(0, 3).map((s) => `${s.kpi}${s.endpoint ? ` ${s.endpoint}` : ''} (${s.reason})`).join('; ')}`);
        }
        console.log(`${counts.regressed} regressed, ${counts.improved} improved, ${counts.unchanged} unchanged against ${outcome.report.baseline.description}`);
        console.log(`reports: ${markdownPath}, ${htmlPath}`);
        if (outcome.regressed) process.exitCode = EXIT_REGRESSION;
      });
    });

  program
    .command('history')
    .description('Change points (E-divisive means) across a KPI’s history on a branch: steps and creeping regressions')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(storeOption())
    .requiredOption('--scenario <name>')
    .requiredOption('--kpi <kpi>', `one of ${Object.keys(KPIS).join(', ')}`)
    .option('--endpoint <route>', 'route template, or empty for the run-level KPI', '')
    .option('--branch <branch>', 'the branch whose runs form the history (default: regression.baselineBranch)')
    .option('--limit <n>', 'newest runs considered', '200')
    .action(async (options: { config: string; storeUrl?: string; stateDir: string; scenario: string; kpi: string; endpoint: string; branch?: string; limit: string }) => {
      if (!isKpiName(options.kpi)) throw new InvalidArgumentError(`--kpi must be one of ${Object.keys(KPIS).join(', ')}, got "${options.kpi}"`);
      const kpi = options.kpi;
      const config = await loadConfig(options.config);
      await withStore(options, async (store) => {
        const history = await store.kpiHistory(options.scenario, kpi, options.endpoint, { branch: options.branch ?? config.regression.baselineBranch, limit: Number(options.limit) });
        if (history.length === 0) badInput(new CompareInputError('scenario', `no ${kpi} history for scenario ${options.scenario}`));
        const override = config.regression.kpis[kpi];
        const found = changePoints(
          history.map((point) => point.value),
          { alpha: override?.alpha ?? config.regression.alpha, minMagnitude: override?.minEffect ?? config.regression.minEffect },
        );
        console.log(`${history.length} runs of ${options.scenario}, ${kpi}${options.endpoint ? ` ${options.endpoint}` : ''}: ${found.length} change point(s)`);
        for (const point of found) {
          const run = history[point.index]!;
          console.log(`  at ${run.testid} (${run.startedAt.toISOString()}): ${point.before.toPrecision(4)} → ${point.after.toPrecision(4)} (${(point.relativeChange * 100).toFixed(1)} %, p ${point.pValue.toPrecision(2)})`);
        }
      });
    });
}
