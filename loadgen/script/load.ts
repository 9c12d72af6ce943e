// Evaluates a bundled script in this process (its init context) and hands back what it exports.
// Exceptions are mapped back to the script's own file and line.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runInThisContext } from 'node:vm';
import { EXIT_CODES, LoadgenError, type Where } from '../errors.js';
import { iterationStorage, type IterationContext } from '../runtime/context.js';
import { MODULES_KEY, bundleScript, type BundledScript } from './bundle.js';

export interface ScriptExports {
  options?: unknown;
  default?: (data: unknown) => unknown;
  setup?: () => unknown;
  teardown?: (data: unknown) => unknown;
  handleSummary?: (data: unknown) => unknown;
  [name: string]: unknown;
}

export interface LoadedScript {
  path: string;
  exports: ScriptExports;
  /** Where an error thrown by the script came from, in the script's own files. */
  locate(error: unknown): Where | undefined;
  /** Removes the globals the script was given. */
  dispose(): void;
}

function frameOf(bundle: BundledScript, stack: string | undefined, skip = 0): Where | undefined {
  if (!stack) return undefined;
  let seen = 0;
  for (const line of stack.split('\n')) {
    const at = line.lastIndexOf(bundle.filename);
    if (at < 0) continue;
    const match = /:(\d+):(\d+)\)?\s*$/.exec(line.slice(at + bundle.filename.length));
    if (!match) continue;
    if (seen++ < skip) continue;
    return bundle.locate(Number(match[1]), Number(match[2]));
  }
  return undefined;
}

/** The k6 globals: __ENV, __VU, __ITER and open() (init context only, relative to the calling file). */
function installGlobals(bundle: BundledScript, env: Record<string, string>, entry: string): () => void {
  const names = ['__ENV', '__VU', '__ITER', 'open'] as const;
  const previous = names.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
  // Fix: a scenario's `env` option never reached __ENV. k6 layers it over the run's variables for
  // the code of that scenario; one merged object per scenario, so writes to it persist.
  let runEnv = env;
  const scenarioEnvs = new WeakMap<object, Record<string, string>>();
  Object.defineProperty(globalThis, '__ENV', {
    configurable: true,
    get: () => {
      const scenario = iterationStorage.getStore()?.scenario;
      if (!scenario || Object.keys(scenario.env).length === 0) return runEnv;
      let merged = scenarioEnvs.get(scenario);
      if (!merged) scenarioEnvs.set(scenario, (merged = { ...runEnv, ...scenario.env }));
      return merged;
    },
    set: (value: Record<string, string>) => {
      runEnv = value;
    },
  });
  Object.defineProperty(globalThis, '__VU', { get: () => iterationStorage.getStore()?.vu?.idInTest ?? 0, configurable: true });
  Object.defineProperty(globalThis, '__ITER', { get: () => iterationStorage.getStore()?.vu?.iterationInInstance ?? 0, configurable: true });
  Object.defineProperty(globalThis, 'open', {
    configurable: true,
    writable: true,
    value(path: string, mode?: string): string | ArrayBuffer {
      const stage = iterationStorage.getStore()?.stage;
      if (stage && stage !== 'init') throw new Error('open() can only be called in the init context (outside setup, default and teardown)');
      const caller = frameOf(bundle, new Error().stack);
      const base = caller ? dirname(caller.file) : dirname(entry);
      const file = resolve(base, path);
      const bytes = readFileSync(file);
      return mode === 'b' ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) : bytes.toString('utf8');
    },
  });
  return () => {
    names.forEach((name, i) => {
      const descriptor = previous[i];
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    });
  };
}

/**
 * Bundles, checks and evaluates a k6 script. Throws LoadgenError (exit 107) for a syntax error,
 * an unsupported k6 API or an exception in the init context, naming the file and line.
 */
export async function loadScript(path: string, options: { env: Record<string, string>; modules: Record<string, unknown> }): Promise<LoadedScript> {
  const entry = resolve(path);
  try {
    readFileSync(entry);
  } catch (error) {
    throw new LoadgenError(EXIT_CODES.badInput, `cannot read the script ${entry}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const bundle = await bundleScript(entry);
  (globalThis as Record<symbol, unknown>)[MODULES_KEY] = options.modules;
  const dispose = installGlobals(bundle, options.env, entry);
  const locate = (error: unknown) => frameOf(bundle, (error as Error | undefined)?.stack);
  const init: IterationContext = { vu: undefined, scenario: undefined, iterationInScenario: -1, iterationInTest: -1, group: '', signal: new AbortController().signal, stage: 'init' };
  let exports: ScriptExports;
  try {
    exports = iterationStorage.run(init, () => runInThisContext(`(function () {\n${bundle.code}\nreturn __perfstackScript;\n})()`, { filename: bundle.filename, lineOffset: -1 }) as ScriptExports);
  } catch (error) {
    dispose();
    const where = locate(error);
    throw new LoadgenError(EXIT_CODES.scriptException, `the script failed in its init context: ${(error as Error).message ?? String(error)}`, where ?? { file: entry, line: 1 }, { cause: error });
  }
  return { path: entry, exports, locate, dispose };
}
