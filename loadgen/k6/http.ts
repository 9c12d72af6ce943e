// `k6/http`'s asynchronous API on undici: asyncRequest (and the helpers the scenarios use),
// with k6's per-request metrics, timings, tags and error codes. The synchronous calls (get, post,
// request, batch …) are not offered: they would block every VU of the shared event loop; the
// script check names them before any load starts.

import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { parseDuration } from '../durations.js';
import { activeRun, iterationStorage, type RunContext } from '../runtime/context.js';

/** k6 error codes (k6 docs, "Error codes") for what can go wrong on loopback HTTP. */
const ERROR_CODES = { generic: 1000, invalidUrl: 1020, timeout: 1050, dial: 1210, refused: 1212, reset: 1220 } as const;

interface ExpectedStatuses {
  readonly kind: 'expectedStatuses';
  matches(status: number): boolean;
}

/** k6's http.expectedStatuses(200, {min: 300, max: 399}, …). */
export function expectedStatuses(...specs: Array<number | { min: number; max: number }>): ExpectedStatuses {
  for (const spec of specs) {
    if (typeof spec === 'number' ? !Number.isInteger(spec) : !(Number.isInteger(spec?.min) && Number.isInteger(spec?.max))) {
      throw new Error(`http.expectedStatuses: ${JSON.stringify(spec)} is neither a status nor {min, max}`);
    }
  }
  return {
    kind: 'expectedStatuses',
    matches: (status) => specs.some((spec) => (typeof spec === 'number' ? status === spec : status >= spec.min && status <= spec.max)),
  };
}

const DEFAULT_EXPECTED = expectedStatuses({ min: 200, max: 399 });
let responseCallback: ExpectedStatuses | null = DEFAULT_EXPECTED;

/** k6's http.setResponseCallback: what counts as a failed request in http_req_failed; null turns it off. */
export function setResponseCallback(callback: ExpectedStatuses | null): void {
  if (callback !== null && callback?.kind !== 'expectedStatuses') throw new Error('http.setResponseCallback takes http.expectedStatuses(…) or null');
  responseCallback = callback;
}

export interface Timings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

type ResponseType = 'text' | 'binary' | 'none';

export interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  timeout?: string | number;
  responseType?: ResponseType;
  responseCallback?: ExpectedStatuses | null;
  redirects?: number;
}

/** Go-style canonical header name, as k6 reports them: content-type → Content-Type. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

export class Response {
  private headerCache: Record<string, string> | undefined;
  constructor(
    readonly status: number,
    readonly status_text: string,
    private readonly rawHeaders: readonly Buffer[],
    readonly body: string | ArrayBuffer | null,
    readonly timings: Timings,
    readonly url: string,
    readonly request: { method: string; url: string; headers: Record<string, string>; body: string },
    readonly error: string,
    readonly error_code: number,
    readonly proto: string,
    readonly remote_ip: string,
    readonly remote_port: number,
  ) {}

  /** Response headers with Go-style canonical names; built on first read (most scripts never look). */
  get headers(): Record<string, string> {
    if (!this.headerCache) {
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
        const name = canonical(String(this.rawHeaders[i]));
        const value = String(this.rawHeaders[i + 1]);
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      this.headerCache = headers;
    }
    return this.headerCache;
  }

  /** The body as JSON, or the value at a simple dotted selector ("items.0.id"). */
  json(selector?: string): unknown {
    if (typeof this.body !== 'string') throw new Error(`response.json(): the body of ${this.url} is not text (responseType ${this.body === null ? 'none' : 'binary'})`);
    let value = JSON.parse(this.body) as unknown;
    if (selector) {
      for (const part of selector.split('.')) {
        if (value === null || typeof value !== 'object') return undefined;
        value = (value as Record<string, unknown>)[part];
      }
    }
    return value;
  }

  html(): never {
    throw new Error('response.html() is not supported by perfstack’s engine');
  }
}

// Connection timing: undici connects before it hands a request its socket. The connector records
// each new socket's connect time; the first request written on that socket takes it.
const connectTimes = new WeakMap<Socket, number>();
let writing: RequestHandler | undefined;
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const { socket, headers } = message as { socket: Socket; headers: string };
  const handler = writing;
  writing = undefined;
  if (!handler) return;
  handler.headerBytes = headers.length;
  const connect = connectTimes.get(socket);
  if (connect !== undefined) {
    handler.connecting = connect;
    connectTimes.delete(socket);
  }
  handler.remoteAddress = socket.remoteAddress ?? '';
  handler.remotePort = socket.remotePort ?? 0;
});

