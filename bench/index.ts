// Benchmarks: `perfstack db-bench` (db-bench/) and the shared statistics helpers.
export * from './db-bench/index.js';
export { median, quantileSorted, summariseLatencies } from './stats.js';
export type { LatencySummary } from './stats.js';
