import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { configSchema, loadConfig, type PerfstackConfig, type RegressionConfig } from '../../config/index.js';
import {
  BaselineStoreError,
  CompareInputError,
  KPIS,
  SeriesInputError,
  compareRun,
  compareSeries,
  detectRegressionInHistory,
  historyOfSeries,
  isKpiName,
  openBaselineStore,
  parseSummaryText,
  publishVerdicts,
  readSeriesFile,
  samplesFromK6Json,
  sensitivity,
  seriesJsonLine,
  stableNumber,
  writeReports,
  type BaselineStore,
  type Direction,
  type InputSeries,
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
  if (error instanceof SeriesInputError) {
    console.error(`perfstack: ${error.message}`);
    process.exit(EXIT_BAD_INPUT);
  }
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
    .description(
      'Judge a stored run against its baseline, KPI by KPI, on the statistic each KPI names; writes Markdown and HTML reports and publishes the verdicts. ' +
        'With --input FILE, judge the last run of each series in the file instead (no store). Exit 0: no regression, 1: regression, 2: bad input, 3: perfstack failed',
    )
    .argument('[testid]')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(storeOption())
    .option('--baseline <name>', 'a pinned baseline instead of the last N runs on the baseline branch')
    .option('--out-dir <dir>', 'where the reports go (default: <state-dir>/reports/<testid>)')
    .option('--textfile-dir <dir>', 'node_exporter textfile folder for the verdict metrics (default: the native stack’s, when it runs)')
    .option('--input <file>', 'series from a file (JSON lines {"name", "values", "timestamps"?} or CSV) instead of the store: the last run of each is the candidate')
    .option('--candidate-runs <n>', 'with --input: the last N runs of each series are the candidate', '1')
    .addOption(directionOption())
    .option('--kpi <kpi>', 'with --input: take direction and sensitivity from this KPI (e.g. latency_p95)')
    .option('--json', 'with --input: one JSON line per series: {"name", "verdict", "changes": [{"index", "kind", "relativeChange", "pValue"}]}')
    .addOption(minEffectOption())
    .addOption(alphaOption())
    .addOption(noiseMultipleOption())
    .action(async (testid: string | undefined, options: SensitivityFlags & { config: string; storeUrl?: string; stateDir: string; baseline?: string; outDir?: string; textfileDir?: string; input?: string; candidateRuns: string; kpi?: string; json?: boolean }) => {
      if (options.input) {
        try {
          const regression = await regressionSettings(options.config);
          const { direction, settings } = resolveSensitivity(regression, options);
          const candidateRuns = Number(options.candidateRuns);
          let regressed = false;
          for (const series of readSeriesFile(options.input)) {
            const { result, output } = compareSeries(series, { direction, ...settings, baselineRuns: regression.baselineRuns, candidateRuns });
            if (result.verdict === 'regressed') regressed = true;
            if (options.json) console.log(seriesJsonLine(series.name, output, { verdict: result.verdict }));
            else console.log(describeSeriesVerdict(series, result, output[0]?.index));
          }
          if (regressed) process.exitCode = EXIT_REGRESSION;
        } catch (error) {
          badInput(error);
        }
        return;
      }
      if (!testid) badInput(new CompareInputError('testid', 'give the testid of a stored run, or --input FILE'));
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
        const counts = { regressed: 0, improved: 0, unchanged: 0, 'insufficient data': 0 };
        for (const comparison of outcome.report.comparisons) counts[comparison.verdict]++;
        for (const comparison of outcome.report.comparisons.filter((c) => c.verdict === 'regressed' || c.verdict === 'improved')) {
          const endpoint = comparison.endpoint ? ` ${comparison.endpoint}` : '';
          console.log(
            `${comparison.verdict.padEnd(9)} ${comparison.kpi}${endpoint}: ${(comparison.relativeChange * 100).toFixed(1)} % of the ${comparison.statistic ?? 'value'} ` +
              `(CI ${(comparison.ci[0] * 100).toFixed(1)}…${(comparison.ci[1] * 100).toFixed(1)} %, p ${comparison.pValue.toPrecision(2)}, threshold ${((comparison.threshold ?? comparison.minEffect) * 100).toFixed(1)} %, ${comparison.test})`,
          );
        }
        if (outcome.skipped.length > 0) {
          console.log(`insufficient data for ${outcome.skipped.length} KPI(s), e.g. ${outcome.skipped.slice(0, 3).map((s) => `${s.kpi}${s.endpoint ? ` ${s.endpoint}` : ''} (missing ${s.reason})`).join('; ')}`);
        }
        console.log(`${counts.regressed} regressed, ${counts.improved} improved, ${counts.unchanged} unchanged against ${outcome.report.baseline.description}${counts['insufficient data'] ? `; ${counts['insufficient data']} with insufficient data` : ''}`);
        console.log(`reports: ${markdownPath}, ${htmlPath}`);
        if (outcome.regressed) process.exitCode = EXIT_REGRESSION;
      });
    });

  program
    .command('history')
    .description(
      'Changes across a KPI’s history on a branch (or across each series of --input FILE), each confirmed and classified: a step, a gradual drift (from the run where it began) or a transient that came back',
    )
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(storeOption())
    .option('--scenario <name>', 'the scenario whose stored runs form the history')
    .option('--kpi <kpi>', `one of ${Object.keys(KPIS).join(', ')} (with --input: direction and sensitivity from this KPI)`)
    .option('--endpoint <route>', 'route template, or empty for the run-level KPI', '')
    .option('--branch <branch>', 'the branch whose runs form the history (default: regression.baselineBranch)')
    .option('--limit <n>', 'newest runs considered', '200')
    .option('--input <file>', 'series from a file (JSON lines {"name", "values", "timestamps"?} or CSV) instead of the store')
    .addOption(directionOption())
    .option('--json', 'one JSON line per series: {"name", "changes": [{"index", "kind", "relativeChange", "pValue"}]}')
    .addOption(minEffectOption())
    .addOption(alphaOption())
    .addOption(noiseMultipleOption())
    .action(async (options: SensitivityFlags & { config: string; storeUrl?: string; stateDir: string; scenario?: string; kpi?: string; endpoint: string; branch?: string; limit: string; input?: string; json?: boolean }) => {
      if (options.input) {
        try {
          const regression = await regressionSettings(options.config);
          const { direction, settings } = resolveSensitivity(regression, options);
          for (const series of readSeriesFile(options.input)) {
            const { changes, output } = historyOfSeries(series, { direction, ...settings });
            if (options.json) console.log(seriesJsonLine(series.name, output));
            else printHistory(`${series.name}: ${series.values.length} runs`, changes.map((c, i) => ({ ...c, index: output[i]!.index })), (index) => `run ${index}`);
          }
        } catch (error) {
          badInput(error);
        }
        return;
      }
      if (!options.scenario) badInput(new CompareInputError('scenario', 'give --scenario and --kpi (the stored history), or --input FILE'));
      if (!options.kpi || !isKpiName(options.kpi)) badInput(new CompareInputError('kpi', `--kpi must be one of ${Object.keys(KPIS).join(', ')}, got "${options.kpi ?? ''}"`));
      const kpi = options.kpi;
      const scenario = options.scenario;
      const config = await loadConfig(options.config);
      const { settings } = resolveSensitivity(config.regression, options);
      await withStore(options, async (store) => {
        const history = await store.kpiHistory(scenario, kpi, options.endpoint, { branch: options.branch ?? config.regression.baselineBranch, limit: Number(options.limit) });
        if (history.length === 0) badInput(new CompareInputError('scenario', `no ${kpi} history for scenario ${scenario}`));
        // The library's own entry point, as compare's reports use it: the CLI and the library agree.
        const { changes } = detectRegressionInHistory(
          history.map((point) => point.value),
          { direction: KPIS[kpi].direction, ...settings },
        );
        const name = `${scenario} ${kpi}${options.endpoint ? ` ${options.endpoint}` : ''}`;
        if (options.json) {
          console.log(seriesJsonLine(name, changes.map((c) => ({ index: c.index, kind: c.kind, relativeChange: stableNumber(c.relativeChange), pValue: stableNumber(c.pValue) }))));
          return;
        }
        printHistory(`${history.length} runs of ${name}`, changes, (index) => {
          const run = history[index]!;
          return `${run.testid} (${run.startedAt.toISOString()})`;
        });
      });
    });
}

