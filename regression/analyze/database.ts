// Direct evidence from PostgreSQL (optional: only with a database URL): statement texts from
// pg_stat_statements, EXPLAIN plans, table sizes, columns and indexes, and a few settings.
// Everything is read-only: EXPLAIN without ANALYZE never runs the statement, and it is only
// attempted for SELECT statements, inside a transaction that is rolled back.

import pg from 'pg';

export interface StatementText {
  queryid: string;
  query: string;
  calls: number;
  totalSeconds: number;
}

export interface TableInfo {
  schema: string;
  table: string;
  sizeBytes: number;
  liveRows: number;
  seqTupRead: number;
  columns: string[];
  /** Leading column of every index on the table. */
  indexedLeadingColumns: string[];
}

export interface PlanNode {
  nodeType: string;
  relation?: string;
  schema?: string;
  filter?: string;
  indexCond?: string;
  planRows?: number;
  totalCost?: number;
}

export interface ExplainResult {
  /** The statement as explained. */
  statement: string;
  /** One line per plan node, indented by depth, as EXPLAIN's text format would show the essentials. */
  lines: string[];
  nodes: PlanNode[];
}

export interface DatabaseEvidence {
  statements(queryids: string[]): Promise<Map<string, StatementText>>;
  /** Statements of pg_stat_statements that name the table, most total time first. */
  statementsOnTable(table: string, limit?: number): Promise<StatementText[]>;
  table(schema: string, table: string): Promise<TableInfo | undefined>;
  /** EXPLAIN (FORMAT JSON) of a SELECT; parameters ($1 …) are planned generically. Undefined when it cannot be planned. */
  explain(statement: string): Promise<ExplainResult | undefined>;
  settings(names: string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

export async function connectDatabase(databaseUrl: string): Promise<DatabaseEvidence> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'perfstack-analyze',
    statement_timeout: 10_000,
    connectionTimeoutMillis: 5_000,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(`cannot connect to the database for direct evidence: ${(error as Error).message}`);
  }
  client.on('error', () => undefined);

  // One connection: run one piece of evidence at a time (EXPLAIN uses a transaction).
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const statementRows = async (where: string, values: unknown[], limit: number): Promise<StatementText[]> => {
    const { rows } = await client.query<{ queryid: string; query: string; calls: string; total_ms: number }>(
      `SELECT queryid::text AS queryid, min(query) AS query, sum(calls) AS calls, sum(total_exec_time) AS total_ms
         FROM pg_stat_statements
        WHERE ${where}
        GROUP BY queryid
        ORDER BY sum(total_exec_time) DESC
        LIMIT ${limit}`,
      values,
    );
    return rows.map((r) => ({ queryid: r.queryid, query: r.query, calls: toNumber(r.calls), totalSeconds: toNumber(r.total_ms) / 1000 }));
  };

