// Collector "statements": the top N entries of pg_stat_statements by total execution time, and
// the number of slow statements.
//
// - pg_stat_statements_{calls,seconds,rows}_total{queryid, datname, user}: counters, as
//   postgres_exporter's stat_statements collector names them. Entries that differ only in
//   `toplevel` (PostgreSQL 14+, pg_stat_statements.track = all) are summed so each
//   (queryid, datname, user) is one series.
// - pg_stat_statements_slow_statements{datname}: how many statements (same grouping, over all of
//   pg_stat_statements, not just the top N) have a MEAN execution time (total_exec_time / calls)
//   above slowStatementSeconds. Mean, not max: one slow outlier since the last reset does not keep
//   a statement flagged forever, and it matches the "Slow statements" panel of the database dashboard.
// - pg_stat_statements_query_info{queryid, datname, user, query} 1: only with showQueryText.
//   The text is pg_stat_statements' normalised text (constants become $1, $2 ...), with whitespace
//   collapsed, quoted literals that normalisation leaves in place (utility statements such as
//   SET or ALTER ROLE ... PASSWORD are not normalised on PostgreSQL 15) replaced by '?', and
//   truncated to queryTextMaxLength characters.
//
// The extension must exist in the database the exporter connects to; if it does not, this
// collector fails (pg_exporter_collector_success{collector="statements"} 0) and the others carry on.

import { pgServer } from '../../metrics/index.js';
import { family, type MetricFamily } from './exposition.js';
import { toNumber, type Collector } from './collector.js';

/** Names this exporter adds that are not (yet) in metrics/index.ts. */
export const pgStatsExtraMetrics = {
  /** Info metric carrying the statement text, present only with showQueryText. */
  statementQueryInfo: 'pg_stat_statements_query_info',
} as const;

interface StatementRow {
  /** NULL on the per-database rows, which carry `slow` and `nested` instead of a statement. */
  queryid: string | null;
  datname: string;
  username: string | null;
  calls: number | null;
  total_ms: number | null;
  rows: number | null;
  query: string | null;
  slow: number | null;
  /** Entries (or groups holding entries) with toplevel = false, over all of pg_stat_statements. */
  nested: number | null;
}

// One pass over pg_stat_statements (the function materialises every entry, so reading it is the
// expensive part with thousands of statements); the top N and the per-database counts come from the
// same materialised result. $1 = N, $2 = the slow limit in milliseconds.
//
// Grouping by (queryid, dbid, userid) costs about as much again as reading the entries, and is
// only needed when an entry has a toplevel = false twin (pg_stat_statements.track = all, which a
// superuser may set for one session or role, so the exporter's own setting says nothing). So the
// plain form runs by default and reports how many such entries exist; when there are any, the
// collector runs the grouped form instead (and keeps to it while they last). Sums are float8:
// numeric aggregation is several times slower and a counter above 2^53 is not a concern.
//
// signed_calls carries calls and toplevel in one column: calls for a top-level entry (or a group
// of them), -1 - calls for one with toplevel = false. Every materialised column costs about 0.4 ms
// per 5,000 entries (measured with bench/pg-stats-scrape.ts), as much as the whole slow count, and
// this keeps the statements query at or below the plain top-N query's cost.
export function statementsSql(showText: boolean, grouped: boolean): string {
  const source = `pg_stat_statements(${showText ? 'true' : 'false'})`;
  // Only the columns needed are materialised; the text, when shown, and the casts are added for the top N alone.
  const entries = grouped
    ? `SELECT queryid, dbid, userid,
              CASE WHEN bool_and(toplevel) THEN sum(calls::float8) ELSE -1 - sum(calls::float8) END AS signed_calls,
              sum(total_exec_time) AS total_ms, sum(rows::float8) AS rows${showText ? ', min(query) AS query' : ''}
         FROM ${source} WHERE queryid IS NOT NULL
        GROUP BY queryid, dbid, userid`
    : `SELECT queryid, dbid, userid, CASE WHEN toplevel THEN calls ELSE -1 - calls END AS signed_calls,
              total_exec_time AS total_ms, rows${showText ? ', query' : ''}
         FROM ${source} WHERE queryid IS NOT NULL`;
  return `
WITH s AS MATERIALIZED (
  ${entries}
), top AS (
  SELECT * FROM s ORDER BY total_ms DESC, queryid LIMIT $1
), per_db AS (
  -- Only slow and nested entries reach the aggregate: hashing every entry would cost more than the filter.
  SELECT dbid,
         count(*) FILTER (WHERE signed_calls > 0 AND total_ms > $2::float8 * signed_calls
                             OR signed_calls < -1 AND total_ms > $2::float8 * (-1 - signed_calls)) AS slow,
         count(*) FILTER (WHERE signed_calls < 0) AS nested
    FROM s
   WHERE signed_calls < 0 OR signed_calls > 0 AND total_ms > $2::float8 * signed_calls
   GROUP BY dbid
)
SELECT t.queryid::text AS queryid,
       coalesce(d.datname, t.dbid::text) AS datname,
       coalesce(r.rolname, t.userid::text) AS username,
       (CASE WHEN t.signed_calls < 0 THEN -1 - t.signed_calls ELSE t.signed_calls END)::float8 AS calls,
       t.total_ms, t.rows::float8 AS rows, ${showText ? 't.query' : 'NULL::text AS query'}, NULL::int AS slow, NULL::int AS nested
  FROM top t
  LEFT JOIN pg_database d ON d.oid = t.dbid
  LEFT JOIN pg_roles r ON r.oid = t.userid
UNION ALL
SELECT NULL, d.datname, NULL, NULL, NULL, NULL, NULL, coalesce(p.slow, 0)::int,
       (SELECT coalesce(sum(nested), 0) FROM per_db)::int
  FROM pg_database d
  LEFT JOIN per_db p ON p.dbid = d.oid`;
}

