// Collector "locks": pg_locks_count{datname, mode}, the locks held or awaited per database and
// mode, as postgres_exporter reports them: the mode in lower case ("accesssharelock"), every mode
// present with 0, every database of pg_database listed. Locks that belong to no database
// (transaction ids, virtual transaction ids) are not counted.

import { pgServer } from '../../metrics/index.js';
import { family, type MetricFamily } from './exposition.js';
import type { Collector } from './collector.js';

/** Lock modes of PostgreSQL, lower-cased as postgres_exporter labels them. */
export const LOCK_MODES = [
  'accessexclusivelock',
  'accesssharelock',
  'exclusivelock',
  'rowexclusivelock',
  'rowsharelock',
  'sharelock',
  'sharerowexclusivelock',
  'shareupdateexclusivelock',
  'sireadlock',
] as const;

interface LockRow {
  datname: string;
  mode: string | null;
  count: number;
}

const SQL = `
SELECT d.datname, lower(l.mode) AS mode, count(l.mode)::int AS count
  FROM pg_database d
  LEFT JOIN pg_locks l ON l.database = d.oid
 GROUP BY d.datname, lower(l.mode)
 ORDER BY d.datname`;

export const locksCollector: Collector = {
  name: 'locks',
  async collect({ query }): Promise<MetricFamily[]> {
    const rows = await query<LockRow>(SQL);
    const byDatabase = new Map<string, Map<string, number>>();
    for (const row of rows) {
      let modes = byDatabase.get(row.datname);
      if (!modes) {
        modes = new Map(LOCK_MODES.map((m) => [m, 0]));
        byDatabase.set(row.datname, modes);
      }
      if (row.mode !== null) modes.set(row.mode, (modes.get(row.mode) ?? 0) + row.count);
    }
    const count = family(pgServer.locksCount, 'gauge', 'Number of locks held or awaited per database and lock mode.');
    for (const [datname, modes] of byDatabase) {
      for (const [mode, n] of modes) count.samples.push({ labels: { datname, mode }, value: n });
    }
    return [count];
  },
};
