// Shared pieces of the engine's proof: a loopback target that records what arrives, and a
// runner that runs one fixture script in this process with runLoad and keeps its log.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadRunOptions, type LoadRunResult } from '../index.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '..', '..');
export const script = (name: string) => join(HERE, 'scripts', name);

/** One request as the target saw it: when (epoch ms, fractional), the path and the query. */
export interface Arrival {
  at: number;
  path: string;
  query: Record<string, string>;
  body: string;
}

export interface Target {
  url: string;
  port: number;
  arrivals: Arrival[];
  /** Arrivals on one path. */
  on(path: string): Arrival[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, arrival: Arrival) => void;

/** Epoch milliseconds with sub-millisecond resolution (performance.timeOrigin + now). */
export const nowMs = () => performance.timeOrigin + performance.now();

/**
 * A node:http server on 127.0.0.1, port 0. Every request is recorded; `/delay/N` answers after N ms,
 * anything else answers at once, unless `handler` answers instead.
 */
export async function startTarget(handler?: Handler): Promise<Target> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const at = nowMs();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrival: Arrival = { at, path: url.pathname, query: Object.fromEntries(url.searchParams), body: Buffer.concat(chunks).toString('utf8') };
      arrivals.push(arrival);
      if (handler) return handler(req, res, arrival);
      const delay = /^\/delay\/(\d+)$/.exec(url.pathname);
      if (delay) setTimeout(() => res.end('ok'), Number(delay[1]));
      else res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    arrivals,
    on: (path) => arrivals.filter((a) => a.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Ran extends LoadRunResult {
  lines: string[];
  /** Wall-clock length of the runLoad call, ms. */
  wallMs: number;
}

/** Runs a fixture script in this process against `target`, PERFSTACK_BASE_URL in __ENV (as `perfstack run` gives it). */
export async function run(name: string, target: Target | string, more: Partial<LoadRunOptions> = {}): Promise<Ran> {
  const lines: string[] = [];
  const started = Date.now();
  const result = await runLoad({
    script: script(name),
    ...more,
    env: { PERFSTACK_BASE_URL: typeof target === 'string' ? target : target.url, ...more.env },
    log: (line) => lines.push(line),
    progress: false,
  });
  return { ...result, lines, wallMs: Date.now() - started };
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'perfstack-loadgen-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export const num = (value: string | undefined) => Number(value);

/** Exact quantile by nearest rank (the definition HdrHistogram answers with). */
export function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** Exact quantile by linear interpolation between the closest ranks. */
export function interpolated(sorted: readonly number[], p: number): number {
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/**
 * A fixed-delay target in a worker thread: its own event loop, so the server's timers are not held
 * up by the client's work in this thread. Answers every request after `delayMs`.
 */
export async function startDelayWorker(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads');
  const source = `
    const { createServer } = require('node:http');
    const { parentPort } = require('node:worker_threads');
    const server = createServer((req, res) => { req.resume(); req.on('end', () => setTimeout(() => res.end('ok'), ${Number(delayMs)})); });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
  `;
  const worker = new Worker(source, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    },
  };
}