  return {
    statements: (queryids) => serial(async () => {
      const ids = queryids.filter((id) => /^-?\d+$/.test(id));
      if (ids.length === 0) return new Map();
      const rows = await statementRows('queryid = ANY($1::bigint[])', [ids], ids.length);
      return new Map(rows.map((r) => [r.queryid, r]));
    }),
    statementsOnTable: (table, limit = 10) => serial(async () => {
      // \m \M: word boundaries, so "big" does not match "bigint".
      const pattern = `\\m${table.replace(/[^A-Za-z0-9_]/g, '')}\\M`;
      return statementRows(`query ~* $1 AND query !~* '^\\s*(EXPLAIN|PREPARE|CREATE|ALTER|DROP|COPY|ANALYZE|VACUUM)'`, [pattern], limit);
    }),
    table: (schema, table) => serial(async () => {
      const { rows } = await client.query<{ size: string; live: string; seq_tup_read: string; columns: string[]; indexed: string[] }>(
        `SELECT pg_relation_size(c.oid) AS size,
                coalesce(s.n_live_tup, greatest(c.reltuples, 0))::bigint AS live,
                coalesce(s.seq_tup_read, 0) AS seq_tup_read,
                ARRAY(SELECT a.attname::text FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
                ARRAY(SELECT a.attname::text FROM pg_index i
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                       WHERE i.indrelid = c.oid) AS indexed
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, table],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        schema,
        table,
        sizeBytes: toNumber(row.size),
        liveRows: toNumber(row.live),
        seqTupRead: toNumber(row.seq_tup_read),
        columns: row.columns,
        indexedLeadingColumns: row.indexed,
      };
    }),
    explain: (statement) => serial(async () => {
      const text = statement.trim().replace(/;\s*$/, '');
      if (!/^(SELECT|WITH)\b/i.test(text) || /\b(INSERT|UPDATE|DELETE|MERGE)\b/i.test(text) || text.includes(';')) return undefined;
      const params = [...text.matchAll(/\$(\d+)/g)].reduce((max, m) => Math.max(max, Number(m[1])), 0);
      try {
        await client.query('BEGIN READ ONLY');
        await client.query("SET LOCAL statement_timeout = '5s'");
        let plan: unknown;
        if (params === 0) {
          plan = (await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`)).rows[0]?.['QUERY PLAN'];
        } else {
          // PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN): prepare the statement and explain a generic
          // plan with NULL parameters (a generic plan does not look at parameter values).
          await client.query("SET LOCAL plan_cache_mode = 'force_generic_plan'");
          await client.query(`PREPARE perfstack_analyze_stmt AS ${text}`);
          const nulls = Array.from({ length: params }, () => 'NULL').join(', ');
          plan = (await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE perfstack_analyze_stmt(${nulls})`)).rows[0]?.['QUERY PLAN'];
        }
        const root = (Array.isArray(plan) ? (plan[0] as { Plan?: unknown } | undefined)?.Plan : undefined) as RawPlan | undefined;
        if (!root) return undefined;
        const nodes: PlanNode[] = [];
        const lines: string[] = [];
        walkPlan(root, 0, nodes, lines);
        return { statement: text, lines, nodes };
      } catch {
        return undefined;
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.query('DEALLOCATE ALL').catch(() => undefined);
      }
    }),
    settings: (names) => serial(async () => {
      const { rows } = await client.query<{ name: string; setting: string }>(
        `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[])`,
        [names],
      );
      return new Map(rows.map((r) => [r.name, r.setting]));
    }),
    close: () => serial(async () => {
      await client.end().catch(() => undefined);
    }),
  };
}

interface RawPlan {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Alias?: string;
  Filter?: string;
  'Index Cond'?: string;
  'Index Name'?: string;
  'Plan Rows'?: number;
  'Total Cost'?: number;
  Plans?: RawPlan[];
}

function walkPlan(node: RawPlan, depth: number, nodes: PlanNode[], lines: string[]): void {
  const entry: PlanNode = { nodeType: node['Node Type'] };
  if (node['Relation Name'] !== undefined) entry.relation = node['Relation Name'];
  if (node.Schema !== undefined) entry.schema = node.Schema;
  if (node.Filter !== undefined) entry.filter = node.Filter;
  if (node['Index Cond'] !== undefined) entry.indexCond = node['Index Cond'];
  if (node['Plan Rows'] !== undefined) entry.planRows = node['Plan Rows'];
  if (node['Total Cost'] !== undefined) entry.totalCost = node['Total Cost'];
  nodes.push(entry);
  let line = `${'  '.repeat(depth)}${node['Node Type']}`;
  if (node['Index Name']) line += ` using ${node['Index Name']}`;
  if (node['Relation Name']) line += ` on ${node['Relation Name']}`;
  if (node.Alias && node.Alias !== node['Relation Name']) line += ` ${node.Alias}`;
  const extras: string[] = [];
  if (node['Total Cost'] !== undefined) extras.push(`cost=${node['Total Cost']}`);
  if (node['Plan Rows'] !== undefined) extras.push(`rows=${node['Plan Rows']}`);
  if (extras.length) line += ` (${extras.join(' ')})`;
  if (node['Index Cond']) line += ` Index Cond: ${node['Index Cond']}`;
  if (node.Filter) line += ` Filter: ${node.Filter}`;
  lines.push(line);
  for (const child of node.Plans ?? []) walkPlan(child, depth + 1, nodes, lines);
}

const SQL_KEYWORDS = new Set([
  'and', 'or', 'not', 'null', 'true', 'false', 'is', 'in', 'like', 'ilike', 'between', 'any', 'all', 'exists', 'select', 'from',
  'where', 'limit', 'offset', 'order', 'group', 'by', 'having', 'case', 'when', 'then', 'else', 'end', 'lower', 'upper', 'coalesce',
]);

/**
 * Columns a statement filters on, best index candidates first (equality before ranges), from its
 * WHERE clause ("k = $1", "t.k IN (…)", "k BETWEEN …") and, when given, a plan's Filter
 * ("(k = $1)"). `columns` restricts the answer to the table's columns.
 */
export function filterColumns(statement: string, options: { columns?: string[]; planFilters?: string[] } = {}): string[] {
  const known = options.columns ? new Set(options.columns.map((c) => c.toLowerCase())) : undefined;
  const equality: string[] = [];
  const other: string[] = [];
  const add = (list: string[], column: string) => {
    const name = column.replace(/"/g, '').toLowerCase();
    if (SQL_KEYWORDS.has(name) || /^\d/.test(name)) return;
    if (known && !known.has(name)) return;
    if (!equality.includes(name) && !other.includes(name)) list.push(name);
  };
  const comparison = /(?:[A-Za-z_][\w$]*\.)?("?[A-Za-z_][\w$]*"?)\s*(=|<>|!=|<=|>=|<|>|\bIN\b|\bLIKE\b|\bILIKE\b|\bBETWEEN\b|\bIS\b|~~\*?|~)/gi;
  const scan = (text: string) => {
    for (const match of text.matchAll(comparison)) {
      const operator = (match[2] ?? '').toUpperCase();
      add(operator === '=' || operator === 'IN' || operator === 'IS' ? equality : other, match[1] ?? '');
    }
  };
  for (const filter of options.planFilters ?? []) scan(filter);
  for (const where of whereClauses(statement)) scan(where);
  return [...equality, ...other];
}

/** The WHERE clauses of a statement, each cut at ORDER BY / GROUP BY / LIMIT / RETURNING / a closing parenthesis level. */
export function whereClauses(statement: string): string[] {
  const clauses: string[] = [];
  const upper = statement.toUpperCase();
  let index = upper.indexOf('WHERE');
  while (index !== -1) {
    let rest = statement.slice(index + 5);
    const end = rest.search(/\b(ORDER\s+BY|GROUP\s+BY|LIMIT|OFFSET|RETURNING|UNION|HAVING|WINDOW|FOR\s+UPDATE)\b/i);
    if (end !== -1) rest = rest.slice(0, end);
    clauses.push(rest);
    index = upper.indexOf('WHERE', index + 5);
  }
  return clauses;
}
