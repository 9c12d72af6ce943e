export * from './kpi.js';
export * from './publish.js';
export * from './store/index.js';
export * from './report/index.js';
export * from './analyze/index.js';
