// The viewer's HTTP server, on loopback only: the page, its script (viewer/client, bundled with
// esbuild on start), uPlot straight from node_modules, the dashboard JSON, and a read-only proxy to
// Prometheus's HTTP API (GET query, query_range, series, labels, label values; nothing else).
//
//   GET /                                          the dashboard list
//   GET /d/<uid>[/<slug>]?from&to&refresh&var-x   a dashboard (Grafana's URL shape, so links work)
//   GET /api/dashboards                            the list, as JSON
//   GET /api/dashboards/uid/<uid>                  one dashboard's JSON, as provisioned
//   GET /api/datasources                           the datasources (uid, name, scrape interval; no URL)
//   GET /api/datasources/proxy/uid/<uid>/api/v1/…  Prometheus, proxied
//   GET /static/…                                  app.js, viewer.css, uPlot.iife.min.js, uPlot.min.css

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { listDashboards, readDashboard, type ViewerDatasource } from './catalog.js';
import type { DatasourceInfo } from './shared/model.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where the viewer listens unless told otherwise (Grafana keeps 3000). */
export const DEFAULT_VIEWER_PORT = 3001;

/** The only Prometheus API paths the proxy forwards. */
const PROXIED = [/^\/api\/v1\/query$/, /^\/api\/v1\/query_range$/, /^\/api\/v1\/series$/, /^\/api\/v1\/labels$/, /^\/api\/v1\/label\/[^/]+\/values$/];

export interface ViewerOptions {
  /** Folder of dashboard JSON (provisioning/grafana/dashboards). */
  dashboardsDir: string;
  datasources: ViewerDatasource[];
  /** 0 picks a free port. */
  port?: number;
  /** Loopback unless you mean otherwise. */
  host?: string;
  /** When the port is taken, take a free one (and say so) instead of failing. */
  fallbackToFreePort?: boolean;
  /** Shown in the page header (e.g. "base HEAD~1"). */
  label?: string;
  log?: (line: string) => void;
}

export interface Viewer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

let bundle: Promise<string> | undefined;

/** The browser script: viewer/client/main.ts and what it imports, as one IIFE. */
export function clientBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [join(HERE, 'client', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    minify: false,
    sourcemap: false,
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]!.text);
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

function uplotFile(name: string): string {
  return join(dirname(require.resolve('uplot/package.json')), 'dist', name);
}

function page(label: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perfstack dashboards</title>
<link rel="stylesheet" href="/static/uPlot.min.css">
<link rel="stylesheet" href="/static/viewer.css">
</head>
<body data-label="${(label ?? '').replace(/[<>&"]/g, '')}">
<div id="app">Loading…</div>
<script src="/static/uPlot.iife.min.js"></script>
<script src="/static/app.js"></script>
</body>
</html>
`;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** Only requests addressed to this server by a loopback name (no DNS rebinding from a web page). */
function hostAllowed(req: IncomingMessage, host: string): boolean {
  const header = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return ['127.0.0.1', 'localhost', '::1', host].includes(header);
}

export function datasourceInfo(datasources: ViewerDatasource[]): DatasourceInfo[] {
  return datasources.map(({ uid, name, type, isDefault, scrapeIntervalSeconds }) => ({ uid, name, type, isDefault, scrapeIntervalSeconds }));
}

/** Starts the viewer; resolves once it listens. */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const host = options.host ?? '127.0.0.1';
  await clientBundle(); // fail now, not on the first page load
  const css = readFileSync(join(HERE, 'client', 'viewer.css'), 'utf8');

  const proxy = async (res: ServerResponse, uid: string, path: string, search: string) => {
    const ds = options.datasources.find((d) => d.uid === uid) ?? options.datasources.find((d) => d.name === uid);
    if (!ds) return sendJson(res, 404, { status: 'error', errorType: 'not_found', error: `no datasource with uid ${uid}` });
    if (!PROXIED.some((re) => re.test(path))) return sendJson(res, 403, { status: 'error', errorType: 'forbidden', error: `${path} is not proxied (only query, query_range, series, labels and label values)` });
    try {
      const upstream = await fetch(`${ds.url.replace(/\/$/, '')}${path}${search}`, { signal: AbortSignal.timeout(60_000) });
      const body = Buffer.from(await upstream.arrayBuffer());
      if (!upstream.ok) log(`viewer: ${ds.name} ${path} answered ${upstream.status}`);
      send(res, upstream.status, upstream.headers.get('content-type') ?? 'application/json', body);
    } catch (error) {
      log(`viewer: ${ds.name} at ${ds.url} unreachable: ${(error as Error).message}`);
      sendJson(res, 502, { status: 'error', errorType: 'unavailable', error: `Prometheus (${ds.name}) unreachable: ${(error as Error).message}` });
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (!hostAllowed(req, host)) return send(res, 421, 'text/plain', 'wrong host\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { status: 'error', error: 'only GET' });
      const url = new URL(req.url ?? '/', 'http://viewer');
      const path = url.pathname;
      if (path === '/' || path === '/index.html' || path.startsWith('/d/')) return send(res, 200, 'text/html; charset=utf-8', page(options.label));
      if (path === '/static/app.js') return send(res, 200, 'text/javascript; charset=utf-8', await clientBundle());
      if (path === '/static/viewer.css') return send(res, 200, 'text/css; charset=utf-8', css);
      if (path === '/static/uPlot.iife.min.js') return send(res, 200, 'text/javascript; charset=utf-8', readFileSync(uplotFile('uPlot.iife.min.js')));
      if (path === '/static/uPlot.min.css') return send(res, 200, 'text/css; charset=utf-8', readFileSync(uplotFile('uPlot.min.css')));
      if (path === '/api/health') return sendJson(res, 200, { status: 'ok' });
      if (path === '/api/dashboards') {
        return sendJson(res, 200, listDashboards(options.dashboardsDir).map(({ path: _path, ...entry }) => entry));
      }
      const dashboardMatch = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
      if (dashboardMatch) {
        const dashboard = readDashboard(options.dashboardsDir, decodeURIComponent(dashboardMatch[1]!));
        return dashboard ? sendJson(res, 200, dashboard) : sendJson(res, 404, { error: `no dashboard with uid ${dashboardMatch[1]}` });
      }
      if (path === '/api/datasources') return sendJson(res, 200, datasourceInfo(options.datasources));
      const proxyMatch = /^\/api\/datasources\/proxy\/uid\/([^/]+)(\/.*)$/.exec(path);
      if (proxyMatch) return proxy(res, decodeURIComponent(proxyMatch[1]!), proxyMatch[2]!, url.search);
      sendJson(res, 404, { error: `not found: ${path}` });
    })().catch((error: Error) => {
      log(`viewer: ${req.url}: ${error.message}`);
      if (!res.headersSent) sendJson(res, 500, { error: error.message });
      else res.end();
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const wanted = options.port ?? DEFAULT_VIEWER_PORT;
  try {
    await listen(wanted);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.fallbackToFreePort) throw error;
    await listen(0);
    log(`viewer: port ${wanted} is taken, using ${(server.address() as { port: number }).port}`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`viewer: serving ${options.dashboardsDir} on ${url} (Prometheus: ${options.datasources.map((d) => `${d.name} ${d.url}`).join(', ')})`);
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
