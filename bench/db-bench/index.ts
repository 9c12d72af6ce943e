// perfstack db-bench: PostgreSQL micro-benchmarks on scratch tables, compared with the config KPIs.
//
//   const options = parseDbBenchOptions({ url, iterations: '500', operations: 'select,copy' });
//   const report = await runDbBench(options);      // also writes options.output when set
//   console.log(formatReport(report));
//   const breaches = kpiBreaches(report, await loadConfig());
//   if (breaches.length > 0) process.exitCode = 1;
export { runDbBench, summarisePlan, SCRATCH_PREFIX } from './run.js';
export type { DbBenchRunOptions } from './run.js';
export {
  DB_BENCH_DEFAULTS,
  DB_BENCH_FLAGS,
  DB_BENCH_FLAG_HELP,
  DB_BENCH_OPERATIONS,
  DB_BENCH_OPERATION_DESCRIPTIONS,
  DbBenchOptionError,
  SINGLE_ROW_OPERATIONS,
  dbBenchOptionsSchema,
  parseDbBenchOptions,
} from './options.js';
export type { DbBenchOperation, DbBenchOptionName, DbBenchOptions, DbBenchOptionsInput } from './options.js';
export { DB_BENCH_REPORT_VERSION, MAX_QUERY_OPERATIONS, formatReport, kpiBreaches, writeReport } from './report.js';
export type { DbBenchEnvironment, DbBenchReport, KpiBreach, OperationResult, PlanSummary } from './report.js';