interface SensitivityFlags {
  direction?: Direction;
  minEffect?: string;
  alpha?: string;
  noiseMultiple?: string;
  kpi?: string;
}

const directionOption = () =>
  new Option('--direction <direction>', 'with --input: which way is worse (default: the --kpi’s, else lower-is-better)').choices(['lower-is-better', 'higher-is-better']);
const minEffectOption = () => new Option('--min-effect <fraction>', 'smallest relative change that counts, e.g. 0.05 (default: regression.minEffect, per KPI)');
const alphaOption = () => new Option('--alpha <level>', 'significance level (default: regression.alpha, per KPI)');
const noiseMultipleOption = () => new Option('--noise-multiple <k>', 'a change must reach k × the run-to-run CV (default: regression.noiseMultiple, per KPI)');

/** The regression section of the config; its defaults when there is no config file (e.g. --input in a CI job). */
async function regressionSettings(file: string): Promise<RegressionConfig> {
  if (!existsSync(file)) return configSchema.shape.regression.parse(undefined) as RegressionConfig;
  return (await loadConfig(file)).regression;
}

function numberFlag(flag: string, text: string | undefined, check: (x: number) => boolean, expected: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || !check(value)) throw new SeriesInputError(flag, `${flag} must be ${expected}, got "${text}"`);
  return value;
}

