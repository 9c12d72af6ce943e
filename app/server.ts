// startApp(): the reference service — express, an instrumented pg pool, its own metrics registry.

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { PerfstackConfig } from '../config/index.js';
import { httpMetrics, initialiseRoutes, instrumentPool, metricsHandler } from '../exporters/index.js';
import type { AppContext } from './context.js';
import { POOL_NAME, createPool } from './database.js';
import { compressionMiddleware } from './compression.js';
import { createFaultSwitch, type FaultSettings, type FaultSwitch } from './fault.js';
import { ReadCache, cacheHealthRoute, checkRedisUrl } from './cache/index.js';
import { errorHandler, notFound } from './http.js';
import { rumRoutes } from './rum/index.js';
import { adminRoutes } from './routes/admin.js';
import { authRoutes } from './routes/auth.js';
import { entityRoutes } from './routes/entities.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { searchRoutes } from './routes/search.js';

/** The service label of the HTTP metrics. */
export const SERVICE_NAME = 'perfstack-app';

/** How long stop() lets in-flight requests finish before it closes their connections. */
export const DRAIN_TIMEOUT_MS = 10_000;

/** How long startApp waits for Redis before it starts serving without the cache. */
const CACHE_READY_WAIT_MS = 1000;

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

export interface StartAppOptions {
  /** postgres://… of the service's database (already migrated). */
  databaseUrl: string;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** The perfstack config; its database KPIs drive /health/database/detailed. */
  config: PerfstackConfig;
  /** Largest number of pool connections. Default 10. */
  poolMax?: number;
  /** Initial fault settings (e.g. faultFromEnv(process.env)). Default: off. */
  fault?: Partial<FaultSettings>;
  /** Enables /admin/fault behind this bearer token; without it the admin routes answer 404. */
  adminToken?: string;
  /** Where log lines go. Default: stdout. */
  log?: (line: string) => void;
  /** How long stop() waits for in-flight requests. Default DRAIN_TIMEOUT_MS. */
  drainTimeoutMs?: number;
  /** redis://… of the read cache (search results, entities); without it every read goes to PostgreSQL. */
  redisUrl?: string;
  /** Use the Redis cache. Default: on when redisUrl is given (`perfstack app --no-cache` turns it off). */
  cache?: boolean;
  /** gzip/brotli responses (settings from config.compression). Default: config.compression.enabled. */
  compression?: boolean;
}

export interface RunningApp {
  /** http://host:port, without a trailing slash. */
  url: string;
  port: number;
  /** The registry behind /metrics (HTTP, pool and default Node.js process metrics). */
  registry: Registry;
  /** Drains in-flight requests, then closes the pool. Safe to call more than once. */
  stop(): Promise<void>;
  fault: FaultSwitch;
}

function checkOptions(options: StartAppOptions): void {
  if (!options || typeof options.databaseUrl !== 'string' || !/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    throw new Error('startApp: options.databaseUrl must be a postgres:// URL');
  }
  if (!options.config?.database) throw new Error('startApp: options.config must be a PerfstackConfig (with a database section)');
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw new Error(`startApp: options.port must be a whole number 0..65535, got ${options.port}`);
  }
  if (options.poolMax !== undefined && (!Number.isInteger(options.poolMax) || options.poolMax < 1 || options.poolMax > 1000)) {
    throw new Error(`startApp: options.poolMax must be a whole number 1..1000, got ${options.poolMax}`);
  }
  if (options.adminToken !== undefined && options.adminToken.length > 0 && options.adminToken.length < 16) {
    throw new Error('startApp: options.adminToken must be at least 16 characters');
  }
  if (options.redisUrl !== undefined) checkRedisUrl(options.redisUrl, 'startApp: options.redisUrl');
  if (options.cache === true && options.redisUrl === undefined) throw new Error('startApp: options.cache is true but options.redisUrl is missing');
}

/** Starts the reference service; resolves once it listens. */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  checkOptions(options);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));

  // Settings first: a bad fault setting throws before anything is opened.
  const fault = createFaultSwitch(options.fault);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const pool = createPool(options.databaseUrl, { max: options.poolMax, log });
  const instrumented = instrumentPool(pool, { poolName: POOL_NAME, registry });
  const cache = new ReadCache({ redisUrl: options.redisUrl, enabled: options.cache ?? true, config: options.config.cache, registry, log });

  const ctx: AppContext = {
    pool,
    registry,
    config: options.config,
    fault,
    faulty: fault.handler,
    adminToken: options.adminToken || undefined,
    log,
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(httpMetrics({ service: SERVICE_NAME, registry }));
  // After the metrics middleware, so request durations include the compression work.
  const compress = compressionMiddleware(options.config.compression, options.compression);
  if (compress) app.use(compress);
  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  app.get('/metrics', metricsHandler(registry));
  healthRoutes(app, ctx);
  cacheHealthRoute(app, cache);
  entityRoutes(app, ctx, cache);
  searchRoutes(app, ctx, cache);
  authRoutes(app, ctx);
  fileRoutes(app, ctx);
  adminRoutes(app, ctx);
  rumRoutes(app, { registry, frontend: options.config.frontend, publicDir: PUBLIC_DIR, log });

  app.get('/', (_req, res) => {
    res.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'");
    res.sendFile('index.html', { root: PUBLIC_DIR });
  });
  app.use('/static', express.static(`${PUBLIC_DIR}static`, { index: false, fallthrough: true }));

  app.use(notFound);
  app.use(errorHandler(log));
  // Every route's series exist at zero from the start, so rate() counts a short run's first requests.
  initialiseRoutes(app, { service: SERVICE_NAME, registry });

  const server: Server = createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    instrumented.uninstrument();
    await cache.close();
    await pool.end().catch(() => undefined);
    const code = (error as { code?: string }).code;
    throw new Error(`startApp: cannot listen on ${host}:${options.port ?? 0}${code ? ` (${code})` : ''}: ${(error as Error).message}`);
  }
  server.on('error', (error) => log(`server error: ${(error as Error).message}`));

  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`perfstack-app listening on ${url} (pool max ${pool.options.max})`);
  // Caching starts as soon as Redis answers; a missing Redis only makes the first reads misses.
  if (cache.enabled && !(await cache.waitUntilReady(CACHE_READY_WAIT_MS))) log(`perfstack-app: Redis not ready after ${CACHE_READY_WAIT_MS} ms; reads go to PostgreSQL until it is`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log('perfstack-app stopping: draining in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections without a request in flight are closed right away; the rest
      // finish their request first (Node closes them after the response once the server closes).
      server.closeIdleConnections();
      // Connections that finish their request later become idle: close those as they do.
      const sweeper = setInterval(() => server.closeIdleConnections(), 50);
      const drainTimeout = options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), drainTimeout);
        }),
      ]);
      clearTimeout(timer);
      clearInterval(sweeper);
      if (timedOut) {
        log(`perfstack-app: requests still running after ${drainTimeout} ms; closing their connections`);
        server.closeAllConnections();
        await closed;
      }
      await cache.close();
      await pool.end().catch((error: Error) => log(`perfstack-app: closing the pool failed: ${error.message}`));
      instrumented.uninstrument();
      log('perfstack-app stopped');
    })();
    return stopping;
  };

  return { url, port, registry, stop, fault };
}
