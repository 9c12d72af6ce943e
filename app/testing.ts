// Helpers for the app tests (not part of the service).

import { parseConfig, type PerfstackConfig } from '../config/index.js';
import projectConfig from '../perfstack.config.js';

export function testConfig(): PerfstackConfig {
  return parseConfig(projectConfig, 'perfstack.config.ts');
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  ms: number;
}

export interface CallOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  token?: string;
}

/** One HTTP request; the body is parsed as JSON when it is JSON. */
export async function call<T = any>(base: string, method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const start = performance.now();
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  const ms = performance.now() - start;
  let parsed: unknown = text;
  if (res.headers.get('content-type')?.includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text, ms };
}
