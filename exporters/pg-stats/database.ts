// Collector "database": pg_stat_database counters per database, the on-disk size of each
// database and the derived buffer cache hit ratio. Names and types follow postgres_exporter
// (its pg_stat_database_* counters carry no _total suffix).
// The shared-catalog row of pg_stat_database (datid 0, datname NULL) is left out.

import { pgServer } from '../../metrics/index.js';
import { family, type MetricFamily } from './exposition.js';
import { ratio, toNumber, type Collector } from './collector.js';

interface DatabaseRow {
  datname: string;
  xact_commit: string | null;
  xact_rollback: string | null;
  blks_hit: string | null;
  blks_read: string | null;
  deadlocks: string | null;
  temp_bytes: string | null;
  size_bytes: string | null;
}

// pg_database_size needs CONNECT on the database (or pg_read_all_stats); skip those we may not see.
const SQL = `
SELECT s.datname, s.xact_commit, s.xact_rollback, s.blks_hit, s.blks_read, s.deadlocks, s.temp_bytes,
       CASE WHEN has_database_privilege(s.datid, 'CONNECT') THEN pg_database_size(s.datid) END AS size_bytes
  FROM pg_stat_database s
 WHERE s.datname IS NOT NULL
 ORDER BY s.datname`;

const COUNTERS = [
  [pgServer.xactCommit, 'xact_commit', 'Number of transactions in this database that have been committed.'],
  [pgServer.xactRollback, 'xact_rollback', 'Number of transactions in this database that have been rolled back.'],
  [pgServer.blksHit, 'blks_hit', 'Number of times disk blocks were found already in the buffer cache, so that a read was not necessary.'],
  [pgServer.blksRead, 'blks_read', 'Number of disk blocks read in this database.'],
  [pgServer.deadlocks, 'deadlocks', 'Number of deadlocks detected in this database.'],
  [pgServer.tempBytes, 'temp_bytes', 'Total amount of data written to temporary files by queries in this database, in bytes.'],
] as const;

export const databaseCollector: Collector = {
  name: 'database',
  async collect({ query }): Promise<MetricFamily[]> {
    const rows = await query<DatabaseRow>(SQL);
    const counters = COUNTERS.map(([name, column, help]) => {
      const f = family(name, 'counter', help);
      for (const row of rows) f.samples.push({ labels: { datname: row.datname }, value: toNumber(row[column]) });
      return f;
    });
    const size = family(pgServer.databaseSize, 'gauge', 'Disk space used by the database, in bytes.');
    const cacheHit = family(
      pgServer.cacheHitRatio,
      'gauge',
      'Buffer cache hit ratio since the statistics reset: blks_hit / (blks_hit + blks_read). Absent while a database has read no blocks.',
    );
    for (const row of rows) {
      if (row.size_bytes !== null) size.samples.push({ labels: { datname: row.datname }, value: toNumber(row.size_bytes) });
      const hit = ratio(toNumber(row.blks_hit), toNumber(row.blks_read));
      if (hit !== undefined) cacheHit.samples.push({ labels: { datname: row.datname }, value: hit });
    }
    return [...counters, size, cacheHit];
  },
};
