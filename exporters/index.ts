// Exporters: pg-pool instrumentation and the express HTTP middleware.
// (pg-stats, the standalone server-side exporter, lives in its own folder.)
export * from './pg-pool/index.js';
export * from './http/index.js';
