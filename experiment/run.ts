// runExperiment(): one optimisation measured off and on, like for like. Each run starts the reference
// service afresh as its own process (`perfstack app`, so the load engine never shares its event
// loop), sets the arm up (service flags, workload settings, or an index dropped or re-created),
// warms up, runs the workload on perfstack's engine, and stores the run in the baseline store on
// branch experiment/<name>/<arm>. Arms alternate (off on, on off, …). The verdict is the regression
// room's compareKpi over the stored runs: the on arm's runs as candidate, the off arm's as baseline.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PerfstackConfig } from '../config/index.js';
import { K6_THRESHOLDS_FAILED, resolveScript, runScenario, type RunScenarioResult } from '../k6/index.js';
import {
  KPIS,
  compareKpi,
  median,
  openBaselineStore,
  samplesFromK6Json,
  sensitivity,
  type BaselineStore,
  type KpiName,
  type Verdict,
} from '../regression/index.js';
import { freePort, startProcess, type RunningProcess } from '../stack/index.js';
import { ExperimentOptionError, interleavedOrder, planFor, type Arm, type Optimisation, type OptimisationPlan, type Workload } from './optimisations.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'perfstack.js');
export const EXPERIMENT_SCRIPT = join(REPO_ROOT, 'k6', 'scenarios', 'experiments', 'experiment.ts');
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
export const MIN_RUNS_PER_ARM = 2;
export const MAX_RUNS_PER_ARM = 20;

export interface ExperimentOptions {
  optimisation: Optimisation;
  config: PerfstackConfig;
  /** The config module the service is started with (its compression and cache settings). */
  configPath: string;
  /** The service's database (migrated and seeded). An index experiment changes its schema. */
  databaseUrl: string;
  /** The baseline store (may be the same database). */
  storeUrl: string;
  redisUrl?: string;
  /** Runs per arm (default 3): the t-test needs at least 2. */
  runsPerArm?: number;
  /** Length of each measured run (default 10s). */
  duration?: string;
  /** Unmeasured load before each run, after the service starts (default 2s; 0s for none). */
  warmup?: string;
  vus?: number;
  /** Another workload of k6/scenarios/experiments/experiment.ts. */
  workload?: Workload;
  /** A scenario name or k6 script path instead of the experiment workload (it gets the arm's variables too). */
  scenario?: string;
  /** An index experiment drops and re-creates an index: only with this set (a test database). */
  allowSchemaChanges?: boolean;
  kpi?: KpiName;
  endpoint?: string;
  poolMax?: number;
  /** Where each run's summary, samples and report go. */
  outputDir: string;
  log?: (line: string) => void;
}

export interface ArmFigures {
  testids: string[];
  /** The KPI's value of each run (seconds for latencies), in run order. */
  values: number[];
  median: number;
  min: number;
  max: number;
}

export interface ComparedMetric {
  metric: string;
  unit: string;
  direction: 'lower-is-better' | 'higher-is-better';
  off: ArmFigures;
  on: ArmFigures;
  /** On over off minus one (mean of the runs' values), with its interval at 1 − alpha. */
  effect: number;
  ci: [number, number];
  pValue: number;
  verdict: Verdict;
  test: string;
  threshold: number;
  alpha: number;
}

export interface ExperimentResult {
  optimisation: string;
  description: string;
  scenario: string;
  workload: Workload | null;
  runsPerArm: number;
  order: Arm[];
  duration: string;
  warmup: string;
  vus: number | null;
  branches: Record<Arm, string>;
  /** The KPI the verdict is about, as `perfstack compare` names it. */
  primary: ComparedMetric & { kpi: KpiName; endpoint: string };
  /** More figures of the same runs: throughput, and bytes per response from the summaries. */
  secondary: ComparedMetric[];
  gitSha: string;
  startedAt: string;
  finishedAt: string;
}

interface RunRecord {
  arm: Arm;
  testid: string;
  bytesPerRequest: number;
}

