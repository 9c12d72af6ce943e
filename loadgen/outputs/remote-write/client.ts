import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { compress, encodeWriteRequest } from './encode.js';
import type { Labels, RemoteWriteSeries } from './series.js';

// Posts WriteRequests to Prometheus. A failed push never throws: a load test must not stop
// because its metrics sink is down. Failures are counted and the next push carries on.

export type PushResult = 'ok' | 'failed' | 'skipped';

export interface RemoteWriteStats {
  /** Requests Prometheus accepted (2xx), stale-marker pushes included. */
  pushes: number;
  /** Requests that failed: connection refused, timeout, or a non-2xx answer. */
  failedPushes: number;
  /** Periodic pushes not sent because the previous one was still in flight. */
  skippedPushes: number;
  /** The latest failure: `HTTP <status>: <first line of the body>` or the network error. */
  lastError?: string;
}

export interface RemoteWriteClientOptions {
  /** Prometheus' base URL (http://127.0.0.1:9090) or its full write URL (…/api/v1/write). */
  url: string;
  /** Per request, connecting included. Default 5 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

const WRITE_PATH = '/api/v1/write';

/** Accepts a Prometheus base URL or a K6_PROMETHEUS_RW_SERVER_URL-style write URL. */
export function writeUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith(WRITE_PATH) ? trimmed : trimmed + WRITE_PATH;
}

export class RemoteWriteClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly agent: Agent;
  private inFlight: Promise<PushResult> | undefined;
  private closed = false;
  private readonly counts = { pushes: 0, failedPushes: 0, skippedPushes: 0 };
  private lastError: string | undefined;
  private failing = false;

  constructor(options: RemoteWriteClientOptions) {
    this.url = writeUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.log = options.log ?? (() => {});
    // Our own pool, so close() can release its keep-alive sockets.
    this.agent = new Agent({ connect: { timeout: this.timeoutMs } });
  }

  stats(): RemoteWriteStats {
    return { ...this.counts, ...(this.lastError === undefined ? {} : { lastError: this.lastError }) };
  }

  /**
   * Sends one sample per series. Skips (and counts) when the previous push is still in flight:
   * every value is cumulative, so the next push carries what the skipped one would have.
   */
  push(series: readonly RemoteWriteSeries[], timestampMs: number): Promise<PushResult> {
    if (this.closed || this.inFlight) {
      this.counts.skippedPushes++;
      return Promise.resolve('skipped');
    }
    return this.send(encodeWriteRequest(series, timestampMs));
  }

  /** Marks every series stale. Waits for an in-flight push instead of skipping: it is the last word. */
  async pushStale(series: readonly { labels: Labels }[], timestampMs: number): Promise<PushResult> {
    await this.idle();
    if (this.closed) return 'skipped';
    return this.send(encodeWriteRequest(series, timestampMs, { stale: true }));
  }

  /** Resolves once no push is in flight (each is bounded by the timeout). */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Stops accepting pushes and waits up to `boundMs` for the one in flight, then releases sockets. */
  async close(boundMs = 5_000): Promise<void> {
    this.closed = true;
    if (this.inFlight) await Promise.race([this.idle(), sleep(boundMs, undefined, { ref: false })]);
    if (this.inFlight) await this.agent.destroy();
    else await this.agent.close();
  }

  private send(body: Uint8Array): Promise<PushResult> {
    const attempt = this.post(body).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = attempt;
    return attempt;
  }

  private async post(body: Uint8Array): Promise<PushResult> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          'Content-Encoding': 'snappy',
          'Content-Type': 'application/x-protobuf',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
          'User-Agent': 'perfstack-loadgen',
        },
        body: compress(body),
      });
      const text = await response.body.text(); // always drained, so the socket is reused
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.counts.pushes++;
        if (this.failing) this.log(`remote-write: ${this.url} accepts pushes again`);
        this.failing = false;
        return 'ok';
      }
      return this.fail(`HTTP ${response.statusCode}: ${text.split('\n', 1)[0]?.trim().slice(0, 300) ?? ''}`);
    } catch (error) {
      return this.fail(this.describe(error));
    }
  }

  private fail(message: string): PushResult {
    this.counts.failedPushes++;
    // One line per new kind of failure, not one per interval.
    if (!this.failing || message !== this.lastError) this.log(`remote-write: push to ${this.url} failed: ${message}`);
    this.failing = true;
    this.lastError = message;
    return 'failed';
  }

  private describe(error: unknown): string {
    if (error instanceof Error) {
      if (error.name === 'TimeoutError' || error.name === 'ConnectTimeoutError') return `timeout after ${this.timeoutMs} ms`;
      const code = (error as { code?: unknown }).code;
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return error.message ? error.message + cause : typeof code === 'string' ? code : error.name;
    }
    return String(error);
  }
}