function timedConnector(): buildConnector.connector {
  const connect = buildConnector({ timeout: 10_000 });
  return (options, callback) => {
    const started = performance.now();
    connect(options, (error, socket) => {
      if (!error && socket) connectTimes.set(socket as Socket, performance.now() - started);
      callback(error as Error, socket as never);
    });
  };
}

// undici's legacy handler interface (onConnect … onComplete), which it still drives; its types describe the newer one.
class RequestHandler {
  readonly started = performance.now();
  writeStarted = 0;
  written = 0;
  headersAt = 0;
  connecting = 0;
  headerBytes = 0;
  receivedBytes = 0;
  remoteAddress = '';
  remotePort = 0;
  status = 0;
  statusText = '';
  rawHeaders: Buffer[] = [];
  chunks: Buffer[] = [];
  abort: ((error?: Error) => void) | undefined;
  constructor(
    private readonly keepBody: boolean,
    private readonly done: (error: Error | undefined) => void,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    this.writeStarted = performance.now();
    writing = this;
  }
  onRequestSent(): void {
    this.written = performance.now();
  }
  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, statusText: string): boolean {
    this.headersAt = performance.now();
    if (this.written === 0) this.written = this.headersAt;
    this.status = statusCode;
    this.statusText = statusText;
    this.rawHeaders = rawHeaders;
    let bytes = 17 + statusText.length; // "HTTP/1.1 200 OK\r\n" … "\r\n"
    for (const part of rawHeaders) bytes += part.length + 2;
    this.receivedBytes += bytes;
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.receivedBytes += chunk.length;
    if (this.keepBody) this.chunks.push(chunk);
    return true;
  }
  onComplete(): void {
    this.done(undefined);
  }
  onError(error: Error): void {
    this.done(error);
  }
}

/** One client per run: keep-alive connections to each origin, as many as there are requests in flight. */
export class HttpClient {
  readonly agent = new Agent({ connect: timedConnector(), keepAliveTimeout: 60_000, pipelining: 1, connections: null });
  close(): Promise<void> {
    return this.agent.close();
  }
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}

let client: HttpClient | undefined;
/** The run's HTTP client, set by the runner. */
export function setHttpClient(next: HttpClient | undefined): void {
  client = next;
  responseCallback = DEFAULT_EXPECTED; // each run starts from k6's default
}

function errorCode(error: Error & { code?: string }): number {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED') return ERROR_CODES.refused;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return ERROR_CODES.reset;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code.startsWith('E')) return ERROR_CODES.dial;
  return ERROR_CODES.generic;
}

function encodeBody(body: unknown): { data: string | Buffer | null; text: string; contentType?: string } {
  if (body === null || body === undefined) return { data: null, text: '' };
  if (typeof body === 'string') return { data: body, text: body };
  if (body instanceof ArrayBuffer) return { data: Buffer.from(body), text: '' };
  if (ArrayBuffer.isView(body)) return { data: Buffer.from(body.buffer, body.byteOffset, body.byteLength), text: '' };
  if (typeof body === 'object') {
    // k6 sends a plain object as a form.
    const text = new URLSearchParams(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)])).toString();
    return { data: text, text, contentType: 'application/x-www-form-urlencoded' };
  }
  throw new Error(`unsupported request body of type ${typeof body}`);
}

function timeoutMs(value: Params['timeout']): number {
  if (value === undefined) return 60_000;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`params.timeout: "${String(value)}" is not a duration such as 10s or 500ms`);
  return ms;
}

/** k6's http.asyncRequest(method, url, body, params): a promise of the response, never rejected for HTTP or network errors. */
export async function asyncRequest(method: string, url: string | URL, body?: unknown, params: Params = {}): Promise<Response> {
  const run = activeRun();
  if (!client) throw new Error('http: no HTTP client (requests can only be made while a test runs)');
  const verb = String(method).toUpperCase();
  const href = String(url);
  let target: URL;
  try {
    target = new URL(href);
  } catch {
    throw new Error(`http.asyncRequest: invalid URL "${href}"`);
  }
  const encoded = encodeBody(body);
  const headers: Record<string, string> = { 'user-agent': 'perfstack-loadgen (k6-compatible)' };
  if (encoded.contentType) headers['content-type'] = encoded.contentType;
  for (const [name, value] of Object.entries(params.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const responseType: ResponseType = params.responseType ?? 'text';
  const expected = params.responseCallback === undefined ? responseCallback : params.responseCallback;
  const context = iterationStorage.getStore();
  const signal = context?.signal;
  const limit = timeoutMs(params.timeout);
  // An interrupted iteration that carries on in the background sends nothing more.
  if (signal?.aborted) throw new Error('the iteration was interrupted (gracefulStop ran out)');

  const { handler, error } = await new Promise<{ handler: RequestHandler; error: Error | undefined }>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => handler.abort?.(Object.assign(new Error('request aborted: the iteration was interrupted'), { code: 'ABORTED' }));
    const finish = (failure: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ handler, error: failure });
    };
    const handler = new RequestHandler(responseType !== 'none', finish);
    timer = setTimeout(() => {
      const timeout = Object.assign(new Error(`request timeout after ${limit} ms`), { code: 'K6_TIMEOUT' });
      if (handler.abort) handler.abort(timeout);
      else finish(timeout);
    }, limit);
    signal?.addEventListener('abort', onAbort, { once: true });
    (client as HttpClient).agent.dispatch(
      { origin: target.origin, path: `${target.pathname}${target.search}`, method: verb, headers, body: encoded.data, headersTimeout: 0, bodyTimeout: 0 },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  });
  return record(run, verb, href, headers, encoded.text, encoded.data, responseType, expected, params.tags, handler, error);
}

