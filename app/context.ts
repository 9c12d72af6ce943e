// What the route modules share: the pool, the fault handler, the KPI config and the log.

import type { RequestHandler } from 'express';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { PerfstackConfig } from '../config/index.js';
import type { FaultController } from './fault.js';

export interface AppContext {
  pool: pg.Pool;
  registry: Registry;
  config: PerfstackConfig;
  fault: FaultController;
  /** The fault handler, attached as the first handler of every API route. */
  faulty: RequestHandler;
  adminToken: string | undefined;
  log: (line: string) => void;
}

/** Largest JSON request body. */
export const JSON_LIMIT_BYTES = 100 * 1024;

/** Largest uploaded file; beyond it the upload answers 413. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** Most rows one POST /api/entities/bulk may insert. */
export const MAX_BULK_ROWS = 1000;

/** Most candidates one POST /api/resolve may resolve. */
export const MAX_RESOLVE_CANDIDATES = 100;

/** How long a session token stays valid. */
export const SESSION_TTL_SECONDS = 3600;
