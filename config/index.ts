export { defineConfig, parseConfig, loadConfig, ConfigError, DEFAULT_CONFIG_FILE } from './load.js';
export { configSchema, SEVERITIES } from './schema.js';
export type { PerfstackConfig, PerfstackConfigInput, ServiceConfig, SloConfig, TeamConfig, Severity, RegressionConfig, CacheConfig, FrontendConfig } from './schema.js';
export { renderYaml, renderJson, GENERATED_HEADER } from './generated.js';
export type { GeneratedFile } from './generated.js';
export { generateConfigurationReference } from './reference.js';
