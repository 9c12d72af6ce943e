// analyze(): run every check over one time range and assemble the report.

import type { PerfstackConfig } from '../../config/index.js';
import { cacheCheck, cpuCheck, dbShareCheck, errorsCheck, hostCpu, latencyCheck, nPlusOneCheck, poolCheck, routeTimes, seqScanCheck, statementsCheck } from './checks.js';
import type { CheckContext } from './context.js';
import { connectDatabase, type DatabaseEvidence } from './database.js';
import { captureExplains, type CaptureExplainsOptions } from './explain.js';
import { linkProfile } from './profile-link.js';
import { prometheusClient } from './prometheus.js';
import { checkRange } from './time-range.js';
import { CHECK_IDS, SEVERITY_ORDER, type AnalysisReport, type Finding, type Section } from './types.js';

export interface AnalyzeOptions {
  /** Prometheus base URL, e.g. http://127.0.0.1:9090. */
  prometheusUrl: string;
  start: Date;
  end: Date;
  config: PerfstackConfig;
  /** PostgreSQL URL for direct evidence (statement texts, EXPLAIN, table sizes); optional. */
  databaseUrl?: string;
  /** The k6 run the range came from, shown in the report. */
  testid?: string;
  /** A folder `perfstack profile` wrote: linked and summarised when the service was CPU-bound. */
  profileDir?: string;
  /** Capture EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECTs (needs databaseUrl). */
  explain?: boolean | CaptureExplainsOptions;
}

/** Most severe first, then the largest impact, then by title for a stable order. */
export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.impact - a.impact || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0);
}

export async function analyze(options: AnalyzeOptions): Promise<AnalysisReport> {
  checkRange(options.start, options.end);
  if (options.explain && !options.databaseUrl) throw new Error('--explain needs a database URL (--database-url, DATABASE_URL or DATABASE_URL_FILE)');
  const prometheus = prometheusClient(options.prometheusUrl);
  await prometheus.ping();
  const rangeSeconds = Math.max(1, Math.round((options.end.getTime() - options.start.getTime()) / 1000));

  let db: DatabaseEvidence | undefined;
  let database: AnalysisReport['database'] = 'not given';
  if (options.databaseUrl) {
    try {
      db = await connectDatabase(options.databaseUrl);
      database = 'connected';
    } catch (error) {
      database = `unavailable: ${(error as Error).message}`;
    }
  }

  const ctx: CheckContext = {
    prometheus,
    config: options.config,
    time: options.end.getTime() / 1000,
    rangeSeconds,
    window: `${rangeSeconds}s`,
  };
  if (db) ctx.db = db;

  try {
    const [{ routes }, host] = await Promise.all([routeTimes(ctx), hostCpu(ctx)]);
    const latency = await latencyCheck(ctx, routes);
    const sections: Section[] = await Promise.all([
      latency.section,
      dbShareCheck(ctx, latency.missedJobs),
      poolCheck(ctx, host.samples[0]?.value),
      statementsCheck(ctx),
      seqScanCheck(ctx),
      cacheCheck(ctx),
      nPlusOneCheck(ctx),
      cpuCheck(ctx),
      errorsCheck(ctx),
    ]);
    sections.sort((a, b) => CHECK_IDS.indexOf(a.check) - CHECK_IDS.indexOf(b.check));
    const findings = sections.flatMap((s) => s.findings).sort(compareFindings);
    const report: AnalysisReport = {
      prometheusUrl: prometheus.url,
      start: options.start.toISOString(),
      end: options.end.toISOString(),
      rangeSeconds,
      generatedAt: new Date().toISOString(),
      database,
      routes,
      findings,
      sections,
    };
    if (options.testid) report.testid = options.testid;
    if (options.profileDir) report.profile = await linkProfile(ctx, options.profileDir);
    if (options.explain && options.databaseUrl) report.explains = await captureExplains(options.databaseUrl, options.explain === true ? {} : options.explain);
    return report;
  } finally {
    await db?.close();
  }
}
