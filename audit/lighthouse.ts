// Lighthouse's performance audit of one loopback page on Debian's Chromium, run N times; the
// median of each metric is the result (one Lighthouse run varies by a few percent).

import lighthouse, { desktopConfig } from 'lighthouse';
import { launchChromium } from './chromium.js';
import { median } from '../regression/index.js';
import { AuditError } from './errors.js';

/** What one audit measured. Times in seconds, sizes in bytes, score 0..1. */
export interface AuditMetrics {
  fcpSeconds: number;
  lcpSeconds: number;
  tbtSeconds: number;
  cls: number;
  speedIndexSeconds: number;
  /** JavaScript the page loaded, decoded size (what the browser parses), summed over every script. */
  javascriptBytes: number;
  /** Lighthouse's performance category score, 0..1. */
  performanceScore: number;
}

export const AUDIT_METRIC_NAMES = ['fcpSeconds', 'lcpSeconds', 'tbtSeconds', 'cls', 'speedIndexSeconds', 'javascriptBytes', 'performanceScore'] as const satisfies readonly (keyof AuditMetrics)[];

export type AuditPreset = 'desktop' | 'mobile';

export interface AuditOptions {
  url: string;
  /** Lighthouse runs; the median of each metric is reported. Default 1. */
  runs?: number;
  /** desktop (no throttling, desktop screen) or mobile (Lighthouse's default: simulated slow 4G, mid-range phone). */
  preset?: AuditPreset;
  /** How long the page may take to answer and load, per run. Default 30 s. */
  timeoutMs?: number;
  /** Chromium binary; default CHROME_PATH or /usr/bin/chromium. */
  chromePath?: string;
  log?: (line: string) => void;
}

export interface AuditResult {
  url: string;
  preset: AuditPreset;
  /** Median per metric over the runs. */
  metrics: AuditMetrics;
  /** Every run's metrics, in order. */
  runs: AuditMetrics[];
  lighthouseVersion: string;
  startedAt: Date;
  endedAt: Date;
  /** The last run's Lighthouse report, HTML and JSON. */
  reportHtml: string;
  reportJson: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);

