// inspectScript(): what a script would run, without running it (like `k6 inspect`): the script is
// loaded and checked, its options consolidated and its thresholds parsed; no load is sent.

import { LoadgenError, EXIT_CODES } from './errors.js';
import { moduleObjects } from './k6/modules.js';
import { MetricRegistry } from './metrics/registry.js';
import { consolidateOptions, type ConsolidatedOptions, type ShortcutOverrides } from './options.js';
import { DEFAULT_SYSTEM_TAGS, RunContext, setActiveRun } from './runtime/context.js';
import { loadScript } from './script/load.js';
import { ThresholdError, parseThresholds, type ThresholdSet } from './thresholds/index.js';

export interface ScriptInspection {
  options: ConsolidatedOptions;
  thresholds: ThresholdSet;
  /** Exported functions (default, setup, teardown, handleSummary and named exec functions). */
  functions: string[];
}

export async function inspectScript(path: string, options: { env?: Record<string, string>; overrides?: ShortcutOverrides } = {}): Promise<ScriptInspection> {
  const env = { ...(process.env as Record<string, string>), ...options.env };
  const registry = new MetricRegistry();
  const run = new RunContext({ registry, runTags: {}, systemTags: new Set(DEFAULT_SYSTEM_TAGS), env, abortTest: () => undefined });
  setActiveRun(run);
  const script = await loadScript(path, { env, modules: moduleObjects({}) }).catch((error: unknown) => {
    setActiveRun(undefined);
    throw error;
  });
  try {
    const consolidated = consolidateOptions(script.exports.options, options.overrides);
    let thresholds: ThresholdSet;
    try {
      // Browser metrics and custom metrics made later are unknown here; inspection accepts any name k6 could define.
      thresholds = parseThresholds(consolidated.thresholds, (name) => registry.get(name)?.info.type ?? (name.startsWith('browser_') ? (name === 'browser_http_req_failed' ? 'rate' : 'trend') : undefined));
    } catch (error) {
      if (error instanceof ThresholdError) throw new LoadgenError(EXIT_CODES.invalidConfig, `options.${error.message}`);
      throw error;
    }
    const functions = Object.entries(script.exports).filter(([, value]) => typeof value === 'function').map(([name]) => name).sort();
    return { options: consolidated, thresholds, functions };
  } finally {
    script.dispose();
    setActiveRun(undefined);
  }
}
