#!/usr/bin/env node
// pg-stats-exporter: the standalone PostgreSQL statistics exporter as a command, for services
// outside the perfstack repository. The options are those of `perfstack exporter pg`, without
// --config (no perfstack.config.ts here: --slow-statement-seconds defaults to 1 s).
// Exit codes: 0 after SIGTERM/SIGINT or --help, 1 when it cannot start, 2 on a bad command line.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PG_STATS_HOST,
  DEFAULT_PG_STATS_PORT,
  PG_STATS_DEFAULTS,
  resolveDatabaseUrl,
  startPgStatsExporter,
  type BasicAuthCredentials,
} from '../../exporters/pg-stats/index.js';

const NAME = 'pg-stats-exporter';

const USAGE = `Usage: ${NAME} [options]

PostgreSQL server statistics for Prometheus (postgres_exporter-compatible names) at /metrics,
liveness at /health. The connection string comes from $DATABASE_URL, the file $DATABASE_URL_FILE
names, or --database-url-file, and is never printed.

Options:
  --host <address>                   address to bind (default: ${DEFAULT_PG_STATS_HOST})
  --port <port>                      port to bind; 0 picks a free one (default: ${DEFAULT_PG_STATS_PORT})
  --database-url-file <file>         file holding the PostgreSQL URL (wins over the variables)
  --top-statements <n>               pg_stat_statements entries exported, by total time (default: ${PG_STATS_DEFAULTS.topStatements})
  --show-query-text                  export each top statement's normalised, truncated text
  --query-text-length <n>            longest query text exported (default: ${PG_STATS_DEFAULTS.queryTextMaxLength})
  --slow-statement-seconds <s>       mean time above which a statement counts as slow (default: ${PG_STATS_DEFAULTS.slowStatementSeconds})
  --scrape-timeout-ms <ms>           deadline of one scrape (default: ${PG_STATS_DEFAULTS.scrapeTimeoutMs})
  --basic-auth-user <name>           require basic auth with this user (with --basic-auth-password-file)
  --basic-auth-password-file <file>  file holding the basic-auth password
  --version                          print the version
  -h, --help                         print this help

Example:
  DATABASE_URL=postgres://exporter@127.0.0.1:5432/app ${NAME} --port 9187
`;

class UsageError extends Error {}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(
      max === 65_535 ? `${flag} must be an integer from ${min} to ${max}, got "${value}"` : `${flag} must be a positive whole number, got "${value}"`,
    );
  }
  return number;
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) throw new UsageError(`${flag} must be a positive number, got "${value}"`);
  return number;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'database-url-file': { type: 'string' },
        'top-statements': { type: 'string' },
        'show-query-text': { type: 'boolean' },
        'query-text-length': { type: 'string' },
        'slow-statement-seconds': { type: 'string' },
        'scrape-timeout-ms': { type: 'string' },
        'basic-auth-user': { type: 'string' },
        'basic-auth-password-file': { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    // node:util's messages are long; keep the part that names the option or argument.
    const code = (error as { code?: string }).code;
    const quoted = /'([^']+)'/.exec((error as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${quoted}`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument "${quoted}" (this command takes options only)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError((error as Error).message.replace(/^Option/, 'option'));
    throw error;
  }
}

/** The version from this package's package.json (three folders up from dist/packages/pg-stats-exporter/). */
function version(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return manifest.name === `@perfstack/${NAME}` && manifest.version ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function readPassword(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(`--basic-auth-password-file: cannot read ${file}${code ? ` (${code})` : ''}`);
  }
}

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>;
  let settings: {
    host: string;
    port: number;
    topStatements: number;
    queryTextMaxLength: number;
    slowStatementSeconds: number | undefined;
    scrapeTimeoutMs: number;
  };
  try {
    values = parse(argv);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (values.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    if (values['basic-auth-user'] !== undefined && values['basic-auth-password-file'] === undefined) {
      throw new UsageError('--basic-auth-user needs --basic-auth-password-file');
    }
    if (values['basic-auth-password-file'] !== undefined && values['basic-auth-user'] === undefined) {
      throw new UsageError('--basic-auth-password-file needs --basic-auth-user');
    }
    if (values.host !== undefined && values.host.trim() === '') throw new UsageError('--host must not be empty');
    settings = {
      host: values.host ?? DEFAULT_PG_STATS_HOST,
      port: integer('--port', values.port, DEFAULT_PG_STATS_PORT, 0, 65_535),
      topStatements: integer('--top-statements', values['top-statements'], PG_STATS_DEFAULTS.topStatements, 1),
      queryTextMaxLength: integer('--query-text-length', values['query-text-length'], PG_STATS_DEFAULTS.queryTextMaxLength, 1),
      slowStatementSeconds: positive('--slow-statement-seconds', values['slow-statement-seconds']),
      scrapeTimeoutMs: integer('--scrape-timeout-ms', values['scrape-timeout-ms'], PG_STATS_DEFAULTS.scrapeTimeoutMs, 1),
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${NAME}: ${error.message}\nRun ${NAME} --help for the options.\n`);
    return 2;
  }

  const user = values['basic-auth-user'];
  const passwordFile = values['basic-auth-password-file'];
  const basicAuth: BasicAuthCredentials | undefined =
    user !== undefined && passwordFile !== undefined ? { username: user, password: readPassword(passwordFile) } : undefined;
  const exporter = await startPgStatsExporter({
    databaseUrl: resolveDatabaseUrl({ file: values['database-url-file'] }),
    ...settings,
    showQueryText: values['show-query-text'] ?? false,
    basicAuth,
  });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  console.log(`${NAME}: ${signal} received, stopping`);
  await exporter.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${NAME}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
