// Database helpers shared by the service, the migrations and the seeding: the pool, named queries,
// COPY text encoding, and the rule that tells "the database is unreachable" (503) from a bug (500).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { POOL_TIMEOUT_MESSAGES, QUERY_SUMMARY, withQuerySummary } from '../exporters/index.js';

/** db_client_connection_pool_name of the service's pool. */
export const POOL_NAME = 'perfstack-app';

/** How long a request waits for a connection before the service answers 503. */
export const CONNECTION_TIMEOUT_MS = 1000;

/** Server-side limit for any one statement of the API. */
export const STATEMENT_TIMEOUT_MS = 10_000;

export interface PoolSettings {
  max?: number;
  log?: (line: string) => void;
}

/** A pool for the service: short connection timeout, statement timeout, idle errors handled. */
export function createPool(databaseUrl: string, settings: PoolSettings = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: settings.max ?? 10,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    idleTimeoutMillis: 10_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // Client-side backstop for a server that stops answering without closing the connection.
    query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
    application_name: 'perfstack-app',
    keepAlive: true,
  });
  let lastLogged = 0;
  // An idle client whose server goes away emits 'error' on the pool; unhandled, it would crash the
  // process. The pool drops that client by itself; log at most once a second.
  pool.on('error', (error) => {
    const now = Date.now();
    if (now - lastLogged < 1000) return;
    lastLogged = now;
    settings.log?.(`database: idle connection lost (${describeDatabaseError(error)})`);
  });
  return pool;
}

/** A query config tagged with a bounded db_query_summary (never the SQL text). */
export function sql(summary: string, text: string, values?: unknown[]): pg.QueryConfig {
  return withQuerySummary(summary, text, values);
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
  '53300', // too_many_connections
]);

const CONNECTION_MESSAGES = [
  ...POOL_TIMEOUT_MESSAGES,
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'Query read timeout',
];

/** Whether an error means the database cannot be reached (as opposed to a bad statement). */
export function isConnectionError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.startsWith(m))) return true;
  // AggregateError (several addresses refused) carries the codes of its parts.
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every(isConnectionError);
}

/**
 * A short description for logs: the error code or class, never the message (which may quote
 * SQL, values or connection parameters).
 */
export function describeDatabaseError(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
    if (isConnectionError(error)) return 'connection error';
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string') return name;
  }
  return 'unknown error';
}

/** Runs fn inside BEGIN … COMMIT on one client (ROLLBACK on error; a broken client is discarded). */
export async function transaction<T>(pool: pg.Pool, prefix: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(sql(`${prefix}.begin`, 'BEGIN'));
    const result = await fn(client);
    await client.query(sql(`${prefix}.commit`, 'COMMIT'));
    return result;
  } catch (error) {
    try {
      await client.query(sql(`${prefix}.rollback`, 'ROLLBACK'));
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    if (isConnectionError(error)) broken ??= error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Encodes one value for COPY … FROM STDIN in the text format (tab-separated, \N for NULL). */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  let out = '';
  let last = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let escaped: string | undefined;
    if (c === 92) escaped = '\\\\';
    else if (c === 9) escaped = '\\t';
    else if (c === 10) escaped = '\\n';
    else if (c === 13) escaped = '\\r';
    if (escaped !== undefined) {
      out += value.slice(last, i) + escaped;
      last = i + 1;
    }
  }
  return last === 0 ? value : out + value.slice(last);
}

/** One COPY text-format line (with its newline). */
export function copyLine(fields: (string | null)[]): string {
  return fields.map(copyField).join('\t') + '\n';
}

/**
 * Streams text-format COPY data into `statement` (COPY … FROM STDIN) on one client, with
 * backpressure; resolves with the row count once the server has accepted the data.
 */
export async function copyIn(client: pg.PoolClient, summary: string, statement: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<number> {
  const stream = copyStreams.from(statement);
  Object.defineProperty(stream, QUERY_SUMMARY, { value: summary, enumerable: false });
  client.query(stream);
  await pipeline(Readable.from(chunks, { objectMode: false }), stream);
  return stream.rowCount;
}
