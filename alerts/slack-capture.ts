import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

// Stands in for a Slack incoming webhook: answers "ok" like Slack does and keeps every message,
// so tests (and the native stack when no real webhook is configured) can see what on-call would see.

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

export interface SlackCaptureOptions {
  /** 0 (the default) lets the kernel choose a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export interface SlackCapture {
  /** The webhook URL to give Alertmanager. */
  url: string;
  /** Every message received so far, oldest first. */
  messages: CapturedSlackMessage[];
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
