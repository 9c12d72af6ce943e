// What every check receives, the query helper that turns "no data" into "not measured", and the
// section builder.

import type { PerfstackConfig } from '../../config/index.js';
import { http } from '../../metrics/index.js';
import type { DatabaseEvidence } from './database.js';
import { escapeRegex, promString, type PrometheusClient, type Sample } from './prometheus.js';
import { FINDING_CATALOGUE, type CheckId, type Evidence, type Finding, type FindingSeverity, type Section } from './types.js';

export interface CheckContext {
  prometheus: PrometheusClient;
  config: PerfstackConfig;
  /** Evaluation time: the end of the range, unix seconds. */
  time: number;
  rangeSeconds: number;
  /** The range as a PromQL duration, e.g. "600s". */
  window: string;
  db?: DatabaseEvidence;
}

export interface QueryResult {
  query: string;
  samples: Sample[];
  /** Set when Prometheus rejected or failed the query. */
  error?: string;
}

export async function run(ctx: CheckContext, query: string): Promise<QueryResult> {
  try {
    return { query, samples: await ctx.prometheus.instant(query, ctx.time) };
  } catch (error) {
    return { query, samples: [], error: (error as Error).message };
  }
}

/** A query with no samples as a not-measured evidence line. */
export function noData(result: QueryResult, why = 'no data in the range'): Evidence {
  return { kind: 'promql', query: result.query, value: result.error ? `query failed: ${result.error}` : `not measured (${why})` };
}

export function promEvidence(query: string, value: string): Evidence {
  return { kind: 'promql', query, value };
}

/** Service jobs as a matcher: job=~"a|b". */
export function serviceJobsMatcher(config: PerfstackConfig): string {
  const jobs = [...new Set(config.services.map((s) => s.job))].sort();
  return `job=~${promString(jobs.map(escapeRegex).join('|'))}`;
}

/** HTTP request selector of the service jobs, leaving Prometheus' own /metrics scrapes out. */
export function requestMatchers(config: PerfstackConfig): string {
  return `${serviceJobsMatcher(config)}, ${http.labels.route}!="/metrics"`;
}

/** The config service a (job, route) belongs to: the first listing the route, else one of the job listing no routes. */
export function serviceOf(config: PerfstackConfig, job: string, route: string): PerfstackConfig['services'][number] | undefined {
  return (
    config.services.find((s) => s.job === job && s.routes.includes(route)) ??
    config.services.find((s) => s.job === job && s.routes.length === 0)
  );
}

/** job plus, when the service lists routes, an anchored alternation of them. */
export function serviceMatchers(service: PerfstackConfig['services'][number]): string {
  const matchers = [`job=${promString(service.job)}`];
  if (service.routes.length > 0) matchers.push(`${http.labels.route}=~${promString(service.routes.map(escapeRegex).join('|'))}`);
  return matchers.join(', ');
}

export const value = (samples: Sample[], match: (labels: Record<string, string>) => boolean): number | undefined =>
  samples.find((s) => match(s.labels))?.value;

/** Key of a sample by some of its labels. */
export const keyOf = (labels: Record<string, string>, names: string[]): string => names.map((n) => labels[n] ?? '').join('\u0000');

export class SectionBuilder {
  readonly findings: Finding[] = [];
  readonly measured: Evidence[] = [];
  readonly notMeasured: Evidence[] = [];

  constructor(readonly check: CheckId) {}

  finding(severity: FindingSeverity, subject: string | undefined, evidence: Evidence[], recommendation: string, impact: number): void {
    const title = subject ? `${FINDING_CATALOGUE[this.check].title}: ${subject}` : FINDING_CATALOGUE[this.check].title;
    const finding: Finding = { check: this.check, severity, title, evidence, recommendation, impact: Number.isFinite(impact) ? impact : 1 };
    if (subject !== undefined) finding.subject = subject;
    this.findings.push(finding);
  }

  build(): Section {
    const status = this.findings.length > 0 ? 'finding' : this.measured.length > 0 ? 'ok' : 'not-measured';
    return {
      check: this.check,
      name: FINDING_CATALOGUE[this.check].section,
      status,
      findings: this.findings,
      measured: this.measured,
      notMeasured: this.notMeasured,
    };
  }
}
