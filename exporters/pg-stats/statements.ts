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
  /** 'top' rows carry a statement, 'slow' rows the slow count of one database. */
  kind: 'top' | 'slow';
  queryid: string | null;
  datname: string;
  username: string | null;
  calls: string | number | null;
  total_ms: string | number | null;
  rows: string | number | null;
  query: string | null;
  slow: number | null;
}

// One pass over pg_stat_statements (the function materialises every entry, so it is the
// expensive part with thousands of statements): group, then take the top N and the slow counts
// from the same result. $1 = N, $2 = the slow limit in milliseconds.
function statementsSql(showText: boolean): string {
  return `
WITH grouped AS MATERIALIZED (
  SELECT s.queryid, s.dbid, s.userid,
         sum(s.calls) AS calls, sum(s.total_exec_time) AS total_ms, sum(s.rows) AS rows,
         ${showText ? 'min(s.query)' : 'NULL::text'} AS query
    FROM pg_stat_statements(${showText ? 'true' : 'false'}) s
   WHERE s.queryid IS NOT NULL
   GROUP BY s.queryid, s.dbid, s.userid
), top AS (
  SELECT * FROM grouped ORDER BY total_ms DESC, queryid LIMIT $1
)
SELECT 'top' AS kind, t.queryid::text AS queryid,
       coalesce(d.datname, t.dbid::text) AS datname,
       coalesce(r.rolname, t.userid::text) AS username,
       t.calls, t.total_ms, t.rows, t.query, NULL::int AS slow
  FROM top t
  LEFT JOIN pg_database d ON d.oid = t.dbid
  LEFT JOIN pg_roles r ON r.oid = t.userid
UNION ALL
SELECT 'slow', NULL, d.datname, NULL, NULL, NULL, NULL, NULL,
       (SELECT count(*) FROM grouped g WHERE g.dbid = d.oid AND g.calls > 0 AND g.total_ms / g.calls > $2)::int
  FROM pg_database d`;
}

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
    const result = await query<StatementRow>(statementsSql(settings.showQueryText), [settings.topStatements, settings.slowStatementSeconds * 1000]);
    const top = result.filter((row) => row.kind === 'top').sort((a, b) => toNumber(b.total_ms) - toNumber(a.total_ms));
    const slow = result.filter((row) => row.kind === 'slow').sort((a, b) => (a.datname < b.datname ? -1 : a.datname > b.datname ? 1 : 0));

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