function record(
  run: RunContext,
  method: string,
  url: string,
  requestHeaders: Record<string, string>,
  requestText: string,
  requestData: string | Buffer | null,
  responseType: ResponseType,
  expected: ExpectedStatuses | null,
  userTags: Record<string, string> | undefined,
  handler: RequestHandler,
  error: (Error & { code?: string }) | undefined,
): Response {
  const end = performance.now();
  const writeStarted = handler.writeStarted || end;
  const written = handler.written || (handler.writeStarted ? end : writeStarted);
  const headersAt = handler.headersAt || end;
  const timings: Timings = {
    blocked: Math.max(0, writeStarted - handler.started - handler.connecting),
    connecting: handler.connecting,
    tls_handshaking: 0,
    sending: Math.max(0, written - writeStarted),
    waiting: Math.max(0, headersAt - written),
    receiving: Math.max(0, end - headersAt),
    duration: 0,
  };
  timings.duration = timings.sending + timings.waiting + timings.receiving;
  const status = error ? 0 : handler.status;
  const code = error ? (error.code === 'K6_TIMEOUT' ? ERROR_CODES.timeout : errorCode(error)) : status >= 400 ? 1000 + status : 0;
  const message = error ? error.message : '';

  let body: string | ArrayBuffer | null = null;
  if (!error && responseType !== 'none') {
    const bytes = handler.chunks.length === 1 ? (handler.chunks[0] as Buffer) : Buffer.concat(handler.chunks);
    body = responseType === 'binary' ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer : bytes.toString('utf8');
  }

  // Tags: the system tags k6 puts on a request, then the script's own (which win).
  const system = run.systemTags;
  const extra: Record<string, string> = {};
  if (system.has('proto')) extra.proto = 'HTTP/1.1';
  if (system.has('method')) extra.method = method;
  if (system.has('status')) extra.status = String(status);
  if (system.has('url')) extra.url = url;
  if (system.has('name')) extra.name = url;
  if (code !== 0 && system.has('error_code')) extra.error_code = String(code);
  if (error && system.has('error')) extra.error = message.slice(0, 120);
  if (expected && system.has('expected_response')) extra.expected_response = String(!error && expected.matches(status));
  if (userTags) Object.assign(extra, userTags);
  const base = run.baseTags();
  const tags = run.tagSet(base, extra);
  const b = run.builtin;
  const now = Date.now();
  run.emit(b.http_reqs, 1, tags, now);
  run.emit(b.http_req_duration, timings.duration, tags, now);
  run.emit(b.http_req_blocked, timings.blocked, tags, now);
  run.emit(b.http_req_connecting, timings.connecting, tags, now);
  run.emit(b.http_req_tls_handshaking, 0, tags, now);
  run.emit(b.http_req_sending, timings.sending, tags, now);
  run.emit(b.http_req_waiting, timings.waiting, tags, now);
  run.emit(b.http_req_receiving, timings.receiving, tags, now);
  if (expected) run.emit(b.http_req_failed, error || !expected.matches(status) ? 1 : 0, tags, now);
  const baseSet = run.tagSet(base);
  const sent = handler.headerBytes + (requestData === null ? 0 : typeof requestData === 'string' ? Buffer.byteLength(requestData) : requestData.length);
  run.emit(b.data_sent, sent, baseSet, now);
  run.emit(b.data_received, handler.receivedBytes, baseSet, now);

  return new Response(
    status,
    handler.statusText ? `${status} ${handler.statusText}` : '',
    handler.rawHeaders,
    body,
    timings,
    url,
    { method, url, headers: requestHeaders, body: requestText },
    message,
    code,
    error ? '' : 'HTTP/1.1',
    handler.remoteAddress,
    handler.remotePort,
  );
}

/** The module's default export, as scripts see `import http from 'k6/http'`. */
const http = { asyncRequest, expectedStatuses, setResponseCallback };
export default http;
