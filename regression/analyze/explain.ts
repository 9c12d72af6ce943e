// `perfstack analyze --explain`: EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECT statements in
// pg_stat_statements. ANALYZE runs the statement, so every safeguard applies at once:
//   - a connection whose every transaction is read-only (default_transaction_read_only), and each
//     statement inside BEGIN READ ONLY … ROLLBACK, so even a SELECT calling a writing function fails;
//   - only plain SELECT statements (one statement, no FOR UPDATE/SHARE, no data-modifying WITH);
//   - SET LOCAL statement_timeout, so a slow statement is cancelled, not waited for.
// pg_stat_statements replaces constants with $1, $2 …: such a statement cannot be run as it is. It
// gets a generic plan without ANALYZE instead (EXPLAIN (GENERIC_PLAN) on PostgreSQL 16+; on 15 a
// prepared statement planned with plan_cache_mode = force_generic_plan), marked as not executed.

import pg from 'pg';

export type ExplainMode = 'analyze' | 'generic-plan' | 'skipped';

export interface ExplainCapture {
  queryid: string;
  query: string;
  calls: number;
  meanSeconds: number;
  totalSeconds: number;
  mode: ExplainMode;
  /** EXPLAIN's text output (analyze, generic-plan). */
  plan?: string;
  /** Why there is no plan, or what kind of plan it is. */
  note: string;
}

export interface CaptureExplainsOptions {
  /** SELECT statements to explain, slowest mean time first. Default 5. */
  limit?: number;
  /** statement_timeout of each EXPLAIN. Default 5000 ms. */
  statementTimeoutMs?: number;
}

/** Why a statement is not a plain SELECT, or undefined when it is one. */
export function notPlainSelect(statement: string): string | undefined {
  const text = statement.trim().replace(/;\s*$/, '');
  if (!/^SELECT\b/i.test(text)) return 'not a SELECT';
  if (text.includes(';')) return 'more than one statement';
  if (/\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE|KEY\s+SHARE)\b/i.test(text)) return 'locks rows (FOR UPDATE/SHARE)';
  if (/\b(INSERT|UPDATE|DELETE|MERGE)\b/i.test(text)) return 'names a write (INSERT/UPDATE/DELETE/MERGE)';
  if (/\bINTO\b/i.test(text)) return 'SELECT INTO creates a table';
  return undefined;
}

const hasParameters = (text: string) => /\$\d+/.test(text);

export async function captureExplains(databaseUrl: string, options: CaptureExplainsOptions = {}): Promise<ExplainCapture[]> {
  const limit = options.limit ?? 5;
  const timeoutMs = options.statementTimeoutMs ?? 5000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw new Error(`--explain: limit must be 1..50, got ${limit}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`--explain: statement timeout must be a positive whole number of ms, got ${timeoutMs}`);
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'perfstack-analyze-explain',
    connectionTimeoutMillis: 5000,
    // Every transaction on this connection is read-only, whatever is sent on it.
    options: '-c default_transaction_read_only=on',
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(`--explain: cannot connect to the database: ${(error as Error).message}`);
  }
  client.on('error', () => undefined);
  try {
    const version = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v ?? 0);
    const { rows } = await client.query<{ queryid: string; query: string; calls: string; mean_ms: number; total_ms: number }>(
      `SELECT queryid::text AS queryid, min(query) AS query, sum(calls) AS calls,
              sum(total_exec_time) / greatest(sum(calls), 1) AS mean_ms, sum(total_exec_time) AS total_ms
         FROM pg_stat_statements
        WHERE query ~* '^\\s*select\\M' AND query !~* 'pg_stat_statements'
        GROUP BY queryid
        ORDER BY 4 DESC
        LIMIT $1`,
      [limit],
    );
    const captures: ExplainCapture[] = [];
    for (const row of rows) {
      const base = { queryid: row.queryid, query: row.query, calls: Number(row.calls), meanSeconds: Number(row.mean_ms) / 1000, totalSeconds: Number(row.total_ms) / 1000 };
      const why = notPlainSelect(row.query);
      if (why) {
        captures.push({ ...base, mode: 'skipped', note: `skipped: ${why}; only plain SELECTs are explained` });
        continue;
      }
      const text = row.query.trim().replace(/;\s*$/, '');
      try {
        await client.query('BEGIN READ ONLY');
        await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
        let plan: string;
        let mode: ExplainMode;
        let note: string;
        if (!hasParameters(text)) {
          plan = await explainText(client, `EXPLAIN (ANALYZE, BUFFERS) ${text}`);
          mode = 'analyze';
          note = `EXPLAIN (ANALYZE, BUFFERS), read-only, statement_timeout ${timeoutMs} ms`;
        } else if (version >= 160_000) {
          plan = await explainText(client, `EXPLAIN (GENERIC_PLAN) ${text}`);
          mode = 'generic-plan';
          note = 'EXPLAIN (GENERIC_PLAN): pg_stat_statements keeps no parameter values, so the statement was planned, not run';
        } else {
          // PostgreSQL 15 has no GENERIC_PLAN: plan a prepared statement generically; EXPLAIN without ANALYZE does not run it.
          await client.query("SET LOCAL plan_cache_mode = 'force_generic_plan'");
          await client.query(`PREPARE perfstack_explain_stmt AS ${text}`);
          const nulls = Array.from({ length: Math.max(...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]))) }, () => 'NULL').join(', ');
          plan = await explainText(client, `EXPLAIN EXECUTE perfstack_explain_stmt(${nulls})`);
          mode = 'generic-plan';
          note = 'generic plan (PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN): a prepared statement with plan_cache_mode = force_generic_plan); pg_stat_statements keeps no parameter values, so the statement was planned, not run';
        }
        captures.push({ ...base, mode, plan, note });
      } catch (error) {
        const pgError = error as { code?: string; message: string };
        const reason =
          pgError.code === '57014'
            ? `cancelled by statement_timeout after ${timeoutMs} ms`
            : pgError.code === '25006'
              ? `refused by the read-only transaction (the statement would write): ${pgError.message}`
              : pgError.message;
        captures.push({ ...base, mode: 'skipped', note: `skipped: ${reason}` });
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.query('DEALLOCATE ALL').catch(() => undefined);
      }
    }
    return captures;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function explainText(client: pg.Client, statement: string): Promise<string> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(statement);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}
