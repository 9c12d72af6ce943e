export * from './kpi.js';
