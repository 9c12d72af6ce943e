import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { DEFAULT_PG_STATS_PORT, PG_STATS_DEFAULTS, resolveDatabaseUrl, startPgStatsExporter } from '../../exporters/index.js';
import { configOption, hostOption, parsePort, parsePositive, untilSignal } from '../options.js';

interface ExporterOptions {
  config: string;
  host: string;
  port: number;
  databaseUrlFile?: string;
  topStatements: number;
  showQueryText?: boolean;
  queryTextLength: number;
  slowStatementSeconds?: number;
  scrapeTimeoutMs: number;
  basicAuthUser?: string;
  basicAuthPasswordFile?: string;
}

function basicAuth(options: ExporterOptions) {
  if (!options.basicAuthUser && !options.basicAuthPasswordFile) return undefined;
  if (!options.basicAuthUser || !options.basicAuthPasswordFile) {
    throw new InvalidArgumentError('--basic-auth-user and --basic-auth-password-file go together');
  }
  return { username: options.basicAuthUser, password: readFileSync(options.basicAuthPasswordFile, 'utf8').trim() };
}

/** exporter pg: the standalone PostgreSQL statistics exporter. */
export function registerExporterCommands(program: Command): void {
  const exporter = program.command('exporter').description('Run a metrics exporter');
  exporter
    .command('pg')
    .description('PostgreSQL server statistics for Prometheus (postgres_exporter-compatible names); the connection string comes from $DATABASE_URL or a file and is never printed')
    .addOption(configOption())
    .addOption(hostOption())
    .addOption(new Option('--port <port>', 'port to bind (0 picks a free one)').default(DEFAULT_PG_STATS_PORT).argParser(parsePort('--port')))
    .addOption(new Option('--database-url-file <file>', 'file holding the PostgreSQL URL (default: $DATABASE_URL_FILE, else $DATABASE_URL)'))
    .addOption(new Option('--top-statements <n>', 'pg_stat_statements entries exported, by total time').default(PG_STATS_DEFAULTS.topStatements).argParser(parsePositive('--top-statements')))
    .option('--show-query-text', 'export each top statement’s normalised, truncated text')
    .addOption(new Option('--query-text-length <n>', 'longest query text exported').default(PG_STATS_DEFAULTS.queryTextMaxLength).argParser(parsePositive('--query-text-length')))
    .addOption(new Option('--slow-statement-seconds <s>', 'mean time above which a statement counts as slow (default: database.maxQuerySeconds)').argParser(parsePositive('--slow-statement-seconds', false)))
    .addOption(new Option('--scrape-timeout-ms <ms>', 'deadline of one scrape').default(PG_STATS_DEFAULTS.scrapeTimeoutMs).argParser(parsePositive('--scrape-timeout-ms')))
    .addOption(new Option('--basic-auth-user <name>', 'require basic auth with this user'))
    .addOption(new Option('--basic-auth-password-file <file>', 'file holding the basic-auth password'))
    .action(async (options: ExporterOptions) => {
      const config = await loadConfig(options.config);
      const exporterHandle = await startPgStatsExporter({
        databaseUrl: resolveDatabaseUrl({ file: options.databaseUrlFile }),
        host: options.host,
        port: options.port,
        basicAuth: basicAuth(options),
        config,
        topStatements: options.topStatements,
        showQueryText: options.showQueryText ?? false,
        queryTextMaxLength: options.queryTextLength,
        slowStatementSeconds: options.slowStatementSeconds,
        scrapeTimeoutMs: options.scrapeTimeoutMs,
      });
      await untilSignal();
      await exporterHandle.stop();
    });
}
