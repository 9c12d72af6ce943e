// Fuzzy search and batch resolution by trigram similarity (pg_trgm), served by the GIN index on
// entities.name: `name % $1` is the indexable operator; similarity() orders the matches.

import express, { type Express } from 'express';
import { z } from 'zod';
import { sql, transaction } from '../database.js';
import { parse } from '../http.js';
import { JSON_LIMIT_BYTES, MAX_RESOLVE_CANDIDATES, type AppContext } from '../context.js';
import type { ReadCache } from '../cache/index.js';

const searchQuerySchema = z.object({
  q: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  limit: z.coerce.number().int('must be a whole number').min(1).max(100).default(10),
});

/** pg_trgm's own default for `%`. */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.3;

const resolveSchema = z
  .object({
    candidates: z
      .array(z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'))
      .min(1, 'must hold at least one name')
      .max(MAX_RESOLVE_CANDIDATES, `must hold at most ${MAX_RESOLVE_CANDIDATES} names`),
    // Below 0.1 `%` matches nearly every row and the index stops helping.
    threshold: z.number().min(0.1, 'must be between 0.1 and 1').max(1, 'must be between 0.1 and 1').default(DEFAULT_SIMILARITY_THRESHOLD),
  })
  .strict();

interface MatchRow {
  id: string;
  name: string;
  category: string;
  score: number;
}

interface SearchItem {
  id: number;
  name: string;
  category: string;
  score: number;
}

export function searchRoutes(app: Express, ctx: AppContext, cache: ReadCache): void {
  const { pool, faulty } = ctx;
  const json = express.json({ limit: JSON_LIMIT_BYTES });

  app.get('/api/search', faulty, async (req, res) => {
    const start = performance.now();
    const query = parse(searchQuerySchema, req.query, 'query');
    // Cached by (q, limit); every entity write starts a new search generation (docs/caching.md).
    const { value: items, result } = await cache.read<SearchItem[]>('search', [query.q, query.limit], async () => {
      const { rows } = await pool.query<MatchRow>(
        sql(
          'search.similar',
          `SELECT id, name, category, similarity(name, $1)::float8 AS score
             FROM entities
            WHERE name % $1
            ORDER BY score DESC, id
            LIMIT $2`,
          [query.q, query.limit],
        ),
      );
      return rows.map((r) => ({ id: Number(r.id), name: r.name, category: r.category, score: r.score }));
    });
    res.json({ query: query.q, items: items ?? [] });
    cache.observeSearch(result, (performance.now() - start) / 1000);
  });

  app.post('/api/resolve', faulty, json, async (req, res) => {
    const input = parse(resolveSchema, req.body);
    // `%` uses pg_trgm.similarity_threshold; set it for this transaction only, so the index
    // honours the caller's threshold (a filter on similarity() alone could not use the index).
    const rows = await transaction(pool, 'resolve', async (client) => {
      await client.query(sql('resolve.threshold', "SELECT set_config('pg_trgm.similarity_threshold', $1, true)", [String(input.threshold)]));
      const result = await client.query<MatchRow & { ord: string; candidate: string }>(
        sql(
          'resolve.best_match',
          `SELECT c.ord, c.candidate, m.id, m.name, m.category, m.score
             FROM unnest($1::text[]) WITH ORDINALITY AS c(candidate, ord)
             LEFT JOIN LATERAL (
               SELECT e.id, e.name, e.category, similarity(e.name, c.candidate)::float8 AS score
                 FROM entities e
                WHERE e.name % c.candidate
                ORDER BY score DESC, e.id
                LIMIT 1
             ) m ON true
            ORDER BY c.ord`,
          [input.candidates],
        ),
      );
      return result.rows;
    });
    res.json({
      threshold: input.threshold,
      results: rows.map((r) => ({
        candidate: r.candidate,
        match: r.id === null ? null : { id: Number(r.id), name: r.name, category: r.category, score: r.score },
      })),
    });
  });
}
