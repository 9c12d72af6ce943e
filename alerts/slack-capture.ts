import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

// Stands in for a Slack incoming webhook: answers "ok" like Slack does and keeps every message,
// so tests (and the native stack when no real webhook is configured) can see what on-call would see.
// For fault tests it can also fail the first N posts (all, or those matching a predicate) with a
// chosen status, as Slack does when it has an outage, and records every attempt it answered.

/** The parts of a Slack webhook payload that Alertmanager's slack_configs fill in. */
export interface SlackAttachment {
  title?: string;
  title_link?: string;
  text?: string;
  color?: string;
  fallback?: string;
  [field: string]: unknown;
}

export interface SlackPayload {
  channel?: string;
  username?: string;
  text?: string;
  attachments?: SlackAttachment[];
  [field: string]: unknown;
}

export interface CapturedSlackMessage {
  receivedAt: Date;
  path: string;
  payload: SlackPayload;
}

/** Every POST with a valid payload, accepted or failed on purpose, and the status it was answered with. */
export interface SlackAttempt extends CapturedSlackMessage {
  status: number;
}

/** Fail the next `count` posts (that `match`, when given) with `status` before accepting again. */
export interface SlackFailureMode {
  count: number;
  /** The HTTP status of the failed answers, e.g. 500 or 503 (Alertmanager retries 5xx). */
  status: number;
  /** Only posts whose payload matches are failed and counted; the others are accepted. Default: every post. */
  match?: (payload: SlackPayload) => boolean;
}

export interface SlackCaptureOptions {
  /** 0 (the default) lets the kernel choose a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
  /** Fail the first posts from the start; by default every post is accepted. */
  failFirst?: SlackFailureMode;
}

export interface SlackCapture {
  /** The webhook URL to give Alertmanager. */
  url: string;
  /** Every message received (accepted with 200) so far, oldest first. */
  messages: CapturedSlackMessage[];
  /** Every post with a valid payload, including those failed on purpose, oldest first. */
  attempts: SlackAttempt[];
  /** From now on, fail the next posts as `mode` says (replaces any failure mode still pending). */
  failNext(mode: SlackFailureMode): void;
  /** Resolves with the first message, already received or still to come, that matches. */
  waitFor(predicate: (message: CapturedSlackMessage) => boolean, timeoutMs: number): Promise<CapturedSlackMessage>;
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function describe(message: CapturedSlackMessage): string {
  const titles = (message.payload.attachments ?? []).map((attachment) => attachment.title).join(' / ');
  return `${message.payload.channel ?? '(no channel)'}: ${titles || message.payload.text || '(empty)'}`;
}

export async function startSlackCapture(options: SlackCaptureOptions = {}): Promise<SlackCapture> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => console.log(`[slack-capture] ${line}`));
  const messages: CapturedSlackMessage[] = [];
  const attempts: SlackAttempt[] = [];
  let failing: { left: number; status: number; match?: (payload: SlackPayload) => boolean } | undefined;
  const arm = (mode: SlackFailureMode | undefined) => {
    if (mode && (!Number.isInteger(mode.count) || mode.count < 0)) throw new Error(`slack-capture: failure count must be a whole number >= 0, got ${mode.count}`);
    if (mode && (!Number.isInteger(mode.status) || mode.status < 100 || mode.status > 599)) throw new Error(`slack-capture: failure status must be an HTTP status, got ${mode.status}`);
    failing = mode && mode.count > 0 ? { left: mode.count, status: mode.status, match: mode.match } : undefined;
  };
  arm(options.failFirst);
  const waiters = new Set<(message: CapturedSlackMessage) => void>();

  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        if (request.method === 'GET' && request.url === '/health') {
          response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        if (request.method !== 'POST') {
          response.writeHead(405, { 'content-type': 'text/plain' }).end('only POST is accepted');
          return;
        }
        let payload: SlackPayload;
        try {
          payload = JSON.parse(body) as SlackPayload;
        } catch {
          response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
          return;
        }
        const message: CapturedSlackMessage = { receivedAt: new Date(), path: request.url ?? '/', payload };
        if (failing && (!failing.match || failing.match(payload))) {
          const status = failing.status;
          failing.left -= 1;
          if (failing.left === 0) failing = undefined;
          attempts.push({ ...message, status });
          log(`failed on purpose with ${status}: ${describe(message)}`);
          response.writeHead(status, { 'content-type': 'text/plain' }).end('internal_error');
          return;
        }
        attempts.push({ ...message, status: 200 });
        messages.push(message);
        const texts = (payload.attachments ?? []).map((attachment) => attachment.text ?? '').filter(Boolean);
        log(`received ${describe(message)}${texts.map((text) => `\n${text.replace(/^/gm, '    ')}`).join('')}`);
        for (const notify of waiters) notify(message);
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      },
      () => response.writeHead(400).end(),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}/services/perfstack-capture`;
  log(`listening on ${url}`);

  return {
    url,
    messages,
    attempts,
    failNext: arm,
    waitFor(predicate, timeoutMs) {
      const earlier = messages.find(predicate);
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve, reject) => {
        const onMessage = (message: CapturedSlackMessage) => {
          if (!predicate(message)) return;
          waiters.delete(onMessage);
          clearTimeout(timer);
          resolve(message);
        };
        const timer = setTimeout(() => {
          waiters.delete(onMessage);
          const seen = messages.map((message) => `  - ${describe(message)}`).join('\n') || '  (none)';
          reject(new Error(`no matching Slack message within ${timeoutMs} ms; received:\n${seen}`));
        }, timeoutMs);
        waiters.add(onMessage);
      });
    },
    stop() {
      return new Promise((resolve, reject) => {
        server.close((error) => {
          if (error) return reject(error);
          log(`stopped after ${messages.length} message(s)`);
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