function checkOptions(options: ExperimentOptions): { runsPerArm: number; duration: string; warmup: string } {
  const runsPerArm = options.runsPerArm ?? 3;
  if (!Number.isInteger(runsPerArm) || runsPerArm < MIN_RUNS_PER_ARM || runsPerArm > MAX_RUNS_PER_ARM) {
    throw new ExperimentOptionError('--runs', `--runs must be a whole number from ${MIN_RUNS_PER_ARM} to ${MAX_RUNS_PER_ARM} runs per arm (the t-test needs at least 2 on each side), got ${options.runsPerArm}`);
  }
  const duration = options.duration ?? '10s';
  if (!DURATION.test(duration)) throw new ExperimentOptionError('--duration', `--duration must be a k6 duration such as 10s or 1m, got "${duration}"`);
  const warmup = options.warmup ?? '2s';
  if (!DURATION.test(warmup)) throw new ExperimentOptionError('--warmup', `--warmup must be a k6 duration such as 2s, or 0s for none, got "${warmup}"`);
  if (options.vus !== undefined && (!Number.isInteger(options.vus) || options.vus < 1 || options.vus > 1000)) {
    throw new ExperimentOptionError('--vus', `--vus must be a whole number from 1 to 1000, got ${options.vus}`);
  }
  if (options.scenario !== undefined && options.workload !== undefined) {
    throw new ExperimentOptionError('--workload', '--workload picks a workload of the experiment script; it cannot be combined with --scenario');
  }
  if (options.kpi !== undefined && !Object.hasOwn(KPIS, options.kpi)) {
    throw new ExperimentOptionError('--kpi', `--kpi must be one of ${Object.keys(KPIS).join(', ')}, got "${options.kpi}"`);
  }
  return { runsPerArm, duration, warmup };
}

const isZero = (duration: string) => /^0+(\.0+)?(ms|s|m|h)$/.test(duration);

/** The index an index experiment toggles: its definition, checked to be droppable. */
async function indexDefinition(client: pg.Client, name: string): Promise<{ table: string; definition: string }> {
  const { rows } = await client.query<{ tablename: string; indexdef: string; constraint_name: string | null }>(
    `SELECT i.tablename, i.indexdef, c.conname AS constraint_name
       FROM pg_indexes i
       LEFT JOIN pg_constraint c ON c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))
      WHERE i.schemaname = current_schema() AND i.indexname = $1`,
    [name],
  );
  const row = rows[0];
  if (!row) {
    const known = await client.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname');
    throw new ExperimentOptionError('--optimisation', `no index named "${name}" in the database (known: ${known.rows.map((r) => r.indexname).join(', ') || 'none'}); run the migrations first (--migrate)`);
  }
  if (row.constraint_name) throw new ExperimentOptionError('--optimisation', `index "${name}" backs the constraint ${row.constraint_name}: only a plain index can be dropped for an experiment`);
  return { table: row.tablename, definition: row.indexdef };
}

async function setIndex(client: pg.Client, name: string, index: { table: string; definition: string }, present: boolean, log: (line: string) => void): Promise<void> {
  const exists = (await client.query('SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1', [name])).rowCount === 1;
  if (exists === present) return;
  if (present) {
    log(`experiment: creating index ${name}`);
    await client.query(index.definition);
  } else {
    log(`experiment: dropping index ${name}`);
    await client.query(`DROP INDEX IF EXISTS ${pg.escapeIdentifier(name)}`);
  }
  // Fresh statistics, so the planner sees the same table in both arms.
  await client.query(`ANALYZE ${pg.escapeIdentifier(index.table)}`);
}

interface SummaryFile {
  metrics?: Record<string, { values?: Record<string, number> }>;
}

/** Bytes received per request from a run's summary (data_received over http_reqs). */
async function bytesPerRequest(summaryPath: string): Promise<number> {
  const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as SummaryFile;
  const received = summary.metrics?.data_received?.values?.count;
  const requests = summary.metrics?.http_reqs?.values?.count;
  return typeof received === 'number' && typeof requests === 'number' && requests > 0 ? received / requests : Number.NaN;
}