/** Accepts http(s) URLs on 127.0.0.0/8, ::1 or localhost; throws AuditError('invalid-url') naming the URL. */
export function checkLoopbackUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuditError('invalid-url', `url must be an absolute http(s) URL such as http://127.0.0.1:8080/, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AuditError('invalid-url', `url must be http(s), got "${value}"`);
  const host = url.hostname;
  if (!LOOPBACK_HOSTS.has(host) && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    throw new AuditError('invalid-url', `perfstack audits loopback pages only (127.0.0.1, ::1, localhost); "${host}" in ${value} is not one`);
  }
  return url;
}

/** The page must answer at all before Lighthouse spends its timeout on it. */
async function checkAnswers(url: string, timeoutMs: number): Promise<void> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    await response.arrayBuffer();
    if (!response.ok) throw new AuditError('page-did-not-load', `${url} answered ${response.status} ${response.statusText}: nothing to audit`);
  } catch (error) {
    if (error instanceof AuditError) throw error;
    const name = (error as Error).name;
    const why = name === 'TimeoutError' || name === 'AbortError' ? `did not answer within ${timeoutMs} ms` : `cannot be reached (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message})`;
    throw new AuditError('page-did-not-load', `the page never loaded: ${url} ${why}`, { cause: error });
  }
}

/** Lighthouse's runtime errors that mean the page itself did not load. */
const PAGE_ERRORS = /NO_FCP|PAGE_HUNG|NO_NAVSTART|FAILED_DOCUMENT_REQUEST|ERRORED_DOCUMENT_REQUEST|DNS_FAILURE|CHROME_INTERSTITIAL_ERROR|NO_LCP|TIMEOUT/;

interface LhAudit {
  numericValue?: number;
  details?: { items?: { resourceType?: string; resourceSize?: number }[] };
}

function metricsOf(lhr: { audits: Record<string, LhAudit>; categories: Record<string, { score: number | null }> }): AuditMetrics {
  const numeric = (id: string): number => {
    const value = lhr.audits[id]?.numericValue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new AuditError('lighthouse-failed', `Lighthouse did not measure ${id}`);
    return value;
  };
  const scripts = (lhr.audits['network-requests']?.details?.items ?? []).filter((item) => item.resourceType === 'Script');
  const score = lhr.categories.performance?.score;
  if (typeof score !== 'number') throw new AuditError('lighthouse-failed', 'Lighthouse gave no performance score');
  return {
    fcpSeconds: numeric('first-contentful-paint') / 1000,
    lcpSeconds: numeric('largest-contentful-paint') / 1000,
    tbtSeconds: numeric('total-blocking-time') / 1000,
    cls: numeric('cumulative-layout-shift'),
    speedIndexSeconds: numeric('speed-index') / 1000,
    javascriptBytes: scripts.reduce((sum, item) => sum + (item.resourceSize ?? 0), 0),
    performanceScore: score,
  };
}

/** Audits a loopback page with Lighthouse; throws AuditError with a reason for each failure path. */
export async function auditPage(options: AuditOptions): Promise<AuditResult> {
  const url = checkLoopbackUrl(options.url).toString();
  const runs = options.runs ?? 1;
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new AuditError('invalid-url', `runs must be a whole number 1..20, got ${runs}`);
  const preset = options.preset ?? 'desktop';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const log = options.log ?? (() => undefined);

  const chromium = await launchChromium(options.chromePath ? { executable: options.chromePath } : {});
  const startedAt = new Date();
  try {
    await checkAnswers(url, timeoutMs);
    const measured: AuditMetrics[] = [];
    let last: { html: string; json: string; version: string } | undefined;
    for (let run = 1; run <= runs; run++) {
      let result;
      try {
        result = await lighthouse(
          url,
          {
            port: chromium.port,
            output: ['html', 'json'],
            logLevel: 'error',
            onlyCategories: ['performance'],
            maxWaitForLoad: timeoutMs,
            maxWaitForFcp: timeoutMs,
          },
          preset === 'desktop' ? desktopConfig : undefined,
        );
      } catch (error) {
        const message = (error as Error).message;
        if (PAGE_ERRORS.test(message) || PAGE_ERRORS.test((error as { code?: string }).code ?? '')) throw new AuditError('page-did-not-load', `the page never loaded: ${url}: ${message}`, { cause: error });
        throw new AuditError('lighthouse-failed', `Lighthouse failed on ${url}: ${message}`, { cause: error });
      }
      if (!result) throw new AuditError('lighthouse-failed', `Lighthouse returned nothing for ${url}`);
      const runtimeError = result.lhr.runtimeError;
      if (runtimeError) {
        const reason = PAGE_ERRORS.test(runtimeError.code) ? 'page-did-not-load' : 'lighthouse-failed';
        throw new AuditError(reason, `${reason === 'page-did-not-load' ? 'the page never loaded' : 'Lighthouse failed'}: ${url}: ${runtimeError.code}: ${runtimeError.message}`);
      }
      const metrics = metricsOf(result.lhr as unknown as Parameters<typeof metricsOf>[0]);
      measured.push(metrics);
      const [html, json] = result.report as string[];
      last = { html: html ?? '', json: json ?? '', version: result.lhr.lighthouseVersion };
      log(`audit run ${run}/${runs}: score ${Math.round(metrics.performanceScore * 100)}, LCP ${metrics.lcpSeconds.toFixed(2)} s, TBT ${(metrics.tbtSeconds * 1000).toFixed(0)} ms`);
    }
    const metrics = Object.fromEntries(AUDIT_METRIC_NAMES.map((name) => [name, median(measured.map((m) => m[name]))])) as unknown as AuditMetrics;
    return {
      url,
      preset,
      metrics,
      runs: measured,
      lighthouseVersion: last!.version,
      startedAt,
      endedAt: new Date(),
      reportHtml: last!.html,
      reportJson: last!.json,
    };
  } finally {
    await chromium.stop();
  }
}
