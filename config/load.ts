import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { configSchema, type PerfstackConfig, type PerfstackConfigInput } from './schema.js';

/** Typed identity: gives editor completion and type errors in perfstack.config.ts. */
export function defineConfig(config: PerfstackConfigInput): PerfstackConfigInput {
  return config;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${source}: invalid config\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Formats a zod issue path as the user would write it: slos[0].service */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '') || '(root)';
}

/** Validates a raw config object; throws ConfigError naming every bad field. */
export function parseConfig(raw: unknown, source = 'config'): PerfstackConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  return result.data;
}

export const DEFAULT_CONFIG_FILE = 'perfstack.config.ts';

/** Imports a config module (its default export) and validates it. */
export async function loadConfig(file = DEFAULT_CONFIG_FILE): Promise<PerfstackConfig> {
  const absolute = resolve(file);
  if (!existsSync(absolute)) {
    throw new ConfigError(file, [{ path: '(file)', message: `no such file: ${absolute}` }]);
  }
  const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  if (module.default === undefined) {
    throw new ConfigError(file, [{ path: '(file)', message: 'has no default export; write `export default defineConfig({...})`' }]);
  }
  return parseConfig(module.default, file);
}
