// One function per endpoint of the reference service (see app/README.md), each tagged and checked.
// All asynchronous: k6's async HTTP API, which perfstack's engine and k6 both run.

import type { RefinedResponse, ResponseType } from 'k6/http';
import { call, jsonBody } from './http.ts';
import { credentials, entities, entity, fileBytes, type EntityInput } from './data.ts';

export interface Entity extends EntityInput {
  id: number;
}

export async function listEntities(limit = 20, offset = 0): Promise<Entity[]> {
  const response = await call('GET', '/api/entities', { path: `/api/entities?limit=${limit}&offset=${offset}` });
  return jsonBody<{ items: Entity[] }>(response)?.items ?? [];
}

export async function getEntity(id: number): Promise<Entity | undefined> {
  return jsonBody<Entity>(await call('GET', '/api/entities/:id', { path: `/api/entities/${id}` }));
}

export async function createEntity(input: EntityInput = entity()): Promise<Entity | undefined> {
  return jsonBody<Entity>(await call('POST', '/api/entities', { json: input, expect: [201] }));
}

export async function updateEntity(id: number, input: EntityInput = entity()): Promise<Entity | undefined> {
  return jsonBody<Entity>(await call('PUT', '/api/entities/:id', { path: `/api/entities/${id}`, json: input }));
}

export async function deleteEntity(id: number): Promise<boolean> {
  return (await call('DELETE', '/api/entities/:id', { path: `/api/entities/${id}`, expect: [204] })).status === 204;
}

export async function bulkInsert(mode: 'multirow' | 'copy', count: number): Promise<number> {
  const response = await call('POST', '/api/entities/bulk', { json: { mode, entities: entities(count) }, expect: [201] });
  return jsonBody<{ inserted: number }>(response)?.inserted ?? 0;
}

export async function search(q: string, limit = 10): Promise<Array<{ id: number; name: string; score: number }>> {
  const response = await call('GET', '/api/search', { path: `/api/search?q=${encodeURIComponent(q)}&limit=${limit}` });
  return jsonBody<{ items: Array<{ id: number; name: string; score: number }> }>(response)?.items ?? [];
}

export async function resolve(candidates: string[], threshold?: number): Promise<Array<{ candidate: string; match: unknown }>> {
  const response = await call('POST', '/api/resolve', { json: threshold === undefined ? { candidates } : { candidates, threshold } });
  return jsonBody<{ results: Array<{ candidate: string; match: unknown }> }>(response)?.results ?? [];
}

export async function login(): Promise<string | undefined> {
  return jsonBody<{ token: string }>(await call('POST', '/api/auth/login', { json: credentials() }))?.token;
}

export async function logout(token: string): Promise<boolean> {
  return (await call('POST', '/api/auth/logout', { headers: { Authorization: `Bearer ${token}` }, expect: [204] })).status === 204;
}

export async function uploadFile(size: number): Promise<number | undefined> {
  const response = await call('POST', '/api/files', { body: fileBytes(size), headers: { 'Content-Type': 'application/octet-stream' }, expect: [201] });
  return jsonBody<{ id: number }>(response)?.id;
}

export function downloadFile(id: number): Promise<RefinedResponse<'binary'>> {
  return call('GET', '/api/files/:id', { path: `/api/files/${id}`, responseType: 'binary' });
}

export async function health(): Promise<boolean> {
  return (await call('GET', '/health')).status === 200;
}

export async function healthDatabase(): Promise<boolean> {
  return (await call('GET', '/health/database')).status === 200;
}

export function page(): Promise<RefinedResponse<ResponseType | undefined>> {
  return call('GET', '/');
}

export function staticBundle(): Promise<RefinedResponse<'binary'>> {
  return call('GET', '/static/app.js', { responseType: 'binary' });
}
