export { freePort, startProcess } from './process.js';
export type { RunningProcess, StartOptions } from './process.js';
export { prometheusConfig, composeTargets, generatePrometheusConfig, INFRASTRUCTURE_JOBS } from './prometheus-config.js';
export type { StackTargets } from './prometheus-config.js';
export { generateGrafanaProvisioning } from './grafana-provisioning.js';
export { runTool } from './tools.js';
export type { ToolResult } from './tools.js';
export { bootstrapTools, missingTools, TOOL_GROUPS } from './bootstrap.js';
export type { ToolGroup } from './bootstrap.js';
