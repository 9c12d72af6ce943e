// The checks: each reads Prometheus (and, when connected, the database) over the analysed range
// and returns one report section with its findings, what it measured, and what it could not.
// Every query is evaluated at the end of the range with a window as long as the range.

import { dbClient, http, node, nodejs, pgServer } from '../../metrics/index.js';
import { pgStatsExtraMetrics } from '../../exporters/index.js';
import {
  keyOf,
  noData,
  promEvidence,
  requestMatchers,
  run,
  SectionBuilder,
  serviceJobsMatcher,
  serviceMatchers,
  serviceOf,
  type CheckContext,
  type QueryResult,
} from './context.js';
import { filterColumns, type ExplainResult, type StatementText, type TableInfo } from './database.js';
import { fmtBytes, fmtNumber, fmtPercent, fmtRate, fmtSeconds, round } from './format.js';
import type { Sample } from './prometheus.js';
import type { Evidence, RouteTime, Section } from './types.js';

/** Thresholds the config does not carry; each documented in the playbook. */
export const ANALYSIS_LIMITS = {
  /** Database execution time above this share of request time is a finding. */
  dbShare: 0.5,
  /** p95 wait for a pool connection above this is a finding (a warm pool hands one out in well under 1 ms). */
  poolWaitP95Seconds: 0.01,
  /** A statement taking at least this share of all statement time … */
  dominantStatementShare: 0.5,
  /** … and at least this many seconds of execution per second (5 % of a core) is reported. */
  dominantStatementBusy: 0.05,
  /** A table with at least this many live rows, or this many bytes, is big. */
  bigTableRows: 10_000,
  bigTableBytes: 10 * 1024 * 1024,
  /** Sequential scans on a big table over the range before it is a finding. */
  minSeqScans: 10,
  /** Rows read by sequential scans per second that make it critical. */
  criticalSeqRowsPerSecond: 1_000_000,
  /** Fewer block accesses than this over the range is too little to judge the cache. */
  minBlockAccesses: 1000,
  /** Database operations per HTTP request above this suggest an N+1 pattern. */
  operationsPerRequest: 10,
  /** A Node.js service using this many cores is CPU-bound (JavaScript runs on one thread). */
  processCpuCores: 0.8,
  /** Event-loop lag p99 above this means requests queue behind CPU work. */
  eventLoopLagSeconds: 0.1,
  /** Error-ratio limits for a service without an error-rate SLA. */
  defaultErrorRate: { warning: 0.01, critical: 0.05 },
} as const;

const P = dbClient.labels.pool;
const H = http.labels;
const sum = (samples: Sample[]) => samples.reduce((total, s) => total + s.value, 0);
const hist = (name: string, suffix: '_sum' | '_count' | '_bucket') => `${name}${suffix}`;

// ---------------------------------------------------------------------------------------------
// Where the time goes: request time per route.

export async function routeTimes(ctx: CheckContext): Promise<{ routes: RouteTime[]; evidence: Evidence[] }> {
  const sel = requestMatchers(ctx.config);
  const w = ctx.window;
  const count = `${hist(http.requestDuration, '_count')}{${sel}}`;
  const [busy, rate, p95, requests] = await Promise.all([
    run(ctx, `sum by (job, ${H.route}) (rate(${hist(http.requestDuration, '_sum')}{${sel}}[${w}]))`),
    run(ctx, `sum by (job, ${H.route}) (rate(${count}[${w}]))`),
    run(ctx, `histogram_quantile(0.95, sum by (job, ${H.route}, le) (rate(${hist(http.requestDuration, '_bucket')}{${sel}}[${w}])))`),
    // Requests counted exactly, not extrapolated like increase(): the last count in the range minus
    // the last one before it (a series born in the range started at zero). A counter reset in the
    // range makes this too low; rate() above copes with resets.
    run(ctx, `sum by (job, ${H.route}) (clamp_min((last_over_time(${count}[${w}]) - last_over_time(${count}[5m] offset ${w})) or last_over_time(${count}[${w}]), 0))`),
  ]);
  const total = sum(busy.samples);
  const routes: RouteTime[] = [];
  for (const r of rate.samples) {
    if (r.value <= 0) continue;
    const job = r.labels.job ?? '';
    const route = r.labels[H.route] ?? '';
    const key = keyOf(r.labels, ['job', H.route]);
    const busySeconds = busy.samples.find((s) => keyOf(s.labels, ['job', H.route]) === key)?.value ?? 0;
    const entry: RouteTime = { job, route, requestsPerSecond: r.value, busySeconds, share: total > 0 ? busySeconds / total : 0 };
    const service = serviceOf(ctx.config, job, route);
    if (service) entry.service = service.name;
    entry.meanSeconds = busySeconds / r.value;
    const counted = requests.samples.find((s) => keyOf(s.labels, ['job', H.route]) === key)?.value;
    if (counted !== undefined) entry.requests = Math.round(counted);
    const q = p95.samples.find((s) => keyOf(s.labels, ['job', H.route]) === key)?.value;
    if (q !== undefined) entry.p95Seconds = q;
    routes.push(entry);
  }
  routes.sort((a, b) => b.busySeconds - a.busySeconds || (a.route < b.route ? -1 : 1));
  const evidence = [busy, rate, p95, requests].map((r) => (r.samples.length ? promEvidence(r.query, `${r.samples.length} series`) : noData(r)));
  return { routes, evidence };
}

// ---------------------------------------------------------------------------------------------
// Latency against the SLA.

