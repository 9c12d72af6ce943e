// Request helpers: every request carries the route template as its `name` and `url` tags (so the
// remote-write series stay bounded however many ids are used) and `service` when the route belongs
// to a service of perfstack.config.ts (so the SLA sub-metric thresholds apply). Each helper checks
// the status it expects; check names are bounded too. Requests use k6's asynchronous API, so the
// same file runs on k6 and on perfstack's engine (whose VUs share one event loop).

import { check } from 'k6';
import http, { type RefinedParams, type RefinedResponse, type RequestBody, type ResponseType } from 'k6/http';
import { ROUTE_SERVICE } from './catalog.ts';
import { baseUrl } from './env.ts';

const BASE = baseUrl();

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export function routeTags(template: string): Record<string, string> {
  if (!(template in ROUTE_SERVICE)) throw new Error(`unknown route template ${template}: add it to k6/scenarios/lib/catalog.ts`);
  const service = ROUTE_SERVICE[template];
  return service ? { service, name: template, url: template } : { name: template, url: template };
}

export interface CallOptions<RT extends ResponseType | undefined = undefined> {
  /** The concrete path; defaults to the template. */
  path?: string;
  body?: RequestBody | null;
  json?: unknown;
  headers?: Record<string, string>;
  /** Statuses that count as success (for the check and for http_req_failed). */
  expect?: number[];
  responseType?: RT;
}

/** One tagged, checked request to the service under test. */
export async function call<RT extends ResponseType | undefined = undefined>(
  method: Method,
  template: string,
  options: CallOptions<RT> = {},
): Promise<RefinedResponse<RT>> {
  const expect = options.expect ?? [200];
  const headers: Record<string, string> = { ...options.headers };
  let body: RequestBody | null = options.body ?? null;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const params = {
    headers,
    tags: routeTags(template),
    responseCallback: http.expectedStatuses(...expect),
    timeout: '10s',
    // k6 rejects an explicit `responseType: undefined`.
    ...(options.responseType === undefined ? {} : { responseType: options.responseType }),
  } as RefinedParams<RT>;
  const response = await http.asyncRequest(method, `${BASE}${options.path ?? template}`, body, params);
  check(response, { [`${method} ${template} ${expect.join('|')}`]: (r) => expect.includes(r.status) }, { name: template });
  return response;
}

/** The parsed JSON body of a successful response, or undefined. */
export function jsonBody<T>(response: RefinedResponse<ResponseType | undefined>): T | undefined {
  if (response.status < 200 || response.status >= 300 || typeof response.body !== 'string' || response.body === '') return undefined;
  try {
    return JSON.parse(response.body) as T;
  } catch {
    return undefined;
  }
}
