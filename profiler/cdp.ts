// A minimal Chrome DevTools Protocol client over a WebSocket (undici's), enough to drive a Node.js
// inspector's Profiler domain from another process. node:inspector only reaches the own process.

import { WebSocket } from 'undici';

export class ProfilerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProfilerError';
  }
}

export interface CdpSession {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The WebSocket URL of a Node.js inspector: given as ws://…, or found through http://host:port/json/list
 * (also for a bare host:port). Loopback only: the inspector can run any code in the process.
 */
export async function inspectorWebSocketUrl(target: string, timeoutMs = 5000): Promise<string> {
  const given = /^[a-z]+:\/\//i.test(target) ? target : `http://${target}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new ProfilerError(`--inspect must be host:port, http://host:port or ws://host:port/<id>, got "${target}"`);
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new ProfilerError(`--inspect must be on loopback (127.0.0.1, ::1, localhost): the inspector runs any code it is sent; got "${url.hostname}"`);
  }
  if (url.protocol === 'ws:') return url.toString();
  try {
    const response = await fetch(`http://${url.host}/json/list`, { signal: AbortSignal.timeout(timeoutMs) });
    const targets = (await response.json()) as { webSocketDebuggerUrl?: string; type?: string }[];
    const node = targets.find((t) => t.webSocketDebuggerUrl);
    if (!node?.webSocketDebuggerUrl) throw new ProfilerError(`no inspector target at http://${url.host}/json/list`);
    return node.webSocketDebuggerUrl;
  } catch (error) {
    if (error instanceof ProfilerError) throw error;
    throw new ProfilerError(
      `no Node.js inspector answers at ${url.host} (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}); start the service with \`perfstack app --inspect-port <port>\``,
      { cause: error },
    );
  }
}

/** Opens a CDP session; every command gets its answer or the error the inspector gave. */
export async function connectCdp(webSocketUrl: string, timeoutMs = 5000): Promise<CdpSession> {
  const socket = new WebSocket(webSocketUrl);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ProfilerError(`the inspector at ${webSocketUrl} did not accept a connection within ${timeoutMs} ms`)), timeoutMs);
    socket.addEventListener('open', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.addEventListener('error', () => {
      clearTimeout(timer);
      reject(new ProfilerError(`cannot connect to the inspector at ${webSocketUrl} (is another debugger attached?)`));
    });
  });
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return; // events: not needed here
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.error) waiting.reject(new ProfilerError(`inspector: ${message.error.message}`));
    else waiting.resolve(message.result);
  });
  socket.addEventListener('close', () => {
    closed = true;
    for (const waiting of pending.values()) waiting.reject(new ProfilerError('the inspector closed the connection (did the service stop?)'));
    pending.clear();
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      if (closed) return Promise.reject(new ProfilerError('the inspector connection is closed'));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        socket.addEventListener('close', () => resolve());
        socket.close();
      }),
  };
}