export async function latencyCheck(ctx: CheckContext, routes: RouteTime[]): Promise<{ section: Section; missedJobs: Set<string> }> {
  const section = new SectionBuilder('latency-sla');
  const missedJobs = new Set<string>();
  for (const service of ctx.config.services) {
    const { p50Seconds, p95Seconds, p99Seconds } = service.sla.latency;
    const targets: [string, number, number | undefined][] = [['p50', 0.5, p50Seconds], ['p95', 0.95, p95Seconds], ['p99', 0.99, p99Seconds]];
    for (const [name, q, limit] of targets) {
      if (limit === undefined) continue;
      const result = await run(
        ctx,
        `histogram_quantile(${q}, sum by (le) (rate(${hist(http.requestDuration, '_bucket')}{${serviceMatchers(service)}}[${ctx.window}])))`,
      );
      const measured = result.samples[0]?.value;
      if (measured === undefined) {
        section.notMeasured.push(noData(result, `no requests of service ${service.name}`));
        continue;
      }
      const evidence = promEvidence(result.query, `${fmtSeconds(measured)} (SLA ${fmtSeconds(limit)})`);
      if (measured <= limit) {
        section.measured.push(evidence);
        continue;
      }
      missedJobs.add(service.job);
      const top = routes.filter((r) => r.service === service.name).slice(0, 3);
      const where = top.length
        ? ` Most of its request time is in ${top.map((r) => `${r.route} (${fmtPercent(r.share)} of all request time, p95 ${r.p95Seconds === undefined ? 'n/a' : fmtSeconds(r.p95Seconds)})`).join(', ')}.`
        : '';
      section.finding(
        'critical',
        `${service.name} ${name} ${fmtSeconds(measured)} > ${fmtSeconds(limit)}`,
        [evidence],
        `Service ${service.name} misses its ${name} latency SLA.${where} Fix the causes the other findings name (database time, pool waits, CPU), starting with the route that holds the most request time.`,
        measured / limit,
      );
    }
  }
  return { section: section.build(), missedJobs };
}

// ---------------------------------------------------------------------------------------------
// Database share of request time.

