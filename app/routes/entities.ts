// Entity CRUD and bulk insert (multi-row INSERT or COPY).

import express, { type Express } from 'express';
import { z } from 'zod';
import { copyIn, copyLine, sql } from '../database.js';
import { HttpError, ValidationError, parse, parseId } from '../http.js';
import { decodeCursor, encodeCursor, type KeysetCursor } from '../pagination.js';
import { JSON_LIMIT_BYTES, MAX_BULK_ROWS, type AppContext } from '../context.js';
import type { ReadCache } from '../cache/index.js';

export const entityInputSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    category: z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters'),
    attributes: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type EntityInput = z.output<typeof entityInputSchema>;

const listQuerySchema = z.object({
  limit: z.coerce.number().int('must be a whole number').min(1).max(100).default(20),
  offset: z.coerce.number().int('must be a whole number').min(0).max(10_000_000).optional(),
  category: z.string().trim().min(1).max(50).optional(),
  /** Keyset paging: `paging=keyset` starts it, `after=<cursor>` (the previous page's `next`) continues it. */
  paging: z.enum(['offset', 'keyset']).optional(),
  after: z.string().max(200, 'is not a valid cursor (too long)').optional(),
});

const bulkSchema = z
  .object({
    mode: z.enum(['multirow', 'copy']),
    entities: z.array(entityInputSchema).min(1, 'must hold at least one entity').max(MAX_BULK_ROWS, `must hold at most ${MAX_BULK_ROWS} entities`),
  })
  .strict();