function figures(records: { testid: string; value: number }[]): ArmFigures {
  const values = records.map((r) => r.value);
  return { testids: records.map((r) => r.testid), values, median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

function compared(
  metric: string,
  unit: string,
  direction: ComparedMetric['direction'],
  statistic: 'p50' | 'p95' | 'p99' | 'mean' | 'rate',
  off: { testid: string; value: number }[],
  on: { testid: string; value: number }[],
  settings: { minEffect: number; alpha: number; noiseMultiple: number },
  samples?: { off: number[][]; on: number[][] },
): ComparedMetric {
  const result = compareKpi({
    baseline: off.map((r) => r.value),
    candidate: on.map((r) => r.value),
    ...(samples ? { baselineSamples: samples.off, candidateSamples: samples.on } : {}),
    statistic,
    direction,
    ...settings,
  });
  return {
    metric,
    unit,
    direction,
    off: figures(off),
    on: figures(on),
    effect: result.relativeChange,
    ci: result.ci,
    pValue: result.pValue,
    verdict: result.verdict,
    test: result.test,
    threshold: result.threshold,
    alpha: settings.alpha,
  };
}

async function kpiOf(store: BaselineStore, testid: string, kpi: KpiName, endpoint: string): Promise<number> {
  const value = (await store.kpiValues(testid)).find((v) => v.kpi === kpi && v.endpoint === endpoint)?.value;
  if (value === undefined) throw new Error(`run ${testid} has no ${kpi}${endpoint ? ` for ${endpoint}` : ''}: does the workload request that endpoint? (--kpi, --endpoint)`);
  return value;
}

async function samplesOf(store: BaselineStore, testid: string, kpi: KpiName, endpoint: string): Promise<number[] | undefined> {
  if (!['latency_p50', 'latency_p95', 'latency_p99'].includes(kpi)) return undefined;
  const stored = await store.samples(testid, 'latency_p95', endpoint);
  return stored?.kind === 'samples' ? stored.samples : undefined;
}

/** The verdicts of an experiment's stored runs: the on arm against the off arm. */
export async function judgeExperiment(
  store: BaselineStore,
  config: PerfstackConfig,
  runs: readonly RunRecord[],
  kpi: KpiName,
  endpoint: string,
): Promise<{ primary: ComparedMetric; secondary: ComparedMetric[] }> {
  const arm = (which: Arm) => runs.filter((r) => r.arm === which);
  const values = async (which: Arm, name: KpiName, at: string) => Promise.all(arm(which).map(async (r) => ({ testid: r.testid, value: await kpiOf(store, r.testid, name, at) })));
  const definition = KPIS[kpi];
  const offSamples = await Promise.all(arm('off').map((r) => samplesOf(store, r.testid, kpi, endpoint)));
  const onSamples = await Promise.all(arm('on').map((r) => samplesOf(store, r.testid, kpi, endpoint)));
  const withSamples = [...offSamples, ...onSamples].every((s) => s !== undefined);
  const primary = compared(
    `${kpi}${endpoint ? ` ${endpoint}` : ''}`,
    definition.unit,
    definition.direction,
    definition.statistic,
    await values('off', kpi, endpoint),
    await values('on', kpi, endpoint),
    sensitivity(config, kpi),
    withSamples ? { off: offSamples as number[][], on: onSamples as number[][] } : undefined,
  );
  const secondary = [
    compared('throughput', 'per-second', 'higher-is-better', 'rate', await values('off', 'throughput', ''), await values('on', 'throughput', ''), sensitivity(config, 'throughput')),
  ];
  const bytes = (which: Arm) => arm(which).map((r) => ({ testid: r.testid, value: r.bytesPerRequest }));
  if ([...bytes('off'), ...bytes('on')].every((r) => Number.isFinite(r.value))) {
    secondary.push(compared('bytes_received_per_request', 'bytes', 'lower-is-better', 'mean', bytes('off'), bytes('on'), sensitivity(config, 'bytes_received_per_request')));
  }
  return { primary, secondary };
}

function newExperimentId(slug: string, now = new Date()): string {
  return `exp-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${slug}`.slice(0, 100);
}

/** Runs the experiment; every process it starts is stopped, and a dropped index is re-created, before it returns. */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const { runsPerArm, duration, warmup } = checkOptions(options);
  const log = options.log ?? (() => undefined);
  const plan: OptimisationPlan = planFor(options.optimisation, { redisUrl: options.redisUrl });
  const workload = options.scenario === undefined ? (options.workload ?? plan.workload) : null;
  const script = options.scenario ?? EXPERIMENT_SCRIPT;
  try {
    resolveScript(script);
  } catch (error) {
    throw new ExperimentOptionError('--scenario', (error as Error).message);
  }
  const kpi = options.kpi ?? plan.kpi;
  const endpoint = options.endpoint ?? plan.endpoint;
  const order = interleavedOrder(runsPerArm);
  const id = newExperimentId(plan.slug);
  const branches: Record<Arm, string> = { off: `experiment/${plan.name}/off`, on: `experiment/${plan.name}/on` };
  const startedAt = new Date();

  // The index experiment changes the schema: only where the caller said it may, and always restored.
  let schema: { client: pg.Client; index: { table: string; definition: string }; name: string } | undefined;
  if (plan.optimisation.kind === 'index') {
    if (!options.allowSchemaChanges) {
      throw new ExperimentOptionError(
        '--allow-schema-changes',
        `--optimisation ${plan.name} drops and re-creates index ${plan.optimisation.index} between runs: use a test database and pass --allow-schema-changes`,
      );
    }
    const client = new pg.Client({ connectionString: options.databaseUrl });
    await client.connect();
    try {
      schema = { client, index: await indexDefinition(client, plan.optimisation.index), name: plan.optimisation.index };
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  const store = openBaselineStore(options.storeUrl);
  let app: RunningProcess | undefined;
  const records: RunRecord[] = [];
  let gitSha = 'unknown';
  try {
    await store.migrate();
    log(`experiment ${id}: ${plan.name}, ${runsPerArm} runs per arm in the order ${order.join(' ')}, ${duration} each (${plan.description})`);
    for (const [i, arm] of order.entries()) {
      const settings = plan.arm(arm);
      if (schema && settings.index) await setIndex(schema.client, schema.name, schema.index, settings.index.present, log);
      const port = await freePort();
      app = await startProcess({
        name: `perfstack app (${arm})`,
        command: process.execPath,
        args: [CLI, 'app', '--config', options.configPath, '--port', String(port), '--pool-max', String(options.poolMax ?? 10), ...settings.appArgs],
        env: { ...process.env, DATABASE_URL: options.databaseUrl },
        readyUrl: `http://127.0.0.1:${port}/health`,
        // tsx compiles the service on every start: on a busy 2-core machine that can take 20 s or more.
        readyTimeoutMs: 120_000,
      });
      const baseUrl = `http://127.0.0.1:${port}`;
      const env: Record<string, string> = {
        ...(workload ? { PERFSTACK_WORKLOAD: workload, PERFSTACK_SCENARIO: `experiment-${workload}` } : {}),
        // The experiment script reads its length and VUs from these; other scripts get --duration/--vus.
        ...(workload ? { PERFSTACK_DURATION: duration, ...(options.vus ? { PERFSTACK_VUS: String(options.vus) } : {}) } : {}),
        ...settings.scenarioEnv,
      };
      const run = async (testid: string, length: string, keepSamples: boolean): Promise<RunScenarioResult> =>
        runScenario({
          scenario: script,
          baseUrl,
          testid,
          outputDir: join(options.outputDir, testid),
          env: workload ? { ...env, PERFSTACK_DURATION: length } : env,
          ...(workload ? {} : { duration: length, ...(options.vus ? { vus: options.vus } : {}) }),
          recordSamples: keepSamples,
          progress: false,
          // A run ends by itself; this only bounds a stuck one.
          timeoutMs: 60_000 + 3 * 1000 * secondsOf(length),
        });
      if (!isZero(warmup)) await run(`${id}-${arm}-${i + 1}-warmup`, warmup, false);
      const testid = `${id}-${arm}-${i + 1}`;
      const result = await run(testid, duration, true);
      gitSha = result.gitSha;
      if (result.exitCode !== 0 && result.exitCode !== K6_THRESHOLDS_FAILED) throw new Error(`run ${testid} failed (exit ${result.exitCode}): ${result.error ?? `see ${result.logPath}`}`);
      const summary = JSON.parse(await readFile(result.summaryPath, 'utf8')) as unknown;
      const samples = result.samplesPath ? await samplesFromK6Json(result.samplesPath) : undefined;
      await store.importK6Summary(summary, { branch: branches[arm] }, samples ? { samples } : {});
      records.push({ arm, testid, bytesPerRequest: await bytesPerRequest(result.summaryPath) });
      log(`experiment: run ${i + 1}/${order.length} (${arm}) ${testid} stored on ${branches[arm]}${result.passed ? '' : ' (an SLA threshold failed; the run still counts)'}`);
      await app.stop();
      app = undefined;
    }
    const { primary, secondary } = await judgeExperiment(store, options.config, records, kpi, endpoint);
    return {
      optimisation: plan.name,
      description: plan.description,
      scenario: workload ? `experiment-${workload}` : resolveScript(script).name,
      workload,
      runsPerArm,
      order,
      duration,
      warmup,
      vus: options.vus ?? null,
      branches,
      primary: { ...primary, kpi, endpoint },
      secondary,
      gitSha,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
    };
  } finally {
    await app?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    if (schema) {
      try {
        await setIndex(schema.client, schema.name, schema.index, true, log);
      } finally {
        await schema.client.end().catch(() => undefined);
      }
    }
  }
}

function secondsOf(duration: string): number {
  let total = 0;
  for (const part of duration.match(/\d+(\.\d+)?(ms|s|m|h)/g) ?? []) {
    const value = parseFloat(part);
    total += part.endsWith('ms') ? value / 1000 : part.endsWith('h') ? value * 3600 : part.endsWith('m') ? value * 60 : value;
  }
  return total;
}
