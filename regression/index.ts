export * from './kpi.js';
export * from './publish.js';
