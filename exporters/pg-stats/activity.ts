// Collector "activity": pg_stat_activity.
// - pg_stat_activity_count{datname, state}: backends per database and state; every state
//   postgres_exporter knows is present (0 when none), for every database in pg_database.
//   Backends without a database (background workers) are not counted. The exporter's own
//   connections count too, as in postgres_exporter.
// - pg_stat_activity_max_tx_duration_seconds{datname}: age of the oldest open transaction of a
//   client backend, 0 when none.
// - pg_stat_activity_max_query_duration_seconds{datname}: how long the longest-running active
//   statement of a client backend has been running, 0 when none.
// The exporter's own backend (the one running this query) is left out of both ages.

import { pgServer } from '../../metrics/index.js';
import { family, type MetricFamily } from './exposition.js';
import { toNumber, type Collector } from './collector.js';

/** The states postgres_exporter always reports (pg_stat_activity.state). */
export const ACTIVITY_STATES = [
  'active',
  'disabled',
  'fastpath function call',
  'idle',
  'idle in transaction',
  'idle in transaction (aborted)',
] as const;

interface ActivityRow {
  datname: string;
  state: string | null;
  count: number;
  max_tx_seconds: number | string | null;
  max_query_seconds: number | string | null;
}

// One row per (database, state) plus one per database with state NULL carrying the two ages.
const SQL = `
WITH a AS (
  SELECT datid, state, backend_type, pid, xact_start, query_start, clock_timestamp() AS now
    FROM pg_stat_activity
)
SELECT d.datname, a.state, count(*)::int AS count, NULL::float8 AS max_tx_seconds, NULL::float8 AS max_query_seconds
  FROM a JOIN pg_database d ON d.oid = a.datid
 WHERE a.state IS NOT NULL
 GROUP BY d.datname, a.state
UNION ALL
SELECT d.datname, NULL, 0,
       coalesce(max(greatest(extract(epoch FROM a.now - a.xact_start), 0))
                FILTER (WHERE a.xact_start IS NOT NULL), 0)::float8,
       coalesce(max(greatest(extract(epoch FROM a.now - a.query_start), 0))
                FILTER (WHERE a.state = 'active' AND a.query_start IS NOT NULL), 0)::float8
  FROM pg_database d
  LEFT JOIN a ON a.datid = d.oid AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
 GROUP BY d.datname`;

export const activityCollector: Collector = {
  name: 'activity',
  async collect({ query }): Promise<MetricFamily[]> {
    const rows = await query<ActivityRow>(SQL);
    const counts = new Map<string, Map<string, number>>();
    const txAge = family(pgServer.longestTransactionSeconds, 'gauge', 'Age of the oldest open transaction of a client backend, in seconds (0 when none).');
    const queryAge = family(pgServer.longestQuerySeconds, 'gauge', 'Run time so far of the longest-running active statement of a client backend, in seconds (0 when none).');
    for (const row of rows) {
      let states = counts.get(row.datname);
      if (!states) {
        states = new Map(ACTIVITY_STATES.map((s) => [s, 0]));
        counts.set(row.datname, states);
      }
      if (row.state === null) {
        txAge.samples.push({ labels: { datname: row.datname }, value: toNumber(row.max_tx_seconds) });
        queryAge.samples.push({ labels: { datname: row.datname }, value: toNumber(row.max_query_seconds) });
      } else {
        states.set(row.state, (states.get(row.state) ?? 0) + row.count);
      }
    }
    const count = family(pgServer.activityCount, 'gauge', 'Number of server backends per database in this state.');
    for (const [datname, states] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const [state, n] of states) count.samples.push({ labels: { datname, state }, value: n });
    }
    const byName = (a: { labels?: Readonly<Record<string, string>> }, b: { labels?: Readonly<Record<string, string>> }) =>
      (a.labels?.datname ?? '') < (b.labels?.datname ?? '') ? -1 : 1;
    txAge.samples.sort(byName);
    queryAge.samples.sort(byName);
    return [count, txAge, queryAge];
  },
};