/** Whether a scraper (keyed by its settings object) last saw toplevel = false entries. */
const needsGrouping = new WeakMap<object, boolean>();

/** Collapses whitespace, masks quoted literals and cuts to maxLength characters (code points). */
export function sanitiseQueryText(text: string, maxLength: number): string {
  const masked = text
    .replace(/'(?:[^']|'')*'?/g, "'?'")
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g, "'?'")
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(masked);
  return chars.length > maxLength ? chars.slice(0, maxLength).join('') : masked;
}

export const statementsCollector: Collector = {
  name: 'statements',
  async collect({ query, settings }): Promise<MetricFamily[]> {
    const values = [settings.topStatements, settings.slowStatementSeconds * 1000];
    let grouped = needsGrouping.get(settings) ?? false;
    let result = await query<StatementRow>(statementsSql(settings.showQueryText, grouped), values);
    const nested = result.find((row) => row.queryid === null)?.nested ?? 0;
    if (!grouped && nested > 0) {
      // Two entries may share a series: this result cannot be used, the grouped one can.
      grouped = true;
      result = await query<StatementRow>(statementsSql(settings.showQueryText, grouped), values);
    }
    needsGrouping.set(settings, nested > 0);

    const top: StatementRow[] = [];
    const slow: StatementRow[] = [];
    for (const row of result) (row.queryid === null ? slow : top).push(row);
    // Already in this order from the database unless the planner reorders the joins; then this restores it.
    top.sort((a, b) => toNumber(b.total_ms) - toNumber(a.total_ms));
    slow.sort((a, b) => (a.datname < b.datname ? -1 : a.datname > b.datname ? 1 : 0));

    const calls = family(pgServer.statementCalls, 'counter', 'Number of times the statement was executed (pg_stat_statements.calls).');
    const seconds = family(pgServer.statementSeconds, 'counter', 'Total time spent executing the statement, in seconds (pg_stat_statements.total_exec_time / 1000).');
    const rows = family(pgServer.statementRows, 'counter', 'Total number of rows retrieved or affected by the statement (pg_stat_statements.rows).');
    const info = family(pgStatsExtraMetrics.statementQueryInfo, 'gauge', 'Normalised, truncated text of a statement exported by pg_stat_statements_*_total; always 1.');
    for (const row of top) {
      // One labels object for the three counters: the renderer formats it once.
      const labels = { queryid: row.queryid ?? '', datname: row.datname, user: row.username ?? '' };
      calls.samples.push({ labels, value: toNumber(row.calls) });
      seconds.samples.push({ labels, value: toNumber(row.total_ms) / 1000 });
      rows.samples.push({ labels, value: toNumber(row.rows) });
      if (settings.showQueryText && typeof row.query === 'string') {
        info.samples.push({ labels: { ...labels, query: sanitiseQueryText(row.query, settings.queryTextMaxLength) }, value: 1 });
      }
    }
    const slowFamily = family(
      pgServer.slowStatements,
      'gauge',
      `Statements in pg_stat_statements whose mean execution time is above ${settings.slowStatementSeconds} s.`,
      slow.map((row) => ({ labels: { datname: row.datname }, value: toNumber(row.slow) })),
    );
    return [calls, seconds, rows, info, slowFamily];
  },
};
