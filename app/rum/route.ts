// POST /rum: the page's Web Vitals beacons. 204 when recorded; 400 with {error, field} naming what
// was wrong (content type, size, JSON, a field) — every refusal is a 400, since a beacon's sender
// never reads the answer and one status keeps the contract simple. The body is read raw (never
// inflated, at most RUM_BODY_LIMIT_BYTES) and parsed here, so no parser error escapes the route.

import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { FrontendConfig } from '../../config/index.js';
import { rum } from '../../metrics/index.js';
import { RUM_BODY_LIMIT_BYTES, readBeacon, type RejectReason } from './beacon.js';
import { measurePages } from './javascript.js';
import { createRumMetrics, type RumMetrics } from './metrics.js';

/** Where the page posts its beacons. */
export const RUM_PATH = '/rum';

/** Media types a beacon may have: JSON, or text/plain (what sendBeacon gives a string body). */
const ACCEPTED_TYPES = ['application/json', 'text/plain'];

export interface RumRouteOptions {
  registry: Registry;
  frontend: FrontendConfig;
  /** The folder the service serves its pages from; their JavaScript is measured at start. */
  publicDir: string;
  log: (line: string) => void;
}

function refuse(res: express.Response, metrics: RumMetrics, reason: RejectReason, field: string, message: string): void {
  metrics.reject(reason);
  res.status(400).json({ error: message, field });
}

/** Mounts POST /rum and publishes the pages' JavaScript size. */
export function rumRoutes(app: Express, options: RumRouteOptions): RumMetrics {
  const metrics = createRumMetrics(options.registry, options.frontend);
  const pages = new Set(options.frontend.pages);
  for (const measured of measurePages(options.publicDir)) {
    if (!pages.has(measured.page)) options.log(`rum: ${measured.file} reports as page "${measured.page}", which frontend.pages does not list: its beacons count as "${rum.otherPage}"`);
    metrics.setJavascriptBytes(measured.page, measured.bytes);
  }

  const contentType: RequestHandler = (req, res, next) => {
    if (req.is(ACCEPTED_TYPES)) return next();
    refuse(res, metrics, 'content_type', 'content-type', `content-type: must be ${ACCEPTED_TYPES.join(' or ')}, got ${JSON.stringify((req.get('content-type') ?? 'none').slice(0, 60))}`);
  };
  const body = express.raw({ type: () => true, limit: RUM_BODY_LIMIT_BYTES, inflate: false });
  const record: RequestHandler = (req, res) => {
    const raw: unknown = req.body;
    if (!Buffer.isBuffer(raw) || raw.length === 0) return refuse(res, metrics, 'not_json', 'body', 'body: must be a JSON beacon, got an empty body');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(res, metrics, 'not_json', 'body', 'body: is not valid JSON');
    }
    const beacon = readBeacon(parsed, pages, rum.otherPage);
    if (!beacon.ok) return refuse(res, metrics, beacon.reason, beacon.field, beacon.message);
    metrics.observe(beacon.page, beacon.samples);
    res.status(204).end();
  };
  // Errors of the body reader (too large, compressed, aborted) end here, not in the app's handler.
  const bodyErrors: ErrorRequestHandler = (error: { type?: unknown }, _req, res, _next) => {
    if (res.headersSent) return void res.destroy();
    if (error?.type === 'entity.too.large') return refuse(res, metrics, 'too_large', 'body', `body: must be at most ${RUM_BODY_LIMIT_BYTES} bytes`);
    if (error?.type === 'encoding.unsupported') return refuse(res, metrics, 'content_type', 'content-encoding', 'content-encoding: must be identity (a compressed beacon is refused)');
    refuse(res, metrics, 'invalid', 'body', 'body: could not be read');
  };
  app.post(RUM_PATH, contentType, body, record, bodyErrors);
  return metrics;
}
