// The browser's side of the viewer's server: dashboards, datasources and the Prometheus proxy.

import type { Dashboard, DashboardEntry, DatasourceInfo } from '../shared/model.js';
import type { PromData } from '../shared/data.js';

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url}: HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  if (!response.ok && !(typeof body === 'object' && body !== null && 'status' in body)) throw new Error(`${url}: HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body as T;
}

export const listDashboards = () => json<DashboardEntry[]>('/api/dashboards');
export const getDashboard = (uid: string) => json<Dashboard>(`/api/dashboards/uid/${encodeURIComponent(uid)}`);
export const listDatasources = () => json<DatasourceInfo[]>('/api/datasources');

/** An error Prometheus (or the proxy) answered, with its type. */
export class PromError extends Error {
  constructor(
    message: string,
    readonly errorType: string,
  ) {
    super(message);
  }
}

/** GET through the proxy; resolves the answer's data, rejects with Prometheus's own error text. */
export async function prom<T>(datasourceUid: string, path: string, params: [string, string][]): Promise<T> {
  const query = new URLSearchParams(params).toString();
  const body = await json<{ status: string; data: T; error?: string; errorType?: string }>(`/api/datasources/proxy/uid/${encodeURIComponent(datasourceUid)}/api/v1/${path}?${query}`);
  if (body.status !== 'success') throw new PromError(body.error ?? 'query failed', body.errorType ?? 'error');
  return body.data;
}

export const rangeQuery = (ds: string, expr: string, start: number, end: number, step: number) =>
  prom<PromData>(ds, 'query_range', [
    ['query', expr],
    ['start', String(start)],
    ['end', String(end)],
    ['step', String(step)],
  ]);

export const instantQuery = (ds: string, expr: string, time: number) =>
  prom<PromData>(ds, 'query', [
    ['query', expr],
    ['time', String(time)],
  ]);

export const labelValues = (ds: string, label: string, match: string | undefined, start: number, end: number) =>
  prom<string[]>(ds, `label/${encodeURIComponent(label)}/values`, [...(match ? [['match[]', match] as [string, string]] : []), ['start', String(Math.floor(start))], ['end', String(Math.ceil(end))]]);

export const labelNames = (ds: string, match: string | undefined, start: number, end: number) =>
  prom<string[]>(ds, 'labels', [...(match ? [['match[]', match] as [string, string]] : []), ['start', String(Math.floor(start))], ['end', String(Math.ceil(end))]]);
