// Creates the HTTP series a service knows it will serve, at zero, before any request arrives.
//
// Why: Prometheus' rate()/increase() only count what happens between two samples of a series. A
// series born during a load test (the first request on a route) loses every request before its
// first scrape, so a 10-second run could show no API route at all. With the series present at
// zero from the start, the first scrape after the first request already counts it.

import { METHODS } from 'node:http';
import { http } from '../../metrics/index.js';
import { register as globalRegister, type Registry } from 'prom-client';
import { httpDurationMetric, normaliseMethod, UNMATCHED_ROUTE } from './middleware.js';

const L = http.labels;

/** A (method, route template) pair the service serves. */
export interface KnownRoute {
  method: string;
  route: string;
}

/**
 * The status codes each method answers when it succeeds, created at zero: a series of a status
 * that first appears during a run (a 201 on POST) would lose its first requests like a new route.
 * Error statuses are not created: they are rare, and a route that fails shows up in any case.
 */
export const DEFAULT_SUCCESS_STATUSES: Readonly<Record<string, readonly string[]>> = {
  GET: ['200'],
  HEAD: ['200'],
  POST: ['200', '201', '204'],
  PUT: ['200', '204'],
  PATCH: ['200', '204'],
  DELETE: ['200', '204'],
};

export interface InitialiseRoutesOptions {
  /** Value of the service label; the same as httpMetrics()' service. */
  service: string;
  /** The registry httpMetrics() records into. Default: prom-client's global register. */
  registry?: Registry;
  /** Routes to add to those read from the app (e.g. routes of routers mounted under a path). */
  routes?: KnownRoute[];
  /** Status codes per method, instead of DEFAULT_SUCCESS_STATUSES. */
  statuses?: Readonly<Record<string, readonly string[]>>;
}

interface RouterLayer {
  route?: { path?: unknown; methods?: Record<string, boolean> };
}

/** The app's router layers: express 5 keeps them on app.router.stack (express 4 on app._router). */
function routerLayers(app: unknown): RouterLayer[] {
  const holder = app as { router?: { stack?: unknown }; _router?: { stack?: unknown } };
  const stack = holder.router?.stack ?? holder._router?.stack;
  return Array.isArray(stack) ? (stack as RouterLayer[]) : [];
}

/**
 * The (method, route) pairs registered directly on an express app (app.get, app.post, app.route).
 * Routes inside routers mounted with app.use(path, router) are not listed: express 5 keeps no mount
 * path on the layer, so give those in options.routes.
 */
export function expressRoutes(app: unknown): KnownRoute[] {
  const found: KnownRoute[] = [];
  for (const layer of routerLayers(app)) {
    const path = layer.route?.path;
    if (typeof path !== 'string') continue; // regular-expression and array paths have no single template
    const methods = Object.entries(layer.route?.methods ?? {}).filter(([, enabled]) => enabled).map(([method]) => method);
    // app.all(): express 5 lists every method, express 4 sets _all; one series per method would be noise.
    if (methods.includes('_all') || methods.length >= METHODS.length) continue;
    for (const method of methods) {
      found.push({ method: normaliseMethod(method), route: path });
    }
  }
  return found;
}

/**
 * Creates http_server_request_duration_seconds at zero for every known (route, method) and its
 * success statuses, plus GET on the unmatched route. Call it after the routes are registered.
 * Returns the (method, route) pairs it created, sorted.
 */
export function initialiseRoutes(app: unknown, options: InitialiseRoutesOptions): KnownRoute[] {
  if (typeof options?.service !== 'string' || options.service.length === 0) {
    throw new Error('initialiseRoutes: options.service must be a non-empty string');
  }
  const statuses = options.statuses ?? DEFAULT_SUCCESS_STATUSES;
  const duration = httpDurationMetric(options.registry ?? globalRegister);
  const unique = new Map<string, KnownRoute>();
  for (const known of [...expressRoutes(app), ...(options.routes ?? []), { method: 'GET', route: UNMATCHED_ROUTE }]) {
    const method = normaliseMethod(known.method);
    if (typeof known.route !== 'string' || known.route.length === 0) {
      throw new Error(`initialiseRoutes: every route needs a non-empty route template, got ${JSON.stringify(known)}`);
    }
    unique.set(`${method} ${known.route}`, { method, route: known.route });
  }
  const routes = [...unique.values()].sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method));
  for (const { method, route } of routes) {
    for (const status of statuses[method] ?? ['200']) {
      // zero() creates the labelled child (every bucket, _sum and _count) without observing anything.
      duration.zero({ [L.service]: options.service, [L.method]: method, [L.route]: route, [L.statusCode]: status });
    }
  }
  return routes;
}