function resolveSensitivity(regression: RegressionConfig, flags: SensitivityFlags): { direction: Direction; settings: { minEffect: number; alpha: number; noiseMultiple: number } } {
  if (flags.kpi !== undefined && !isKpiName(flags.kpi)) throw new SeriesInputError('--kpi', `--kpi must be one of ${Object.keys(KPIS).join(', ')}, got "${flags.kpi}"`);
  const base = sensitivity({ regression } as PerfstackConfig, flags.kpi ?? '');
  const direction: Direction = flags.direction ?? (flags.kpi && isKpiName(flags.kpi) ? KPIS[flags.kpi].direction : 'lower-is-better');
  return {
    direction,
    settings: {
      minEffect: numberFlag('--min-effect', flags.minEffect, (x) => x >= 0, 'a relative change ≥ 0 such as 0.05') ?? base.minEffect,
      alpha: numberFlag('--alpha', flags.alpha, (x) => x > 0 && x < 0.5, 'a significance level between 0 and 0.5') ?? base.alpha,
      noiseMultiple: numberFlag('--noise-multiple', flags.noiseMultiple, (x) => x >= 0, 'a multiple ≥ 0 such as 2') ?? base.noiseMultiple,
    },
  };
}

function printHistory(
  title: string,
  changes: readonly { index: number; kind: string; before: number; after: number; relativeChange: number; pValue: number; verdict: string; duration?: number }[],
  where: (index: number) => string,
): void {
  console.log(`${title}: ${changes.length} change${changes.length === 1 ? '' : 's'}`);
  for (const c of changes) {
    const span = c.kind === 'drift' && c.duration ? ` over ${c.duration} runs` : '';
    console.log(
      `  ${c.verdict.padEnd(9)} ${c.kind.padEnd(9)} at ${where(c.index)}: ${c.before.toPrecision(4)} → ${c.after.toPrecision(4)}${span} (${(c.relativeChange * 100).toFixed(1)} %, p ${c.pValue.toPrecision(2)})`,
    );
  }
}

function describeSeriesVerdict(series: InputSeries, result: { verdict: string; relativeChange: number; ci: [number, number]; pValue: number; threshold: number; missing?: string }, index: number | undefined): string {
  if (result.verdict === 'insufficient data') return `${series.name}: insufficient data (missing ${result.missing ?? 'data'})`;
  const at = index === undefined ? '' : ` at run ${index}`;
  return (
    `${series.name}: ${result.verdict}${at}: ${(result.relativeChange * 100).toFixed(1)} % (CI ${(result.ci[0] * 100).toFixed(1)}…${(result.ci[1] * 100).toFixed(1)} %, ` +
    `p ${result.pValue.toPrecision(2)}, threshold ${(result.threshold * 100).toFixed(1)} %)`
  );
}
