import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { analyze, k6RunRange, parseDurationSeconds, parseTime, prometheusClient, renderAnalysisMarkdown, type TimeRange } from '../../regression/index.js';
import { configOption, databaseUrlOption, parsePositive, requireDatabaseUrl, stateDirOption, nativeComponentUrl } from '../options.js';

export const DEFAULT_PROMETHEUS_URL = 'http://127.0.0.1:9090';

interface AnalyzeCliOptions {
  config: string;
  stateDir: string;
  prometheusUrl?: string;
  testid?: string;
  start?: string;
  end?: string;
  last?: string;
  databaseUrl?: string;
  out?: string;
  profile?: string;
  explain?: boolean;
  explainLimit: number;
  explainTimeout: number;
}

/** The running native stack's Prometheus (`perfstack start`), else the default port. */
function stackPrometheusUrl(stateDir: string): string {
  return nativeComponentUrl(stateDir, 'prometheus') ?? DEFAULT_PROMETHEUS_URL;
}

/** --database-url, $DATABASE_URL, or the file $DATABASE_URL_FILE names; none is fine (no direct evidence). */
function optionalDatabaseUrl(given: string | undefined): string | undefined {
  if (given || process.env.DATABASE_URL_FILE) return requireDatabaseUrl(given);
  return undefined;
}

async function resolveRange(options: AnalyzeCliOptions, prometheusUrl: string): Promise<TimeRange> {
  const chosen = [options.testid !== undefined, options.start !== undefined || options.end !== undefined, options.last !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new InvalidArgumentError('give one of --testid, --start/--end or --last');
  const wrap = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
  if (options.testid !== undefined) {
    if (!options.testid.trim()) throw new InvalidArgumentError('--testid must not be empty');
    return k6RunRange(prometheusClient(prometheusUrl), options.testid);
  }
  if (options.start !== undefined || options.end !== undefined) {
    if (options.start === undefined) throw new InvalidArgumentError('--end needs --start');
    const start = wrap(() => parseTime(options.start!, '--start'));
    const end = options.end === undefined ? new Date() : wrap(() => parseTime(options.end!, '--end'));
    if (end.getTime() <= start.getTime()) throw new InvalidArgumentError(`--end (${end.toISOString()}) must be after --start (${start.toISOString()})`);
    return { start, end };
  }
  const seconds = wrap(() => parseDurationSeconds(options.last ?? '15m', '--last'));
  const end = new Date();
  return { start: new Date(end.getTime() - seconds * 1000), end };
}

/** Writes through a temporary file and a rename, so a reader never sees half a report. */
function writeAtomically(file: string, content: string): void {
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** perfstack analyze: a bottleneck analysis in Markdown from the live stack and a load-test run. */
export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description('Analyse where request time goes over a time range or a k6 run, and write a Markdown report of bottlenecks with evidence and recommendations')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(new Option('--prometheus-url <url>', `Prometheus to query (default: the native stack's, else ${DEFAULT_PROMETHEUS_URL})`).env('PERFSTACK_PROMETHEUS_URL'))
    .addOption(new Option('--testid <id>', 'analyse the k6 run with this testid (its range comes from k6_vus)'))
    .addOption(new Option('--start <time>', 'start of the range, ISO 8601 (e.g. 2024-05-01T12:00:00Z)'))
    .addOption(new Option('--end <time>', 'end of the range, ISO 8601 (default: now)'))
    .addOption(new Option('--last <duration>', 'the range ending now, e.g. 15m or 1h (default when no range is given: 15m)'))
    .addOption(databaseUrlOption())
    .addOption(new Option('--out <file>', 'write the Markdown here (atomically) instead of printing it'))
    .addOption(new Option('--profile <dir>', 'a folder `perfstack profile` wrote: linked and summarised when the service was CPU-bound'))
    .option('--explain', 'capture EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECT statements (read-only, with a statement timeout; needs a database URL)')
    .addOption(new Option('--explain-limit <n>', 'how many SELECT statements --explain covers').default(5).argParser(parsePositive('--explain-limit')))
    .addOption(new Option('--explain-timeout <ms>', 'statement_timeout of each EXPLAIN under --explain').default(5000).argParser(parsePositive('--explain-timeout')))
    .addHelpText('after', '\nWithout a database URL the report still runs; it then lacks statement texts, plans and table sizes.\nThe playbook behind each recommendation: docs/performance_optimization_guide.md')
    .action(async (options: AnalyzeCliOptions) => {
      const prometheusUrl = (options.prometheusUrl ?? stackPrometheusUrl(options.stateDir)).replace(/\/+$/, '');
      if (!/^https?:\/\/[^/]/.test(prometheusUrl)) throw new InvalidArgumentError(`--prometheus-url must be an http(s) URL, got "${prometheusUrl}"`);
      const config = await loadConfig(options.config);
      const databaseUrl = optionalDatabaseUrl(options.databaseUrl);
      if (options.explain && !databaseUrl) throw new InvalidArgumentError('--explain needs a database URL: pass --database-url, or set DATABASE_URL or DATABASE_URL_FILE');
      const range = await resolveRange(options, prometheusUrl);
      const report = await analyze({ prometheusUrl, start: range.start, end: range.end, config, ...(databaseUrl ? { databaseUrl } : {}), ...(range.testid ? { testid: range.testid } : {}),
        ...(options.profile ? { profileDir: options.profile } : {}),
        ...(options.explain ? { explain: { limit: options.explainLimit, statementTimeoutMs: options.explainTimeout } } : {}),
      });
      const markdown = renderAnalysisMarkdown(report);
      if (options.out) {
        writeAtomically(options.out, markdown);
        const counts = (['critical', 'warning', 'info'] as const).map((s) => `${report.findings.filter((f) => f.severity === s).length} ${s}`).join(', ');
        console.log(`analyze: ${report.findings.length} findings (${counts}) written to ${options.out}`);
      } else {
        process.stdout.write(markdown);
      }
    });
}
