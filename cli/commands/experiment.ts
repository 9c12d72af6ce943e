import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { migrate, seed, SEED_SIZES, type SeedSize } from '../../app/index.js';
import {
  EXPERIMENT_SCRIPT,
  MAX_RUNS_PER_ARM,
  MIN_RUNS_PER_ARM,
  OPTIMISATION_NAMES,
  WORKLOADS,
  formatExperiment,
  parseOptimisation,
  recordExperiment,
  runExperiment,
  writeExperimentJson,
  type Workload,
} from '../../experiment/index.js';
import { isKpiName, type KpiName } from '../../regression/index.js';
import { configOption, databaseUrlOption, findStoreUrl, parsePositive, stateDirOption, nativeComponentUrl } from '../options.js';

interface ExperimentFlags {
  optimisation: string;
  scenario?: string;
  workload?: Workload;
  runs: string;
  duration: string;
  warmup: string;
  vus?: number;
  config: string;
  databaseUrl?: string;
  storeUrl?: string;
  redisUrl?: string;
  allowSchemaChanges?: boolean;
  kpi?: string;
  endpoint?: string;
  poolMax: number;
  migrate?: boolean;
  seed?: SeedSize;
  out?: string;
  record?: string;
  stateDir: string;
}

function parseRuns(value: string): number {
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < MIN_RUNS_PER_ARM || runs > MAX_RUNS_PER_ARM) {
    throw new InvalidArgumentError(`--runs must be a whole number from ${MIN_RUNS_PER_ARM} to ${MAX_RUNS_PER_ARM} (runs per arm; the t-test needs at least 2 on each side)`);
  }
  return runs;
}

function parseDuration(flag: string) {
  return (value: string): string => {
    if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a k6 duration such as 10s or 1m`);
    return value;
  };
}

/** --database-url, $DATABASE_URL, $DATABASE_URL_FILE, or the native stack's database. */
function databaseUrl(given: string | undefined, stateDir: string): string {
  if (given) return given;
  for (const file of [process.env.DATABASE_URL_FILE, join(stateDir, 'secrets', 'database_url')]) {
    if (!file) continue;
    try {
      const url = readFileSync(file, 'utf8').trim();
      if (url) return url;
    } catch {
      // the next candidate
    }
  }
  throw new InvalidArgumentError('no database: pass --database-url (a test database), or set DATABASE_URL, or start the native stack');
}


/** perfstack experiment: one optimisation off and on, interleaved, stored, and judged. */
export function registerExperimentCommand(program: Command): void {
  program
    .command('experiment')
    .description(
      'Measure one optimisation: start the reference service with it off and on, run the same scenario on perfstack’s engine for each arm in turn (interleaved), store every run in the baseline store (branch experiment/<name>/off|on) and judge on against off with the regression statistics (effect, CI, p-value)',
    )
    .requiredOption('--optimisation <name>', `one of ${OPTIMISATION_NAMES.join(', ')}`)
    .addOption(new Option('--scenario <scenario>', `a scenario name or k6 script path instead of the experiment workload (${EXPERIMENT_SCRIPT})`))
    .addOption(new Option('--workload <workload>', 'another workload of the experiment script (default: the one that exercises the optimisation)').choices([...WORKLOADS]))
    .addOption(new Option('--runs <n>', 'runs per arm').default('3'))
    .addOption(new Option('--duration <d>', 'length of each measured run').default('10s'))
    .addOption(new Option('--warmup <d>', 'unmeasured load after each start of the service (0s for none)').default('2s'))
    .addOption(new Option('--vus <n>', 'virtual users (default: the workload’s, 4)').argParser(parsePositive('--vus')))
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(new Option('--store-url <url>', 'PostgreSQL URL of the baseline store (default: $PERFSTACK_STORE_URL, $DATABASE_URL, or the native stack’s)'))
    .addOption(new Option('--redis-url <url>', 'Redis for --optimisation cache (default: the native stack’s)'))
    .option('--allow-schema-changes', 'let --optimisation index:<name> drop and re-create the index (a test database only; it is re-created at the end)')
    .addOption(new Option('--kpi <kpi>', 'the KPI the verdict is about (default latency_p95)'))
    .addOption(new Option('--endpoint <route>', 'its route template (default: the one the workload loads); empty for the run level'))
    .addOption(new Option('--pool-max <n>', 'database connections of the service').default(10).argParser(parsePositive('--pool-max')))
    .option('--migrate', 'apply pending migrations first')
    .addOption(new Option('--seed <size>', 'migrate and seed the database first (the same data for both arms)').choices(Object.keys(SEED_SIZES)))
    .addOption(new Option('--out <file>', 'the verdict as JSON (default: <state-dir>/experiments/<optimisation>.json)'))
    .addOption(new Option('--record <file>', 'also add the verdict to a results file, e.g. bench/results/optimisations.json'))
    .addOption(stateDirOption())
    .action(async (flags: ExperimentFlags) => {
      // Checked here rather than by commander, so bad values exit 2 like every other bad flag.
      const optimisation = parseOptimisation(flags.optimisation);
      const runs = parseRuns(flags.runs);
      const duration = parseDuration('--duration')(flags.duration);
      const warmup = parseDuration('--warmup')(flags.warmup);
      if (flags.kpi !== undefined && !isKpiName(flags.kpi)) throw new InvalidArgumentError(`--kpi must be a KPI name such as latency_p95, got "${flags.kpi}"`);
      if (flags.scenario !== undefined && flags.workload !== undefined) throw new InvalidArgumentError('--workload cannot be combined with --scenario');
      const config = await loadConfig(flags.config);
      const database = databaseUrl(flags.databaseUrl, flags.stateDir);
      const storeUrl = findStoreUrl(flags.storeUrl, flags.stateDir) ?? database;
      const redisUrl = flags.redisUrl ?? (optimisation.kind === 'cache' ? nativeComponentUrl(flags.stateDir, 'redis') : undefined);
      if (flags.migrate || flags.seed) await migrate(database);
      if (flags.seed) {
        const seeded = await seed(database, flags.seed, { progress: process.stdout.isTTY });
        console.log(`seeded ${seeded.rows} entities (${seeded.size})`);
      }
      const result = await runExperiment({
        optimisation,
        config,
        configPath: resolve(flags.config),
        databaseUrl: database,
        storeUrl,
        ...(redisUrl ? { redisUrl } : {}),
        runsPerArm: runs,
        duration,
        warmup,
        ...(flags.vus ? { vus: flags.vus } : {}),
        ...(flags.workload ? { workload: flags.workload } : {}),
        ...(flags.scenario ? { scenario: flags.scenario } : {}),
        allowSchemaChanges: flags.allowSchemaChanges ?? false,
        ...(flags.kpi ? { kpi: flags.kpi as KpiName } : {}),
        ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
        poolMax: flags.poolMax,
        outputDir: join(flags.stateDir, 'experiments', 'runs'),
        log: (line) => console.log(line),
      });
      console.log('');
      console.log(formatExperiment(result));
      const out = flags.out ?? join(flags.stateDir, 'experiments', `${result.optimisation.replace(/[^A-Za-z0-9._-]/g, '-')}.json`);
      await writeExperimentJson(out, result);
      console.log(`verdict  ${out}`);
      if (flags.record) {
        await recordExperiment(flags.record, result, { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', kernel: release(), node: process.version, seed: flags.seed ?? null });
        console.log(`recorded in ${flags.record}`);
      }
    });
}
