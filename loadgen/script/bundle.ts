// Loads a k6 script: esbuild bundles it (TypeScript and relative imports included) into one
// function, the k6 modules resolve to perfstack's implementation, and every file is checked for
// unsupported k6 APIs on the way. Errors name the file and the line.

import { readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { EXIT_CODES, LoadgenError, type Where } from '../errors.js';
import { MODULES } from '../k6/modules.js';
import { checkScriptSource } from './check.js';

/** Where the bundled script finds the k6 module objects at load time. */
export const MODULES_KEY = Symbol.for('perfstack.loadgen.k6-modules');

export interface BundledScript {
  code: string;
  /** The name stack traces show for the bundle. */
  filename: string;
  /** Maps a position in the bundle back to the script's own files. */
  locate(line: number, column: number): Where | undefined;
}

function k6Plugin(): esbuild.Plugin {
  return {
    name: 'perfstack-k6',
    setup(build) {
      build.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'k6' }));
      build.onResolve({ filter: /^https?:\/\// }, (args) => ({
        errors: [{ text: `remote module "${args.path}" is not supported: perfstack’s engine loads no code from the network` }],
      }));
      build.onLoad({ filter: /.*/, namespace: 'k6' }, (args) => {
        const spec = MODULES[args.path];
        if (!spec) return { errors: [{ text: `module "${args.path}" is not supported by perfstack’s engine (supported: ${Object.keys(MODULES).join(', ')})` }] };
        const names = spec.names.join(', ');
        return {
          loader: 'js',
          contents: `const m = globalThis[Symbol.for('perfstack.loadgen.k6-modules')][${JSON.stringify(args.path)}];\nexport default m.default;\nexport const { ${names} } = m;\n`,
        };
      });
      build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const problems = checkScriptSource(args.path, text);
        if (problems.length > 0) {
          return { errors: problems.map((p) => ({ text: p.message, location: { file: args.path, line: p.line, column: p.column, lineText: p.lineText } })) };
        }
        return { contents: text, loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js' };
      });
    },
  };
}

function firstError(failure: esbuild.BuildFailure | Error, scriptPath: string): LoadgenError {
  const errors = 'errors' in failure ? failure.errors : [];
  const first = errors[0];
  if (!first) return new LoadgenError(EXIT_CODES.scriptException, `${scriptPath}: ${failure.message}`);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  const where = first.location ? { file: first.location.file, line: first.location.line, column: first.location.column + 1 } : { file: scriptPath, line: 1 };
  return new LoadgenError(EXIT_CODES.scriptException, `${first.text}${more}`, where);
}

export async function bundleScript(scriptPath: string): Promise<BundledScript> {
  const entry = isAbsolute(scriptPath) ? scriptPath : resolve(scriptPath);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      outfile: `${entry}.bundle.js`,
      format: 'iife',
      globalName: '__perfstackScript',
      platform: 'neutral',
      target: 'es2022',
      sourcemap: 'external',
      logLevel: 'silent',
      plugins: [k6Plugin()],
    });
  } catch (error) {
    throw firstError(error as esbuild.BuildFailure, entry);
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const mapText = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text;
  const map = mapText ? new SourceMap(JSON.parse(mapText) as ConstructorParameters<typeof SourceMap>[0]) : undefined;
  const mapDir = dirname(`${entry}.bundle.js`);
  return {
    code,
    filename: `${entry}.bundle.js`,
    locate(line, column) {
      const found = map?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
      if (!found?.originalSource) return undefined;
      const file = found.originalSource.startsWith('file://') ? new URL(found.originalSource).pathname : resolve(mapDir, found.originalSource);
      return { file, line: (found.originalLine ?? 0) + 1, column: (found.originalColumn ?? 0) + 1 };
    },
  };
}
