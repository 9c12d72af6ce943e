// Network metrics of a context's pages, as k6's browser module reports them: for every request
// the page makes, browser_http_req_duration (request start to the last byte of the response),
// browser_http_req_failed (a response status outside 200–399, or a network error), and
// browser_data_sent / browser_data_received (headers + body bytes on the wire).
import type { BrowserContext as PwContext, Request as PwRequest } from 'playwright-core';
import { BROWSER_METRICS, type EmitFn } from './metrics.js';
import { withTimeout } from './timeout.js';

/** Playwright lower-cases the DevTools resource types; k6 reports them as Chromium names them. */
const RESOURCE_TYPES: Readonly<Record<string, string>> = {
  document: 'Document', stylesheet: 'Stylesheet', image: 'Image', media: 'Media', font: 'Font',
  script: 'Script', texttrack: 'TextTrack', xhr: 'XHR', fetch: 'Fetch', prefetch: 'Prefetch',
  eventsource: 'EventSource', websocket: 'WebSocket', manifest: 'Manifest', signedexchange: 'SignedExchange',
  ping: 'Ping', cspviolationreport: 'CSPViolationReport', preflight: 'Preflight', other: 'Other',
};

function resourceType(request: PwRequest): string {
  const type = request.resourceType();
  return RESOURCE_TYPES[type] ?? (type.charAt(0).toUpperCase() + type.slice(1));
}

/** Requests k6 does not measure: inline data, and in-memory blobs. */
function measured(url: string): boolean {
  return !url.startsWith('data:') && !url.startsWith('blob:');
}

export class NetworkMetrics {
  readonly #emit: EmitFn;
  readonly #pending = new Set<Promise<void>>();

  constructor(context: PwContext, emit: EmitFn) {
    this.#emit = emit;
    context.on('requestfinished', (request) => this.#track(this.#finished(request)));
    context.on('requestfailed', (request) => this.#track(this.#failed(request)));
  }

  /** Resolves when every request seen so far has been measured. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track(work: Promise<void>): void {
    const p = work.catch(() => undefined); // a closed context cancels the size lookups: nothing to report
    this.#pending.add(p);
    void p.then(() => this.#pending.delete(p));
  }

  #tags(request: PwRequest, status: number): Record<string, string> {
    const url = request.url();
    return { method: request.method(), url, name: url, status: String(status), resource_type: resourceType(request) };
  }

  async #finished(request: PwRequest): Promise<void> {
    if (!measured(request.url())) return;
    const response = await request.response();
    await this.#responded(request, response?.status() ?? 0);
  }

  async #failed(request: PwRequest): Promise<void> {
    if (!measured(request.url())) return;
    // Chromium also "fails" a subresource it dropped after its response arrived (a stylesheet or
    // script answered with 404 ends as net::ERR_ABORTED): measure the response it got.
    const response = await withTimeout(request.response().catch(() => null), 1000);
    if (response) return this.#responded(request, response.status());
    // A request the page or the browser cancelled (navigation away, page closed) did not fail.
    if ((request.failure()?.errorText ?? '').includes('ERR_ABORTED')) return;
    // No response at all (refused, DNS, TLS…): status 0, as k6 tags a request that got none.
    this.#emit(BROWSER_METRICS.httpReqFailed, 1, this.#tags(request, 0));
  }

  async #responded(request: PwRequest, status: number): Promise<void> {
    const tags = this.#tags(request, status);
    const timing = request.timing();
    const end = timing.responseEnd >= 0 ? timing.responseEnd : timing.responseStart;
    if (end >= 0) this.#emit(BROWSER_METRICS.httpReqDuration, end, tags);
    this.#emit(BROWSER_METRICS.httpReqFailed, status >= 200 && status < 400 ? 0 : 1, tags);
    const sizes = await request.sizes().catch(() => null);
    if (sizes === null) return;
    const sent = sizes.requestHeadersSize + sizes.requestBodySize;
    const received = sizes.responseHeadersSize + sizes.responseBodySize;
    if (sent > 0) this.#emit(BROWSER_METRICS.dataSent, sent, tags);
    if (received > 0) this.#emit(BROWSER_METRICS.dataReceived, received, tags);
  }
}
