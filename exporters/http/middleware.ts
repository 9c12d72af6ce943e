// Express RED middleware: http_server_request_duration_seconds and http_server_active_requests,
// labelled with the route template (never the raw path), per the metric contract.

import type { Request, RequestHandler, Response } from 'express';
import { Gauge, Histogram, register as globalRegister, type Registry } from 'prom-client';
import { HTTP_DURATION_BUCKETS, http } from '../../metrics/index.js';

/** http_route of requests that no route matched (404s, static files, plain middleware). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Methods kept as they are; any other becomes _OTHER (OTel http.request.method). */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY',
]);

export interface HttpMetricsOptions {
  /** Value of the service label. */
  service: string;
  /** Where the metrics are registered. Default: prom-client's global register. */
  registry?: Registry;
}

interface HttpMetrics {
  duration: Histogram<string>;
  active: Gauge<string>;
}

const perRegistry = new WeakMap<Registry, HttpMetrics>();
const L = http.labels;

function sharedMetrics(registry: Registry): HttpMetrics {
  const existing = perRegistry.get(registry);
  if (existing) return existing;
  const metrics: HttpMetrics = {
    duration: new Histogram({
      name: http.requestDuration,
      help: 'Duration of HTTP server requests, in seconds.',
      labelNames: [L.service, L.method, L.route, L.statusCode],
      buckets: [...HTTP_DURATION_BUCKETS],
      registers: [registry],
    }),
    active: new Gauge({
      name: http.activeRequests,
      help: 'HTTP server requests in flight.',
      labelNames: [L.service],
      registers: [registry],
    }),
  };
  perRegistry.set(registry, metrics);
  return metrics;
}

/** The request-duration histogram of a registry (created on first use), for initialiseRoutes(). */
export function httpDurationMetric(registry: Registry): Histogram<string> {
  return sharedMetrics(registry).duration;
}

/** OTel's http.request.method: a known method upper-case, anything else _OTHER. */
export function normaliseMethod(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_HTTP_METHODS.has(upper) ? upper : '_OTHER';
}

function routePath(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return path.toString();
  if (Array.isArray(path)) return path.map((p) => routePath(p) ?? '').join('|');
  return undefined;
}

/** Joins a mount path and a route path: "/api" + "/entities/:id" → "/api/entities/:id". */
export function joinRoute(baseUrl: string, path: string): string {
  if (!baseUrl) return path || '/';
  if (path === '/' || path === '') return baseUrl;
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

const ROUTE_SEEN = Symbol('perfstack.http.route');

interface Tracked {
  [ROUTE_SEEN]?: string;
}

/**
 * Notes the route template at the moment express sets req.route, together with the baseUrl of the
 * router that matched it (express restores baseUrl when a request leaves a router, e.g. on its way
 * to an app-level error handler, so reading both later can lose the mount path).
 */
function watchRoute(req: Request): void {
  const tracked = req as Request & Tracked;
  let value: unknown = (req as { route?: unknown }).route;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set(next: unknown) {
      value = next;
      const path = routePath((next as { path?: unknown } | undefined)?.path);
      if (path !== undefined) tracked[ROUTE_SEEN] = joinRoute(req.baseUrl ?? '', path);
    },
  });
}

/** Express middleware recording RED metrics for every request; mount it before the routes. */
export function httpMetrics(options: HttpMetricsOptions): RequestHandler {
  if (typeof options?.service !== 'string' || options.service.length === 0) {
    throw new Error('httpMetrics: options.service must be a non-empty string');
  }
  const { service } = options;
  const metrics = sharedMetrics(options.registry ?? globalRegister);

  return function httpMetricsMiddleware(req: Request, res: Response, next) {
    const start = process.hrtime.bigint();
    let finished = false;
    metrics.active.inc({ [L.service]: service });
    try {
      watchRoute(req);
    } catch {
      // a frozen request object: fall back to reading req.route at the end
    }

    const done = () => {
      if (finished) return;
      finished = true;
      res.off('finish', done);
      res.off('close', done);
      metrics.active.dec({ [L.service]: service });
      const seen = (req as Request & Tracked)[ROUTE_SEEN];
      const route = seen ?? (req.route ? joinRoute(req.baseUrl ?? '', routePath(req.route.path) ?? '') : UNMATCHED_ROUTE);
      metrics.duration.observe(
        {
          [L.service]: service,
          [L.method]: normaliseMethod(req.method),
          [L.route]: route,
          [L.statusCode]: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}

/** Express handler serving a registry in the Prometheus text format, for GET /metrics. */
export function metricsHandler(registry: Registry = globalRegister): RequestHandler {
  return async function serveMetrics(_req: Request, res: Response) {
    try {
      const body = await registry.metrics();
      res.setHeader('Content-Type', registry.contentType);
      res.end(body);
    } catch (error) {
      res.status(500).type('text/plain').end(`could not collect metrics: ${(error as Error).message}\n`);
    }
  };
}
