// Keyset pagination of entity lists: the cursor is opaque to clients (base64url of JSON
// [created_at in microseconds since the epoch, id] of the last row of a page) and the next page is
// `WHERE (created_at, id) > (cursor)`: one index range scan, however deep the page, where
// OFFSET reads and throws away every row before it. created_at is kept to the microsecond, as
// PostgreSQL stores it, so no row is skipped or repeated at a page boundary.

import { ValidationError } from './http.js';

export interface KeysetCursor {
  /** created_at as whole microseconds since 1970-01-01 UTC (a decimal string: it exceeds 2^53 in nanoseconds, not here, but stays exact). */
  createdMicros: string;
  /** The row's id (bigint as a decimal string). */
  id: string;
}

const WHOLE = /^-?[0-9]{1,18}$/;
const ID = /^[1-9][0-9]{0,17}$/;

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdMicros, cursor.id]), 'utf8').toString('base64url');
}

/** The cursor a client sent back, or a 400 naming `field` when it is not one this service issued. */
export function decodeCursor(raw: string, field = 'after'): KeysetCursor {
  const invalid = (why: string) => new ValidationError([{ field, message: `is not a valid cursor (${why}); pass the "next" value of the previous page unchanged` }]);
  if (raw.length === 0 || raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid('expected base64url text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not an encoded cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string' || !WHOLE.test(parsed[0]) || !ID.test(parsed[1])) {
    throw invalid('unexpected content');
  }
  return { createdMicros: parsed[0], id: parsed[1] };
}
