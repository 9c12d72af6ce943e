// Collector "user_tables": pg_stat_user_tables of the database the exporter is connected to
// (the view only covers the current database, as in postgres_exporter's example query).
// - pg_stat_user_tables_seq_scan / _idx_scan{datname, schemaname, relname}: counters, no _total
//   suffix, as postgres_exporter names them; idx_scan is 0 for a table without indexes.
// - pg_stat_user_tables_index_usage_ratio: idx_scan / (idx_scan + seq_scan) since the statistics
//   reset, per table {datname, schemaname, relname} and overall for the database {datname}
//   (select the overall value with relname=""). Absent while a table (or the database) has had
//   no scans.

import { pgServer } from '../../metrics/index.js';
import { family, type MetricFamily } from './exposition.js';
import { ratio, toNumber, type Collector } from './collector.js';

interface TableRow {
  datname: string;
  schemaname: string;
  relname: string;
  seq_scan: string | null;
  idx_scan: string | null;
}

const SQL = `
SELECT current_database() AS datname, schemaname, relname, seq_scan, idx_scan
  FROM pg_stat_user_tables
 ORDER BY schemaname, relname`;

export const userTablesCollector: Collector = {
  name: 'user_tables',
  async collect({ query }): Promise<MetricFamily[]> {
    const rows = await query<TableRow>(SQL);
    const seq = family(pgServer.seqScan, 'counter', 'Number of sequential scans initiated on this table.');
    const idx = family(pgServer.idxScan, 'counter', 'Number of index scans initiated on this table.');
    const usage = family(
      pgServer.indexUsageRatio,
      'gauge',
      'Index scans as a share of all scans since the statistics reset: idx_scan / (idx_scan + seq_scan); per table, and per database without schemaname and relname.',
    );
    const totals = new Map<string, { idx: number; seq: number }>();
    for (const row of rows) {
      const labels = { datname: row.datname, schemaname: row.schemaname, relname: row.relname };
      const s = toNumber(row.seq_scan);
      const i = toNumber(row.idx_scan);
      seq.samples.push({ labels, value: s });
      idx.samples.push({ labels, value: i });
      const r = ratio(i, s);
      if (r !== undefined) usage.samples.push({ labels, value: r });
      const total = totals.get(row.datname) ?? { idx: 0, seq: 0 };
      total.idx += i;
      total.seq += s;
      totals.set(row.datname, total);
    }
    for (const [datname, total] of totals) {
      const r = ratio(total.idx, total.seq);
      if (r !== undefined) usage.samples.push({ labels: { datname }, value: r });
    }
    return [seq, idx, usage];
  },
};
