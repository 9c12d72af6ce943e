// A private copy of `pg`, instrumented by @opentelemetry/instrumentation-pg and exporting its
// metrics through the OpenTelemetry Prometheus exporter. For the pool-overhead comparison only.
//
// Why a private copy, and why patch by hand:
// - PgInstrumentation patches pg.Client.prototype.query/connect and pg-pool's Pool.prototype.connect,
//   i.e. every pool of the `pg` module it patches. The raw and perfstack set-ups in the same process
//   must stay untouched, so this module loads a second copy of pg and pg-pool: it takes their
//   entries out of require.cache, requires them again through createRequire, then puts the
//   originals back. Everybody else keeps the original, unpatched module.
// - The instrumentation's normal route, enable(), installs require-in-the-middle hooks that patch
//   whichever pg is required next, process-wide and for good (and do not see ESM `import pg`).
//   Instead it is constructed with enabled: false and its own module definitions (init(), exposed
//   as getModuleDefinitions()) are applied to the private copy: definition "pg" patches Client,
//   definition "pg-pool" wraps Pool.prototype.connect. That is exactly the patch enable() would
//   apply from its require hook, minus the hook.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type pg from 'pg';

const require = createRequire(import.meta.url);

export interface OtelPg {
  /** The private pg copy's Pool class, patched by PgInstrumentation. */
  Pool: typeof pg.Pool;
  exporter: PrometheusExporter;
  meterProvider: MeterProvider;
  instrumentation: PgInstrumentation;
  /** Whether the private copy's Client.prototype.query is wrapped (shimmer's __wrapped flag). */
  patched(): boolean;
  /** The metrics in the Prometheus text format, as a scrape would see them. */
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

/** The folder of an installed package (node_modules/NAME/), found from its resolved entry point. */
function packageRoot(name: string): string {
  const entry = require.resolve(name);
  const marker = `${sep}node_modules${sep}${name}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`otel-pg: cannot find the package folder of ${name} (resolved to ${entry})`);
  return entry.slice(0, at + marker.length);
}

const packageVersion = (name: string) =>
  (JSON.parse(readFileSync(join(packageRoot(name), 'package.json'), 'utf8')) as { version: string }).version;

/** Loads `id` and its own files afresh, leaving require.cache as it was for everybody else. */
function requireFresh<T>(id: string, packages: string[]): T {
  const roots = packages.map(packageRoot);
  const saved = new Map<string, NodeJS.Module>();
  for (const [file, module] of Object.entries(require.cache)) {
    if (module && roots.some((root) => file.startsWith(root))) {
      saved.set(file, module);
      delete require.cache[file];
    }
  }
  try {
    return require(id) as T;
  } finally {
    for (const [file, module] of Object.entries(require.cache)) {
      if (module && roots.some((root) => file.startsWith(root))) delete require.cache[file];
    }
    for (const [file, module] of saved) require.cache[file] = module;
  }
}

export function loadOtelInstrumentedPg(): OtelPg {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const instrumentation = new PgInstrumentation({ enabled: false });
  instrumentation.setMeterProvider(meterProvider);

  const pgModule = requireFresh<typeof pg>('pg', ['pg', 'pg-pool']);
  // pg required its own fresh pg-pool; find that very copy (pg.Pool extends it).
  const poolModule = Object.getPrototypeOf(pgModule.Pool) as unknown;
  if (typeof poolModule !== 'function') throw new Error('otel-pg: could not find the pg-pool class behind pg.Pool');

  const versions: Record<string, string> = {
    pg: packageVersion('pg'),
    'pg-pool': packageVersion('pg-pool'),
  };
  for (const definition of instrumentation.getModuleDefinitions()) {
    const target = definition.name === 'pg' ? pgModule : definition.name === 'pg-pool' ? poolModule : undefined;
    if (target === undefined || !definition.patch) continue;
    definition.patch(target, versions[definition.name]);
  }

  const patched = () => Boolean((pgModule.Client.prototype.query as { __wrapped?: boolean }).__wrapped);
  if (!patched()) throw new Error('otel-pg: PgInstrumentation did not patch the private pg copy');

  return {
    Pool: pgModule.Pool,
    exporter,
    meterProvider,
    instrumentation,
    patched,
    async scrape() {
      // getMetricsRequestHandler writes to an http.ServerResponse; a minimal stand-in collects the body.
      return new Promise<string>((resolve) => {
        let body = '';
        const response = {
          statusCode: 0,
          setHeader: () => undefined,
          end: (chunk?: string) => {
            body += chunk ?? '';
            resolve(body);
          },
        };
        exporter.getMetricsRequestHandler({} as never, response as never);
      });
    },
    async shutdown() {
      await meterProvider.shutdown();
    },
  };
}