interface EntityRow {
  id: string;
  name: string;
  category: string;
  attributes: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export interface Entity {
  id: number;
  name: string;
  category: string;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = 'id, name, category, attributes, created_at, updated_at';

export function toEntity(row: EntityRow): Entity {
  return {
    id: Number(row.id),
    name: row.name,
    category: row.category,
    attributes: row.attributes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * One keyset page in (created_at, id) order, served by entities_created_at_id_idx (or, with a
 * category, entities_category_created_at_id_idx): a range scan from the cursor, never OFFSET.
 * One row more than the page tells whether there is a next page.
 */
async function listKeyset(pool: AppContext['pool'], limit: number, category: string | undefined, after: KeysetCursor | undefined): Promise<{ items: Entity[]; limit: number; next: string | null }> {
  const values: unknown[] = [];
  const where: string[] = [];
  if (category !== undefined) {
    values.push(category);
    where.push(`category = $${values.length}`);
  }
  if (after) {
    values.push(after.createdMicros, after.id);
    where.push(`(created_at, id) > (timestamptz 'epoch' + $${values.length - 1}::bigint * interval '1 microsecond', $${values.length}::bigint)`);
  }
  values.push(limit + 1);
  const name = `entities.list_keyset${category !== undefined ? '_by_category' : ''}`;
  const { rows } = await pool.query<EntityRow & { created_micros: string }>(
    sql(name, `SELECT ${COLUMNS}, (extract(epoch from created_at) * 1000000)::bigint::text AS created_micros FROM entities ${where.length ? `WHERE ${where.join(' AND ')} ` : ''}ORDER BY created_at, id LIMIT $${values.length}`, values),
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(toEntity), limit, next: rows.length > limit && last ? encodeCursor({ createdMicros: last.created_micros, id: String(last.id) }) : null };
}

export function entityRoutes(app: Express, ctx: AppContext, cache: ReadCache): void {
  const { pool, faulty } = ctx;
  const json = express.json({ limit: JSON_LIMIT_BYTES });

  app.get('/api/entities', faulty, async (req, res) => {
    const query = parse(listQuerySchema, req.query, 'query');
    if (query.after !== undefined || query.paging === 'keyset') {
      if (query.offset !== undefined) throw new ValidationError([{ field: 'offset', message: 'cannot be combined with keyset paging (after or paging=keyset)' }]);
      if (query.paging === 'offset') throw new ValidationError([{ field: 'after', message: 'cannot be combined with paging=offset' }]);
      res.json(await listKeyset(pool, query.limit, query.category, query.after === undefined ? undefined : decodeCursor(query.after)));
      return;
    }
    query.offset ??= 0;
    const { rows } = query.category
      ? await pool.query<EntityRow>(sql('entities.list_by_category', `SELECT ${COLUMNS} FROM entities WHERE category = $1 ORDER BY id LIMIT $2 OFFSET $3`, [query.category, query.limit, query.offset]))
      : await pool.query<EntityRow>(sql('entities.list', `SELECT ${COLUMNS} FROM entities ORDER BY id LIMIT $1 OFFSET $2`, [query.limit, query.offset]));
    res.json({ items: rows.map(toEntity), limit: query.limit, offset: query.offset });
  });

  app.post('/api/entities', faulty, json, async (req, res) => {
    const input = parse(entityInputSchema, req.body);
    const { rows } = await pool.query<EntityRow>(
      sql('entities.create', `INSERT INTO entities (name, category, attributes) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [input.name, input.category, JSON.stringify(input.attributes)]),
    );
    const entity = toEntity(rows[0] as EntityRow);
    await cache.invalidateEntity(undefined); // a new name can match cached searches
    res.status(201).location(`/api/entities/${entity.id}`).json(entity);
  });

  // Registered before /api/entities/:id (it is a POST, so the two never compete, but keep it first).
  app.post('/api/entities/bulk', faulty, json, async (req, res) => {
    const input = parse(bulkSchema, req.body);
    let inserted: number;
    if (input.mode === 'multirow') {
      const values: unknown[] = [];
      const tuples = input.entities.map((e, i) => {
        values.push(e.name, e.category, JSON.stringify(e.attributes));
        return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3}::jsonb)`;
      });
      const result = await pool.query(sql('entities.bulk_multirow', `INSERT INTO entities (name, category, attributes) VALUES ${tuples.join(', ')}`, values));
      inserted = result.rowCount ?? 0;
    } else {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        // One COPY statement is atomic on its own: all rows or none.
        inserted = await copyIn(
          client,
          'entities.bulk_copy',
          'COPY entities (name, category, attributes) FROM STDIN',
          [input.entities.map((e) => copyLine([e.name, e.category, JSON.stringify(e.attributes)])).join('')],
        );
      } catch (error) {
        // After a failed COPY the connection state is uncertain: do not reuse it.
        broken = error as Error;
        throw error;
      } finally {
        client.release(broken);
      }
    }
    await cache.invalidateEntity(undefined);
    res.status(201).json({ mode: input.mode, inserted });
  });

  app.get('/api/entities/:id', faulty, async (req, res) => {
    const id = parseId(req);
    // Only found entities are cached: a 404 must not outlive the entity's creation.
    const { value: entity } = await cache.read<Entity>('entity', id, async () => {
      const { rows } = await pool.query<EntityRow>(sql('entities.get', `SELECT ${COLUMNS} FROM entities WHERE id = $1`, [id]));
      return rows[0] ? toEntity(rows[0]) : undefined;
    });
    if (!entity) throw new HttpError(404, `entity ${id} not found`);
    res.json(entity);
  });

  app.put('/api/entities/:id', faulty, json, async (req, res) => {
    const id = parseId(req);
    const input = parse(entityInputSchema, req.body);
    const { rows } = await pool.query<EntityRow>(
      sql('entities.update', `UPDATE entities SET name = $2, category = $3, attributes = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, input.name, input.category, JSON.stringify(input.attributes)]),
    );
    if (!rows[0]) throw new HttpError(404, `entity ${id} not found`);
    await cache.invalidateEntity(id);
    res.json(toEntity(rows[0]));
  });

  app.delete('/api/entities/:id', faulty, async (req, res) => {
    const id = parseId(req);
    const result = await pool.query(sql('entities.delete', 'DELETE FROM entities WHERE id = $1', [id]));
    if (!result.rowCount) throw new HttpError(404, `entity ${id} not found`);
    await cache.invalidateEntity(id);
    res.status(204).end();
  });
}
