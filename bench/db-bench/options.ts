// Options of `perfstack db-bench`: one zod schema, and a parser whose errors name the CLI flag.

import { z } from 'zod';

/** Every operation db-bench knows, in the order it runs them. */
export const DB_BENCH_OPERATIONS = [
  'insert',
  'select',
  'update',
  'delete',
  'batch-insert',
  'copy',
  'connect-pool',
  'connect-new',
  'tx-commit',
  'tx-rollback',
  'search-index',
  'search-noindex',
] as const;
export type DbBenchOperation = (typeof DB_BENCH_OPERATIONS)[number];

/** The single-row CRUD operations: the ones compared with the avgQuerySeconds KPI. */
export const SINGLE_ROW_OPERATIONS: readonly DbBenchOperation[] = ['insert', 'select', 'update', 'delete'];

export const DB_BENCH_OPERATION_DESCRIPTIONS: Record<DbBenchOperation, string> = {
  insert: 'INSERT one row (pool.query)',
  select: 'SELECT one row by primary key',
  update: 'UPDATE one row by primary key',
  delete: 'DELETE one row by primary key',
  'batch-insert': 'one multi-row INSERT … VALUES of batch-size rows',
  copy: 'COPY … FROM STDIN of batch-size rows (pg-copy-streams)',
  'connect-pool': 'pool.connect() + release on a warm pool of its own',
  'connect-new': 'open a new physical connection (pg.Client.connect)',
  'tx-commit': 'BEGIN; INSERT one row; COMMIT',
  'tx-rollback': 'BEGIN; INSERT one row; ROLLBACK',
  'search-index': "ILIKE '%term%' search using the pg_trgm GIN index",
  'search-noindex': 'the same search with enable_bitmapscan/enable_indexscan off (sequential scan)',
};

/** The CLI flag of each option, used in error messages and by the CLI wiring. */
export const DB_BENCH_FLAGS = {
  url: '--url',
  iterations: '--iterations',
  concurrency: '--concurrency',
  warmup: '--warmup',
  datasetSize: '--dataset-size',
  batchSize: '--batch-size',
  output: '--output',
  operations: '--operations',
} as const;
export type DbBenchOptionName = keyof typeof DB_BENCH_FLAGS;

/** Help text per flag, for the CLI wiring. */
export const DB_BENCH_FLAG_HELP: Record<DbBenchOptionName, string> = {
  url: 'PostgreSQL connection URL, postgres://user:password@host:port/database (required)',
  iterations: 'measured iterations per operation (default 1000)',
  concurrency: 'operations in flight at once, and the pool size (default 4)',
  warmup: 'unmeasured iterations per operation before measuring (default 50)',
  datasetSize: 'rows in the search table (default 50000)',
  batchSize: 'rows per batch-insert and per copy (default 100)',
  output: 'write the JSON report to this file (atomically)',
  operations: `comma-separated operations to run (default all): ${DB_BENCH_OPERATIONS.join(', ')}`,
};

export const DB_BENCH_DEFAULTS = {
  iterations: 1000,
  concurrency: 4,
  warmup: 50,
  datasetSize: 50_000,
  batchSize: 100,
} as const;

/** Accepts numbers, or the strings a CLI parser hands over ("200"). */
const wholeNumber = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : value),
    z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );

const operationList = z.preprocess(
  (value) => {
    if (value === undefined) return undefined;
    const items = Array.isArray(value) ? value : typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items)) return items;
    return items.flatMap((item) => (typeof item === 'string' ? item.split(',') : [item])).map((item) => (typeof item === 'string' ? item.trim() : item)).filter((item) => item !== '');
  },
  z
    .array(z.string())
    .min(1, 'must name at least one operation')
    .transform((names, ctx) => {
      if (names.length === 1 && names[0] === 'all') return [...DB_BENCH_OPERATIONS];
      for (const name of names) {
        if (!(DB_BENCH_OPERATIONS as readonly string[]).includes(name)) {
          ctx.addIssue({ code: 'custom', message: `unknown operation "${name}" (known: ${DB_BENCH_OPERATIONS.join(', ')}, or all)` });
          return z.NEVER;
        }
      }
      // Run in the canonical order (delete needs the rows select and update read), without duplicates.
      return DB_BENCH_OPERATIONS.filter((op) => names.includes(op));
    }),
);

export const dbBenchOptionsSchema = z
  .object({
    url: z
      .string({ error: 'is required: a PostgreSQL URL such as postgres://user@127.0.0.1:5432/db' })
      .refine((value) => {
        try {
          return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, 'must be a postgres:// or postgresql:// URL'),
    iterations: wholeNumber(1, 10_000_000).default(DB_BENCH_DEFAULTS.iterations),
    concurrency: wholeNumber(1, 256).default(DB_BENCH_DEFAULTS.concurrency),
    warmup: wholeNumber(0, 1_000_000).default(DB_BENCH_DEFAULTS.warmup),
    datasetSize: wholeNumber(1, 50_000_000).default(DB_BENCH_DEFAULTS.datasetSize),
    // 2 parameters per row; PostgreSQL allows 65535 bind parameters per statement.
    batchSize: wholeNumber(1, 10_000).default(DB_BENCH_DEFAULTS.batchSize),
    output: z.string().min(1, 'must be a file path').optional(),
    operations: operationList.default([...DB_BENCH_OPERATIONS]),
  })
  .strict();

/** What a caller (or the CLI) passes: numbers may be strings, operations a comma list. */
export type DbBenchOptionsInput = z.input<typeof dbBenchOptionsSchema>;
/** Validated options with defaults filled in. */
export type DbBenchOptions = z.output<typeof dbBenchOptionsSchema>;

export class DbBenchOptionError extends Error {
  constructor(
    /** The CLI flag at fault, e.g. "--iterations". */
    readonly flag: string,
    readonly problem: string,
  ) {
    super(`${flag}: ${problem}`);
    this.name = 'DbBenchOptionError';
  }
}

const camelToFlag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Validates raw options; throws DbBenchOptionError naming the first bad flag. */
export function parseDbBenchOptions(raw: unknown): DbBenchOptions {
  const result = dbBenchOptionsSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new DbBenchOptionError('(options)', 'invalid');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '?';
    throw new DbBenchOptionError(camelToFlag(key), `unknown option (known: ${Object.values(DB_BENCH_FLAGS).join(', ')})`);
  }
  const key = issue.path[0];
  const flag = typeof key === 'string' && key in DB_BENCH_FLAGS ? DB_BENCH_FLAGS[key as DbBenchOptionName] : '(options)';
  let message = issue.message;
  if (issue.code === 'invalid_type' && issue.input === undefined && key === 'url') message = 'is required: a PostgreSQL URL such as postgres://user@127.0.0.1:5432/db';
  const input = typeof key === 'string' && raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
  const shown = input === undefined || key === 'url' ? '' : `, got ${JSON.stringify(input)}`;
  throw new DbBenchOptionError(flag, `${message}${shown}`);
}