/** A dominant database share is a warning for a job that misses a latency SLA, otherwise information. */
export async function dbShareCheck(ctx: CheckContext, slaMissedJobs: ReadonlySet<string> = new Set()): Promise<Section> {
  const section = new SectionBuilder('db-share');
  const jobs = serviceJobsMatcher(ctx.config);
  const w = ctx.window;
  const [db, req, wait, top] = await Promise.all([
    run(ctx, `sum by (job) (rate(${hist(dbClient.operationDuration, '_sum')}{${jobs}}[${w}]))`),
    run(ctx, `sum by (job) (rate(${hist(http.requestDuration, '_sum')}{${requestMatchers(ctx.config)}}[${w}]))`),
    run(ctx, `sum by (job) (rate(${hist(dbClient.waitTime, '_sum')}{${jobs}}[${w}]))`),
    run(ctx, `topk(5, sum by (job, ${dbClient.labels.querySummary}) (rate(${hist(dbClient.operationDuration, '_sum')}{${jobs}}[${w}])))`),
  ]);
  if (req.samples.length === 0 || sum(req.samples) === 0) {
    section.notMeasured.push(noData(req, 'no HTTP requests in the range'));
    return section.build();
  }
  if (db.samples.length === 0) {
    section.notMeasured.push(noData(db, 'no database operations from the service pools'));
    return section.build();
  }
  for (const r of req.samples) {
    const job = r.labels.job ?? '';
    if (r.value <= 0) continue;
    const dbSeconds = db.samples.find((s) => s.labels.job === job)?.value ?? 0;
    const waitSeconds = wait.samples.find((s) => s.labels.job === job)?.value;
    const share = dbSeconds / r.value;
    const evidence: Evidence[] = [
      promEvidence(db.query, `${fmtRate(dbSeconds, ' s/s')} of database execution (job ${job})`),
      promEvidence(req.query, `${fmtRate(r.value, ' s/s')} of request time (job ${job}) → database share ${fmtPercent(share)}`),
    ];
    if (waitSeconds !== undefined) {
      evidence.push(promEvidence(wait.query, `${fmtRate(waitSeconds, ' s/s')} waiting for pool connections → ${fmtPercent(waitSeconds / r.value)} of request time`));
    }
    const tops = top.samples.filter((s) => s.labels.job === job && s.value > 0).sort((a, b) => b.value - a.value);
    if (tops.length) {
      evidence.push(
        promEvidence(top.query, tops.map((s) => `${s.labels[dbClient.labels.querySummary] ?? '?'} ${fmtPercent(s.value / r.value)}`).join(', ')),
      );
    }
    evidence.push({ kind: 'note', text: 'db_client_* carries no http_route label, so the share is per job; a share above 100 % means the pool also serves work outside HTTP requests or queries run in parallel within a request.' });
    if (share < ANALYSIS_LIMITS.dbShare) {
      section.measured.push(...evidence.slice(0, 3));
      continue;
    }
    section.finding(
      slaMissedJobs.has(job) ? 'warning' : 'info',
      `${job} spends ${fmtPercent(share)} of request time in the database`,
      evidence,
      `The database is where job ${job}'s request time goes${tops[0] ? `, led by "${tops[0].labels[dbClient.labels.querySummary] ?? '?'}"` : ''}. Make those statements cheaper (see the slow-statement and sequential-scan findings), issue fewer of them (batch, cache), and only then look at the application code.`,
      share / ANALYSIS_LIMITS.dbShare,
    );
  }
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// Connection pool: waits, pending requests, utilisation, timeouts.

export async function poolCheck(ctx: CheckContext, hostCpu: number | undefined): Promise<Section> {
  const section = new SectionBuilder('pool-wait');
  const jobs = serviceJobsMatcher(ctx.config);
  const w = ctx.window;
  const by = `job, ${P}`;
  const used = `sum by (${by}) (${dbClient.connectionCount}{${jobs}, ${dbClient.labels.state}="used"})`;
  const max = `sum by (${by}) (${dbClient.connectionMax}{${jobs}})`;
  const [maxR, waitP95, waitMean, pending, utilAvg, utilPeak, timeouts, useP95, active] = await Promise.all([
    run(ctx, `max by (${by}) (max_over_time(${dbClient.connectionMax}{${jobs}}[${w}]))`),
    run(ctx, `histogram_quantile(0.95, sum by (${by}, le) (rate(${hist(dbClient.waitTime, '_bucket')}{${jobs}}[${w}])))`),
    run(ctx, `sum by (${by}) (rate(${hist(dbClient.waitTime, '_sum')}{${jobs}}[${w}])) / sum by (${by}) (rate(${hist(dbClient.waitTime, '_count')}{${jobs}}[${w}]))`),
    run(ctx, `max by (${by}) (max_over_time(${dbClient.pendingRequests}{${jobs}}[${w}]))`),
    run(ctx, `avg_over_time((${used} / ${max})[${w}:])`),
    run(ctx, `max_over_time((${used} / ${max})[${w}:])`),
    run(ctx, `sum by (${by}) (increase(${dbClient.timeouts}{${jobs}}[${w}]))`),
    run(ctx, `histogram_quantile(0.95, sum by (${by}, le) (rate(${hist(dbClient.useTime, '_bucket')}{${jobs}}[${w}])))`),
    run(ctx, `max(max_over_time(${pgServer.activityCount}{state="active"}[${w}]))`),
  ]);
  if (maxR.samples.length === 0) {
    section.notMeasured.push(noData(maxR, 'no instrumented pool scraped'));
    return section.build();
  }
  const maxConnections = ctx.db ? (await ctx.db.settings(['max_connections'])).get('max_connections') : undefined;
  const db = ctx.config.database;
  for (const m of maxR.samples) {
    const key = keyOf(m.labels, ['job', P]);
    const pick = (r: QueryResult) => r.samples.find((s) => keyOf(s.labels, ['job', P]) === key)?.value;
    const name = `${m.labels[P] ?? '?'} (job ${m.labels.job ?? '?'})`;
    const evidence: Evidence[] = [promEvidence(maxR.query, `pool maximum ${fmtNumber(m.value)} connections`)];
    const reasons: { severity: 'critical' | 'warning'; impact: number }[] = [];
    const measure = (result: QueryResult, v: number | undefined, describe: (v: number) => string) => {
      if (v === undefined) section.notMeasured.push(noData(result, `pool ${name}`));
      else evidence.push(promEvidence(result.query, describe(v)));
      return v;
    };
    const p95 = measure(waitP95, pick(waitP95), (v) => `p95 wait ${fmtSeconds(v)} (limit ${fmtSeconds(ANALYSIS_LIMITS.poolWaitP95Seconds)})`);
    measure(waitMean, pick(waitMean), (v) => `mean wait ${fmtSeconds(v)}`);
    const pend = measure(pending, pick(pending), (v) => `peak pending requests ${fmtNumber(v)} (limit ${db.maxPendingRequests})`);
    const avg = measure(utilAvg, pick(utilAvg), (v) => `average utilisation ${fmtPercent(v)} (limit ${fmtPercent(db.poolUtilisation)})`);
    measure(utilPeak, pick(utilPeak), (v) => `peak utilisation ${fmtPercent(v)}`);
    const tmo = measure(timeouts, pick(timeouts) ?? (timeouts.samples.length === 0 && !timeouts.error ? undefined : 0), (v) => `${fmtNumber(round(v))} connection timeouts`);
    const hold = pick(useP95);
    if (hold !== undefined) evidence.push(promEvidence(useP95.query, `p95 connection hold (use) time ${fmtSeconds(hold)}`));

    if (tmo !== undefined && tmo >= 0.5) reasons.push({ severity: 'critical', impact: 10 + tmo });
    if (p95 !== undefined && p95 > ANALYSIS_LIMITS.poolWaitP95Seconds) reasons.push({ severity: 'warning', impact: p95 / ANALYSIS_LIMITS.poolWaitP95Seconds });
    if (pend !== undefined && pend > db.maxPendingRequests) reasons.push({ severity: 'warning', impact: pend / Math.max(1, db.maxPendingRequests) });
    if (avg !== undefined && avg > db.poolUtilisation) reasons.push({ severity: 'warning', impact: avg / db.poolUtilisation });
    if (reasons.length === 0) {
      section.measured.push(...evidence);
      continue;
    }
    const activeMax = active.samples[0]?.value;
    const headroom: string[] = [];
    if (hostCpu !== undefined) headroom.push(`host CPU ${fmtPercent(hostCpu)} busy (limit ${fmtPercent(ctx.config.host.cpu)})`);
    if (activeMax !== undefined) headroom.push(`at most ${fmtNumber(activeMax)} active backends${maxConnections ? ` of max_connections ${maxConnections}` : ''}`);
    if (activeMax !== undefined) evidence.push(promEvidence(active.query, `${fmtNumber(activeMax)} active backends at peak`));
    else section.notMeasured.push(noData(active, 'database activity not scraped'));
    const severity = reasons.some((r) => r.severity === 'critical') ? 'critical' : 'warning';
    section.finding(
      severity,
      name,
      evidence,
      `Raise the pool maximum from ${fmtNumber(m.value)} (${dbClient.connectionMax}) if the database has headroom (${headroom.length ? headroom.join(', ') : 'CPU and active connections not measured: check them first'}), or reduce hold time${hold !== undefined ? ` (p95 ${fmtSeconds(hold)})` : ''}: make the statements faster, keep no connection across slow non-database work, and release it before calling other services.`,
      Math.max(...reasons.map((r) => r.impact)),
    );
  }
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// Slow statements.

interface StatementSample {
  queryid: string;
  datname: string;
  seconds: number;
  calls: number;
  text?: string;
}

/** Statement texts from the exporter's info metric (only present with showQueryText). */
async function exportedTexts(ctx: CheckContext): Promise<Map<string, string>> {
  const result = await run(ctx, `max by (queryid, query) (last_over_time(${pgStatsExtraMetrics.statementQueryInfo}[${ctx.window}]))`);
  return new Map(result.samples.map((s) => [s.labels.queryid ?? '', s.labels.query ?? '']));
}

function planSummary(plan: ExplainResult | undefined): string | undefined {
  return plan?.lines.slice(0, 6).join('\n');
}

export async function statementsCheck(ctx: CheckContext): Promise<Section> {
  const section = new SectionBuilder('slow-statements');
  const w = ctx.window;
  const [seconds, calls, total, slow] = await Promise.all([
    run(ctx, `topk(10, sum by (queryid, datname) (increase(${pgServer.statementSeconds}[${w}])))`),
    run(ctx, `sum by (queryid, datname) (increase(${pgServer.statementCalls}[${w}]))`),
    run(ctx, `sum(increase(${pgServer.statementSeconds}[${w}]))`),
    run(ctx, `max by (datname) (max_over_time(${pgServer.slowStatements}[${w}]))`),
  ]);
  if (seconds.samples.length === 0) {
    section.notMeasured.push(noData(seconds, 'pg_stat_statements not scraped'));
  }
  const totalSeconds = total.samples[0]?.value ?? 0;
  const statements: StatementSample[] = seconds.samples
    .map((s) => ({
      queryid: s.labels.queryid ?? '',
      datname: s.labels.datname ?? '',
      seconds: s.value,
      calls: calls.samples.find((c) => c.labels.queryid === s.labels.queryid && c.labels.datname === s.labels.datname)?.value ?? 0,
    }))
    .filter((s) => s.seconds > 0)
    .sort((a, b) => b.seconds - a.seconds);
  const texts = ctx.db ? await ctx.db.statements(statements.map((s) => s.queryid)) : new Map<string, StatementText>();
  const exported = texts.size < statements.length ? await exportedTexts(ctx) : new Map<string, string>();
  const db = ctx.config.database;
  for (const s of statements.slice(0, 5)) {
    const text = texts.get(s.queryid)?.query ?? exported.get(s.queryid);
    const mean = s.calls >= 1 ? s.seconds / s.calls : undefined;
    const share = totalSeconds > 0 ? s.seconds / totalSeconds : 0;
    const busy = s.seconds / ctx.rangeSeconds;
    const evidence: Evidence[] = [
      promEvidence(seconds.query, `queryid ${s.queryid} (${s.datname}): ${fmtSeconds(s.seconds)} of execution over the range, ${fmtPercent(share)} of all statement time (${fmtRate(busy, ' s/s')})`),
    ];
    if (mean !== undefined) evidence.push(promEvidence(calls.query, `${fmtNumber(Math.round(s.calls))} calls → mean ${fmtSeconds(mean)} per call`));
    let severity: 'critical' | 'warning' | 'info' | undefined;
    let impact = 1;
    if (mean !== undefined && mean > db.maxQuerySeconds) [severity, impact] = ['critical', mean / db.maxQuerySeconds];
    else if (mean !== undefined && mean > db.avgQuerySeconds) [severity, impact] = ['warning', mean / db.avgQuerySeconds];
    else if (share >= ANALYSIS_LIMITS.dominantStatementShare && busy >= ANALYSIS_LIMITS.dominantStatementBusy) [severity, impact] = ['info', share / ANALYSIS_LIMITS.dominantStatementShare];
    if (!severity) {
      if (s === statements[0]) section.measured.push(...evidence);
      continue;
    }
    let plan: ExplainResult | undefined;
    if (text) {
      evidence.push({ kind: 'sql', statement: `SELECT query FROM pg_stat_statements WHERE queryid = ${s.queryid}`, result: text });
      plan = ctx.db ? await ctx.db.explain(text) : undefined;
      const summary = planSummary(plan);
      if (plan && summary) evidence.push({ kind: 'sql', statement: `EXPLAIN (FORMAT JSON) ${plan.statement}`, result: summary });
    } else {
      section.notMeasured.push({ kind: 'note', text: `text of queryid ${s.queryid}: give --database-url, or run the pg-stats exporter with showQueryText` });
    }
    const seqScan = plan?.nodes.find((n) => n.nodeType === 'Seq Scan' && n.relation);
    const advice = seqScan
      ? `Its plan reads ${seqScan.relation} with a sequential scan${seqScan.filter ? ` (Filter: ${seqScan.filter})` : ''}: give it the index its filter needs (see the sequential-scan finding).`
      : 'Read its plan with EXPLAIN (ANALYZE, BUFFERS) on a realistic parameter: cut the rows it reads (an index on the filtered columns, a tighter WHERE, LIMIT), or call it less often (cache, batch).';
    const what = severity === 'info' ? `takes ${fmtPercent(share)} of all statement time` : `averages ${fmtSeconds(mean ?? 0)} per call`;
    section.finding(severity, `queryid ${s.queryid} ${what}`, evidence, `Statement ${s.queryid}${text ? ` (${text.length > 80 ? `${text.slice(0, 77)}...` : text})` : ''} ${what}. ${advice}`, impact);
  }
  if (slow.samples.length === 0) {
    section.notMeasured.push(noData(slow));
  } else {
    const clean = slow.samples.filter((s) => s.value <= 0).map((s) => s.labels.datname ?? '?');
    if (clean.length) section.measured.push(promEvidence(slow.query, `0 statements with a mean above ${fmtSeconds(db.maxQuerySeconds)} in ${clean.join(', ')}`));
    for (const s of slow.samples.filter((s) => s.value > 0)) {
      const count = s.value;
      const evidence = promEvidence(slow.query, `${fmtNumber(count)} statements in ${s.labels.datname ?? '?'} with a mean above ${fmtSeconds(db.maxQuerySeconds)}`);
      section.finding(
        'warning',
        `${fmtNumber(count)} statements in ${s.labels.datname ?? '?'} average above ${fmtSeconds(db.maxQuerySeconds)}`,
        [evidence],
        `List them with SELECT queryid, calls, mean_exec_time, query FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 10, then EXPLAIN (ANALYZE, BUFFERS) each. (The count covers everything since the last pg_stat_statements_reset(), not only this range.)`,
        1 + count / 10,
      );
    }
  }
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// Sequential scans on big tables.

const quoteIdent = (name: string) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

export async function seqScanCheck(ctx: CheckContext): Promise<Section> {
  const section = new SectionBuilder('seq-scan');
  const w = ctx.window;
  const labels = 'datname, schemaname, relname';
  const [seq, idx] = await Promise.all([
    run(ctx, `sum by (${labels}) (increase(${pgServer.seqScan}[${w}]))`),
    run(ctx, `sum by (${labels}) (increase(${pgServer.idxScan}[${w}]))`),
  ]);
  if (seq.samples.length === 0) {
    section.notMeasured.push(noData(seq, 'pg_stat_user_tables not scraped'));
    return section.build();
  }
  const scanned = seq.samples.filter((s) => s.value >= 0.5).sort((a, b) => b.value - a.value);
  if (scanned.length === 0) {
    section.measured.push(promEvidence(seq.query, `no sequential scans on any of ${seq.samples.length} tables`));
    return section.build();
  }
  const exported = ctx.db ? new Map<string, string>() : await exportedTexts(ctx);
  const small: string[] = [];
  for (const s of scanned.slice(0, 10)) {
    const schema = s.labels.schemaname ?? 'public';
    const table = s.labels.relname ?? '?';
    const qualified = `${schema}.${table}`;
    const scans = s.value;
    const idxScans = idx.samples.find((i) => keyOf(i.labels, ['datname', 'schemaname', 'relname']) === keyOf(s.labels, ['datname', 'schemaname', 'relname']))?.value;
    const evidence: Evidence[] = [
      promEvidence(seq.query, `${qualified}: ${fmtNumber(Math.round(scans))} sequential scans (${fmtRate(scans / ctx.rangeSeconds)})`),
    ];
    if (idxScans !== undefined) evidence.push(promEvidence(idx.query, `${qualified}: ${fmtNumber(Math.round(idxScans))} index scans`));
    let info: TableInfo | undefined;
    if (ctx.db) {
      info = await ctx.db.table(schema, table);
      if (info) {
        evidence.push({
          kind: 'sql',
          statement: `SELECT pg_relation_size('${qualified}'), n_live_tup FROM pg_stat_user_tables WHERE relid = '${qualified}'::regclass`,
          result: `${fmtBytes(info.sizeBytes)}, ${fmtNumber(info.liveRows)} live rows`,
        });
      }
    }
    const big = info ? info.liveRows >= ANALYSIS_LIMITS.bigTableRows || info.sizeBytes >= ANALYSIS_LIMITS.bigTableBytes : undefined;
    if (big === false) {
      small.push(`${qualified} (${fmtNumber(Math.round(scans))} scans, ${fmtNumber(info?.liveRows ?? 0)} rows)`);
      continue;
    }
    if (big === undefined) {
      section.notMeasured.push({ kind: 'note', text: `size of ${qualified}: ${ctx.db ? 'table not found through --database-url' : 'give --database-url to read pg_relation_size and n_live_tup'}` });
      if (scans / ctx.rangeSeconds < 1) {
        section.measured.push(...evidence);
        continue;
      }
    }
    if (big && scans < ANALYSIS_LIMITS.minSeqScans) {
      section.measured.push(...evidence);
      continue;
    }

    // Which statement scans it, and on which column.
    let candidates: { query: string; calls?: number }[] = [];
    if (ctx.db) candidates = (await ctx.db.statementsOnTable(table, 5)).map((st) => ({ query: st.query, calls: st.calls }));
    else {
      const pattern = new RegExp(`\\b(FROM|JOIN)\\s+(${schema}\\.)?"?${table}"?\\b`, 'i');
      candidates = [...exported.values()].filter((q) => pattern.test(q)).map((query) => ({ query }));
    }
    let column: string | undefined;
    let statement: string | undefined;
    for (const candidate of candidates) {
      const plan = ctx.db ? await ctx.db.explain(candidate.query) : undefined;
      const scansTable = plan?.nodes.filter((n) => n.nodeType === 'Seq Scan' && n.relation === table) ?? [];
      if (plan && scansTable.length === 0) continue; // this statement uses an index on the table
      const columns = filterColumns(candidate.query, { columns: info?.columns, planFilters: scansTable.map((n) => n.filter ?? '') }).filter(
        (c) => !info?.indexedLeadingColumns.includes(c),
      );
      statement ??= candidate.query;
      evidence.push({ kind: 'sql', statement: 'statement on the table (pg_stat_statements)', result: `${candidate.query}${candidate.calls !== undefined ? `  -- ${fmtNumber(candidate.calls)} calls` : ''}` });
      const planLine = plan?.lines.find((l) => l.includes(`Seq Scan on ${table}`));
      if (planLine) evidence.push({ kind: 'sql', statement: `EXPLAIN (FORMAT JSON) ${plan!.statement}`, result: planLine.trim() });
      if (columns[0]) {
        column = columns[0];
        statement = candidate.query;
        break;
      }
    }
    const rowsPerSecond = info ? (info.liveRows * scans) / ctx.rangeSeconds : undefined;
    if (rowsPerSecond !== undefined) evidence.push({ kind: 'note', text: `≈ ${fmtNumber(Math.round(rowsPerSecond))} rows read per second by sequential scans` });
    const severity = rowsPerSecond !== undefined && rowsPerSecond >= ANALYSIS_LIMITS.criticalSeqRowsPerSecond ? 'critical' : 'warning';
    const size = info ? `${fmtNumber(info.liveRows)} rows, ${fmtBytes(info.sizeBytes)}` : 'size not measured';
    const recommendation = column
      ? `Add an index on ${table}(${column}): CREATE INDEX CONCURRENTLY ${table}_${column}_idx ON ${schema}.${quoteIdent(table)} (${quoteIdent(column)}); the statement \`${statement}\` filters on ${column} and reads the whole table (${size}) each time. Confirm with EXPLAIN afterwards that it uses an Index Scan.`
      : statement
        ? `Table ${qualified} (${size}) is read whole by \`${statement}\`: add an index matching its WHERE clause, or if it really needs most rows, cache or pre-aggregate the result.`
        : `Table ${qualified} (${size}) is read whole ${fmtNumber(Math.round(scans))} times; find the statement with SELECT query, calls FROM pg_stat_statements WHERE query ~* '\\m${table}\\M' ORDER BY total_exec_time DESC, then index the column its WHERE clause filters on.`;
    section.finding(severity, `${qualified} (${size})`, evidence, recommendation, rowsPerSecond !== undefined ? Math.max(1, rowsPerSecond / 100_000) : scans / ctx.rangeSeconds);
  }
  if (small.length) section.measured.push({ kind: 'note', text: `sequential scans on small tables (fine; an index would not help much): ${small.join(', ')}` });
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// Buffer cache.

export async function cacheCheck(ctx: CheckContext): Promise<Section> {
  const section = new SectionBuilder('cache-hit');
  const w = ctx.window;
  const [hit, read, size] = await Promise.all([
    run(ctx, `sum by (datname) (increase(${pgServer.blksHit}[${w}]))`),
    run(ctx, `sum by (datname) (increase(${pgServer.blksRead}[${w}]))`),
    run(ctx, `max by (datname) (max_over_time(${pgServer.databaseSize}[${w}]))`),
  ]);
  if (hit.samples.length === 0 || read.samples.length === 0) {
    section.notMeasured.push(noData(hit.samples.length === 0 ? hit : read, 'pg_stat_database not scraped'));
    return section.build();
  }
  const target = ctx.config.database.cacheHit;
  const settings = ctx.db ? await ctx.db.settings(['shared_buffers', 'effective_cache_size']) : undefined;
  const query = `sum by (datname) (increase(${pgServer.blksHit}[${w}])) / (sum by (datname) (increase(${pgServer.blksHit}[${w}])) + sum by (datname) (increase(${pgServer.blksRead}[${w}])))`;
  let judged = 0;
  for (const h of hit.samples) {
    const datname = h.labels.datname ?? '?';
    const r = read.samples.find((s) => s.labels.datname === datname)?.value ?? 0;
    const accesses = h.value + r;
    if (accesses < ANALYSIS_LIMITS.minBlockAccesses) continue;
    judged += 1;
    const ratio = h.value / accesses;
    const evidence: Evidence[] = [promEvidence(query, `${datname}: ${fmtPercent(ratio)} (${fmtNumber(Math.round(h.value))} hits, ${fmtNumber(Math.round(r))} reads; target ≥ ${fmtPercent(target)})`)];
    if (ratio >= target) {
      section.measured.push(...evidence);
      continue;
    }
    const dbSize = size.samples.find((s) => s.labels.datname === datname)?.value;
    if (dbSize !== undefined) evidence.push(promEvidence(size.query, `${datname}: ${fmtBytes(dbSize)}`));
    if (settings?.size) evidence.push({ kind: 'sql', statement: 'SHOW shared_buffers; SHOW effective_cache_size', result: [...settings].map(([k, v]) => `${k} = ${v}`).join(', ') });
    section.finding(
      ratio < target - 0.1 ? 'critical' : 'warning',
      `${datname} ${fmtPercent(ratio)} < ${fmtPercent(target)}`,
      evidence,
      `The working set${dbSize !== undefined ? ` (database ${fmtBytes(dbSize)})` : ''} does not fit in shared_buffers${settings?.get('shared_buffers') ? ` (${settings.get('shared_buffers')})` : ''}: raise shared_buffers (about 25 % of RAM) and effective_cache_size, or shrink the working set — indexes instead of sequential scans of big tables, archive or partition cold rows. A cold start after a restart also reads from disk: judge a range that starts warm.`,
      (1 - ratio) / Math.max(1 - target, 0.001),
    );
  }
  if (judged === 0) section.notMeasured.push({ kind: 'note', text: `fewer than ${ANALYSIS_LIMITS.minBlockAccesses} block accesses per database in the range: too little to judge (${query})` });
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// N+1: many database operations per HTTP request.

export async function nPlusOneCheck(ctx: CheckContext): Promise<Section> {
  const section = new SectionBuilder('n-plus-one');
  const jobs = serviceJobsMatcher(ctx.config);
  const w = ctx.window;
  const S = dbClient.labels.querySummary;
  const [ops, reqs, mean, top] = await Promise.all([
    run(ctx, `sum by (job) (rate(${hist(dbClient.operationDuration, '_count')}{${jobs}}[${w}]))`),
    run(ctx, `sum by (job) (rate(${hist(http.requestDuration, '_count')}{${requestMatchers(ctx.config)}}[${w}]))`),
    run(ctx, `sum by (job) (rate(${hist(dbClient.operationDuration, '_sum')}{${jobs}}[${w}])) / sum by (job) (rate(${hist(dbClient.operationDuration, '_count')}{${jobs}}[${w}]))`),
    run(ctx, `topk(3, sum by (job, ${S}) (rate(${hist(dbClient.operationDuration, '_count')}{${jobs}}[${w}])))`),
  ]);
  if (reqs.samples.length === 0 || ops.samples.length === 0) {
    section.notMeasured.push(noData(reqs.samples.length === 0 ? reqs : ops, reqs.samples.length === 0 ? 'no HTTP requests in the range' : 'no database operations'));
    return section.build();
  }
  for (const r of reqs.samples) {
    const job = r.labels.job ?? '';
    if (r.value <= 0) continue;
    const o = ops.samples.find((s) => s.labels.job === job)?.value ?? 0;
    const ratio = o / r.value;
    const m = mean.samples.find((s) => s.labels.job === job)?.value;
    const evidence: Evidence[] = [
      promEvidence(ops.query, `${fmtRate(o)} database operations (job ${job})`),
      promEvidence(reqs.query, `${fmtRate(r.value)} requests → ${fmtNumber(round(ratio))} operations/request (limit ${ANALYSIS_LIMITS.operationsPerRequest})`),
    ];
    if (ratio <= ANALYSIS_LIMITS.operationsPerRequest) {
      section.measured.push(...evidence);
      continue;
    }
    if (m !== undefined) evidence.push(promEvidence(mean.query, `mean operation ${fmtSeconds(m)}`));
    const tops = top.samples.filter((s) => s.labels.job === job).sort((a, b) => b.value - a.value);
    if (tops.length) evidence.push(promEvidence(top.query, tops.map((s) => `${s.labels[S] ?? '?'}: ${fmtNumber(round(s.value / r.value))} per request`).join(', ')));
    section.finding(
      'warning',
      `${job} runs ${fmtNumber(round(ratio))} database operations per request`,
      evidence,
      `Many ${m !== undefined && m < 0.01 ? 'fast ' : ''}statements per request${tops[0] ? `, led by "${tops[0].labels[S] ?? '?'}"` : ''}: a loop issuing one query per item. Batch or join: load the items with one statement (WHERE id = ANY($1), a JOIN, or a lateral subquery) instead of one per item; each round trip costs a pool acquisition and network latency.`,
      ratio / ANALYSIS_LIMITS.operationsPerRequest,
    );
  }
  section.measured.push({ kind: 'note', text: 'db_client_* carries no http_route label, so operations per request are per job, not per route' });
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// CPU: the host, the service process, the event loop.

export async function hostCpu(ctx: CheckContext): Promise<QueryResult> {
  return run(ctx, `1 - avg(rate(${node.cpuSeconds}{mode="idle"}[${ctx.window}]))`);
}

export async function cpuCheck(ctx: CheckContext): Promise<Section> {
  const section = new SectionBuilder('cpu');
  const jobs = serviceJobsMatcher(ctx.config);
  const w = ctx.window;
  const [byInstance, proc, lag] = await Promise.all([
    run(ctx, `1 - avg by (instance) (rate(${node.cpuSeconds}{mode="idle"}[${w}]))`),
    run(ctx, `sum by (job, instance) (rate(${nodejs.cpuSeconds}{${jobs}}[${w}]))`),
    run(ctx, `max by (job, instance) (max_over_time(${nodejs.eventLoopLagP99}{${jobs}}[${w}]))`),
  ]);
  const limit = ctx.config.host.cpu;
  if (byInstance.samples.length === 0) section.notMeasured.push(noData(byInstance, 'node_exporter not scraped'));
  for (const s of byInstance.samples) {
    const evidence = promEvidence(byInstance.query, `${s.labels.instance ?? '?'}: ${fmtPercent(s.value)} busy (limit ${fmtPercent(limit)})`);
    if (s.value <= limit) section.measured.push(evidence);
    else
      section.finding(
        s.value > 0.95 ? 'critical' : 'warning',
        `host ${s.labels.instance ?? '?'} ${fmtPercent(s.value)} busy`,
        [evidence],
        `The host is CPU-bound: every latency measured on it is suspect, and the database shares the CPU with the service and the load generator. Find the process that uses it (top, process_cpu_seconds_total per job), move the load generator to another machine, then profile or scale out the busiest one.`,
        s.value / limit,
      );
  }
  if (proc.samples.length === 0) section.notMeasured.push(noData(proc, 'no process metrics from the service jobs'));
  if (lag.samples.length === 0) section.notMeasured.push(noData(lag, 'no Node.js event-loop metrics from the service jobs'));
  const instances = new Map<string, { cpu?: number; lag?: number; labels: Record<string, string> }>();
  for (const s of proc.samples) instances.set(keyOf(s.labels, ['job', 'instance']), { cpu: s.value, labels: s.labels });
  for (const s of lag.samples) {
    const key = keyOf(s.labels, ['job', 'instance']);
    const entry = instances.get(key) ?? { labels: s.labels };
    entry.lag = s.value;
    instances.set(key, entry);
  }
  for (const { cpu, lag: l, labels } of instances.values()) {
    const name = `${labels.job ?? '?'} ${labels.instance ?? '?'}`;
    const evidence: Evidence[] = [];
    if (cpu !== undefined) evidence.push(promEvidence(proc.query, `${name}: ${fmtNumber(round(cpu))} cores (limit ${ANALYSIS_LIMITS.processCpuCores} of the one core JavaScript runs on)`));
    if (l !== undefined) evidence.push(promEvidence(lag.query, `${name}: event-loop lag p99 peaked at ${fmtSeconds(l)} (limit ${fmtSeconds(ANALYSIS_LIMITS.eventLoopLagSeconds)})`));
    const overCpu = cpu !== undefined && cpu > ANALYSIS_LIMITS.processCpuCores;
    const overLag = l !== undefined && l > ANALYSIS_LIMITS.eventLoopLagSeconds;
    if (!overCpu && !overLag) {
      section.measured.push(...evidence);
      continue;
    }
    const hostBusy = byInstance.samples.length ? Math.max(...byInstance.samples.map((s) => s.value)) : undefined;
    let recommendation: string;
    if (overCpu) {
      recommendation = `The service is CPU-bound${overLag ? ': requests queue behind JavaScript work on the event loop' : ''}. Profile it under the same load (node --cpu-prof, or clinic flame) and remove the hot spot (JSON of large bodies, synchronous crypto or compression, regular expressions); then scale out (more processes or instances behind the load balancer).`;
    } else if (hostBusy !== undefined && hostBusy > limit) {
      recommendation = `The event loop lags although the service itself uses only ${fmtNumber(round(cpu ?? 0))} cores: the host's CPU is contended (${fmtPercent(hostBusy)} busy, see the host finding). The service is starved, not CPU-bound: give it CPU of its own (move the load generator and other processes away), then measure again.`;
    } else {
      recommendation = `The event loop lags although the service uses only ${fmtNumber(round(cpu ?? 0))} cores and the host has CPU to spare: something blocks the loop in bursts (synchronous file or crypto calls, a large JSON.parse/stringify, long garbage-collection pauses — see nodejs_gc_duration_seconds). Profile with node --cpu-prof under the same load and move that work off the request path.`;
    }
    section.finding(
      overCpu && overLag ? 'critical' : 'warning',
      `service ${name}${overCpu ? '' : ' (event-loop lag)'}`,
      evidence,
      recommendation,
      Math.max(cpu !== undefined ? cpu / ANALYSIS_LIMITS.processCpuCores : 0, l !== undefined ? l / ANALYSIS_LIMITS.eventLoopLagSeconds : 0),
    );
  }
  return section.build();
}

// ---------------------------------------------------------------------------------------------
// Errors: 5xx ratio per route, database errors by error_type.

export async function errorsCheck(ctx: CheckContext): Promise<Section> {
  const section = new SectionBuilder('errors');
  const w = ctx.window;
  const sel = requestMatchers(ctx.config);
  const jobs = serviceJobsMatcher(ctx.config);
  const E = dbClient.labels.errorType;
  const [errors, totals, dbErrors, dbTotal] = await Promise.all([
    run(ctx, `sum by (job, ${H.route}) (increase(${hist(http.requestDuration, '_count')}{${sel}, ${H.statusCode}=~"5.."}[${w}]))`),
    run(ctx, `sum by (job, ${H.route}) (increase(${hist(http.requestDuration, '_count')}{${sel}}[${w}]))`),
    run(ctx, `sum by (job, ${P}, ${E}) (increase(${hist(dbClient.operationDuration, '_count')}{${jobs}, ${E}!=""}[${w}]))`),
    run(ctx, `sum by (job, ${P}) (increase(${hist(dbClient.operationDuration, '_count')}{${jobs}}[${w}]))`),
  ]);
  if (totals.samples.length === 0 || errors.error) {
    section.notMeasured.push(noData(errors.error ? errors : totals, 'no HTTP requests in the range'));
  } else {
    let clean = 0;
    const active = totals.samples.filter((s) => s.value > 0);
    for (const t of active) {
      const job = t.labels.job ?? '';
      const route = t.labels[H.route] ?? '';
      const failed = errors.samples.find((e) => e.labels.job === job && e.labels[H.route] === route)?.value ?? 0;
      const ratio = failed / t.value;
      const service = serviceOf(ctx.config, job, route);
      const limits = service?.sla.errorRate ?? ANALYSIS_LIMITS.defaultErrorRate;
      if (ratio <= limits.warning) {
        clean += 1;
        continue;
      }
      section.finding(
        ratio > limits.critical ? 'critical' : 'warning',
        `${route} ${fmtPercent(ratio)} 5xx`,
        [
          promEvidence(errors.query, `${route}: ${fmtNumber(Math.round(failed))} 5xx responses`),
          promEvidence(totals.query, `${route}: ${fmtNumber(Math.round(t.value))} requests → ${fmtPercent(ratio)} (warning ${fmtPercent(limits.warning)}, critical ${fmtPercent(limits.critical)}${service?.sla.errorRate ? `, SLA of ${service.name}` : ', no SLA: default limits'})`),
        ],
        `Route ${route} fails ${fmtPercent(ratio)} of its requests. Read the service log for the status and cause; a 503 with pool timeouts points at the connection pool finding, 500s at a bug or a database error (error_type below).`,
        ratio / limits.warning,
      );
    }
    section.measured.push(promEvidence(`${errors.query} / ${totals.query}`, `${clean} of ${active.length} routes with requests within their error-rate limit`));
  }
  if (dbTotal.samples.length === 0) {
    section.notMeasured.push(noData(dbTotal, 'no database operations'));
  } else if (dbErrors.error) {
    section.notMeasured.push(noData(dbErrors));
  } else {
    const failing = dbErrors.samples.filter((s) => s.value >= 0.5);
    if (failing.length === 0) section.measured.push(promEvidence(dbErrors.query, 'no failed database operations'));
    const byPool = new Map<string, Sample[]>();
    for (const s of failing) byPool.set(keyOf(s.labels, ['job', P]), [...(byPool.get(keyOf(s.labels, ['job', P])) ?? []), s]);
    for (const [key, list] of byPool) {
      const labels = list[0]!.labels;
      const total = dbTotal.samples.find((s) => keyOf(s.labels, ['job', P]) === key)?.value ?? 0;
      const failed = sum(list);
      const ratio = total > 0 ? failed / total : 1;
      section.finding(
        ratio > ANALYSIS_LIMITS.defaultErrorRate.critical ? 'critical' : 'warning',
        `database errors in pool ${labels[P] ?? '?'}`,
        [
          promEvidence(dbErrors.query, list.map((s) => `${s.labels[E]}: ${fmtNumber(Math.round(s.value))}`).join(', ')),
          promEvidence(dbTotal.query, `${fmtNumber(Math.round(total))} operations → ${fmtPercent(ratio)} failed`),
        ],
        `Database operations fail (${list.map((s) => s.labels[E]).join(', ')}). SQLSTATE 57014 is a statement timeout (a slow statement), 53300 too many connections (pool sizes add up past max_connections), 40P01 a deadlock, 23xxx a constraint the application should check first.`,
        ratio / ANALYSIS_LIMITS.defaultErrorRate.warning,
      );
    }
  }
  return section.build();
}
