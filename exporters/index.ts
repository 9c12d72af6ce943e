// Exporters: pg-pool instrumentation and the express HTTP middleware.
// pg-stats is the standalone server-side exporter (perfstack exporter pg).
export * from './pg-pool/index.js';
export * from './http/index.js';
export * from './pg-stats/index.js';
