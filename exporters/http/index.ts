// HTTP exporter: express RED middleware and a /metrics handler.
export {
  KNOWN_HTTP_METHODS,
  UNMATCHED_ROUTE,
  httpMetrics,
  joinRoute,
  metricsHandler,
  normaliseMethod,
} from './middleware.js';
export type { HttpMetricsOptions } from './middleware.js';
export { DEFAULT_SUCCESS_STATUSES, expressRoutes, initialiseRoutes } from './initialise.js';
export type { InitialiseRoutesOptions, KnownRoute } from './initialise.js';
