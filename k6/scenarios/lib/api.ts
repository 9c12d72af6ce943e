// One function per endpoint of the reference service (see app/README.md), each tagged and checked.

import type { RefinedResponse, ResponseType } from 'k6/http';
import { call, jsonBody } from './http.ts';
import { credentials, entities, entity, fileBytes, type EntityInput } from './data.ts';

export interface Entity extends EntityInput {
  id: number;
}

export function listEntities(limit = 20, offset = 0): Entity[] {
  const response = call('GET', '/api/entities', { path: `/api/entities?limit=${limit}&offset=${offset}` });
  return jsonBody<{ items: Entity[] }>(response)?.items ?? [];
}

export function getEntity(id: number): Entity | undefined {
  return jsonBody<Entity>(call('GET', '/api/entities/:id', { path: `/api/entities/${id}` }));
}

export function createEntity(input: EntityInput = entity()): Entity | undefined {
  return jsonBody<Entity>(call('POST', '/api/entities', { json: input, expect: [201] }));
}

export function updateEntity(id: number, input: EntityInput = entity()): Entity | undefined {
  return jsonBody<Entity>(call('PUT', '/api/entities/:id', { path: `/api/entities/${id}`, json: input }));
}

export function deleteEntity(id: number): boolean {
  return call('DELETE', '/api/entities/:id', { path: `/api/entities/${id}`, expect: [204] }).status === 204;
}

export function bulkInsert(mode: 'multirow' | 'copy', count: number): number {
  const response = call('POST', '/api/entities/bulk', { json: { mode, entities: entities(count) }, expect: [201] });
  return jsonBody<{ inserted: number }>(response)?.inserted ?? 0;
}

export function search(q: string, limit = 10): Array<{ id: number; name: string; score: number }> {
  const response = call('GET', '/api/search', { path: `/api/search?q=${encodeURIComponent(q)}&limit=${limit}` });
  return jsonBody<{ items: Array<{ id: number; name: string; score: number }> }>(response)?.items ?? [];
}

export function resolve(candidates: string[], threshold?: number): Array<{ candidate: string; match: unknown }> {
  const response = call('POST', '/api/resolve', { json: threshold === undefined ? { candidates } : { candidates, threshold } });
  return jsonBody<{ results: Array<{ candidate: string; match: unknown }> }>(response)?.results ?? [];
}

export function login(): string | undefined {
  return jsonBody<{ token: string }>(call('POST', '/api/auth/login', { json: credentials() }))?.token;
}

export function logout(token: string): boolean {
  return call('POST', '/api/auth/logout', { headers: { Authorization: `Bearer ${token}` }, expect: [204] }).status === 204;
}

export function uploadFile(size: number): number | undefined {
  const response = call('POST', '/api/files', { body: fileBytes(size), headers: { 'Content-Type': 'application/octet-stream' }, expect: [201] });
  return jsonBody<{ id: number }>(response)?.id;
}

export function downloadFile(id: number): RefinedResponse<'binary'> {
  return call('GET', '/api/files/:id', { path: `/api/files/${id}`, responseType: 'binary' });
}

export function health(): boolean {
  return call('GET', '/health').status === 200;
}

export function healthDatabase(): boolean {
  return call('GET', '/health/database').status === 200;
}

export function page(): RefinedResponse<ResponseType | undefined> {
  return call('GET', '/');
}

export function staticBundle(): RefinedResponse<'binary'> {
  return call('GET', '/static/app.js', { responseType: 'binary' });
}
