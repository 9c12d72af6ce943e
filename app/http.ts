// Request validation and error responses. Every error body is JSON {error, field?, issues?};
// none carries a stack trace, SQL text or a connection parameter.

import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { describeDatabaseError, isConnectionError } from './database.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** Thrown by parse(): a 400 naming the first bad field, listing all of them. */
export class ValidationError extends HttpError {
  constructor(readonly issues: FieldIssue[]) {
    const first = issues[0] ?? { field: 'body', message: 'invalid' };
    super(400, `${first.field}: ${first.message}`, first.field);
    this.name = 'ValidationError';
  }
}

function issueField(issue: z.core.$ZodIssue, root: string): string {
  const path = issue.path.map(String);
  // An unknown key in a strict object: name the key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0] as string);
  return path.length > 0 ? path.join('.') : root;
}

/** Validates input against a zod schema; throws a ValidationError (400) naming the field. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, root = 'body'): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.map((issue) => ({ field: issueField(issue, root), message: issue.message })));
}

/** Path ids are positive bigint values, handed to SQL as strings. */
const ID_PATTERN = /^[1-9][0-9]{0,17}$/;
export function parseId(req: Request, name = 'id'): string {
  const raw = req.params[name];
  if (typeof raw !== 'string' || !ID_PATTERN.test(raw)) {
    throw new ValidationError([{ field: name, message: 'must be a positive whole number' }]);
  }
  return raw;
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not found' });
};

/** Errors of body-parser carry a status and a type; the messages are safe but we use our own. */
interface BodyParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof ValidationError) {
      res.status(400).json({ error: error.message, field: error.field, issues: error.issues });
      return;
    }
    if (error instanceof HttpError) {
      res.set(error.headers).status(error.status).json(error.field ? { error: error.message, field: error.field } : { error: error.message });
      return;
    }
    const bodyError = error as BodyParserError;
    const status = bodyError?.status ?? bodyError?.statusCode;
    if (typeof bodyError?.type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
      const messages: Record<string, string> = {
        'entity.too.large': 'request body is too large',
        'entity.parse.failed': 'request body is not valid JSON',
        'encoding.unsupported': 'unsupported content encoding',
        'charset.unsupported': 'unsupported charset',
        'request.aborted': 'request aborted',
        'request.size.invalid': 'request size did not match content length',
      };
      res.status(status).json({ error: messages[bodyError.type] ?? 'bad request', field: 'body' });
      return;
    }
    if (error instanceof URIError) {
      res.status(400).json({ error: 'path: malformed percent-encoding', field: 'path' });
      return;
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad request' });
      return;
    }
    if (isConnectionError(error)) {
      res.set('Retry-After', '1').status(503).json({ error: 'database unavailable' });
      return;
    }
    const code = (error as { code?: unknown })?.code;
    if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) {
      // data exception or integrity violation: the input was acceptable JSON but not storable
      res.status(400).json({ error: 'a value in the request cannot be stored', field: 'body' });
      return;
    }
    if (code === '57014') {
      // statement_timeout
      res.status(503).json({ error: 'database timeout' });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    log(`error: ${req.method} ${req.route ? String((req.route as { path?: unknown }).path) : 'unmatched'}: ${describeDatabaseError(error)}: ${message}`);
    res.status(500).json({ error: 'internal error' });
  };
}
