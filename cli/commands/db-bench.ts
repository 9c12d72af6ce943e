import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { DB_BENCH_FLAG_HELP, DB_BENCH_FLAGS, formatReport, kpiBreaches, parseDbBenchOptions, runDbBench, type DbBenchOptionName } from '../../bench/index.js';
import { configOption } from '../options.js';

/** db-bench: PostgreSQL micro-benchmarks judged against the config's database KPIs. */
export function registerDbBenchCommand(program: Command): void {
  const command = program
    .command('db-bench')
    .description('Benchmark a PostgreSQL database (CRUD, multi-row vs COPY, acquisition, transactions, indexed vs unindexed search); exits 1 when a KPI from the config is breached')
    .addOption(configOption());
  for (const [name, flag] of Object.entries(DB_BENCH_FLAGS) as [DbBenchOptionName, string][]) {
    const option = new Option(`${flag} <value>`, DB_BENCH_FLAG_HELP[name]);
    command.addOption(name === 'url' ? option.env('DATABASE_URL') : option);
  }
  command.action(async (raw: Record<string, string> & { config: string }) => {
    const { config: configFile, ...benchOptions } = raw;
    const options = parseDbBenchOptions(benchOptions);
    const config = await loadConfig(configFile);
    const report = await runDbBench(options);
    console.log(formatReport(report));
    const breaches = kpiBreaches(report, config);
    for (const breach of breaches) console.error(`KPI breached: ${breach.message}`);
    if (breaches.length > 0) process.exitCode = 1;
  });
}
