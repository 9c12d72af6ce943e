// File upload (raw request body, bounded) and download.

import express, { type Express } from 'express';
import { sql } from '../database.js';
import { HttpError, ValidationError, parseId } from '../http.js';
import { MAX_FILE_BYTES, type AppContext } from '../context.js';

const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(\s*;\s*[a-z0-9_-]+=("[^"\\\r\n]{0,100}"|[a-z0-9!#$&^_.+-]{1,100}))*$/i;

export function fileRoutes(app: Express, ctx: AppContext): void {
  const { pool, faulty } = ctx;
  // Any content type is stored as it is: the body is never interpreted.
  const raw = express.raw({ type: () => true, limit: MAX_FILE_BYTES });

  app.post('/api/files', faulty, raw, async (req, res) => {
    const header = req.get('content-type')?.trim();
    if (header !== undefined && header !== '' && (header.length > 200 || !CONTENT_TYPE.test(header))) {
      throw new ValidationError([{ field: 'content-type', message: 'must be a media type such as application/pdf' }]);
    }
    const contentType = header || 'application/octet-stream';
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new ValidationError([{ field: 'body', message: 'must not be empty' }]);
    const { rows } = await pool.query<{ id: string }>(
      sql('files.create', 'INSERT INTO files (content_type, size, content) VALUES ($1, $2, $3) RETURNING id', [contentType, body.length, body]),
    );
    const id = Number((rows[0] as { id: string }).id);
    res.status(201).location(`/api/files/${id}`).json({ id, size: body.length, contentType });
  });

  app.get('/api/files/:id', faulty, async (req, res) => {
    const id = parseId(req);
    const { rows } = await pool.query<{ content_type: string; content: Buffer }>(
      sql('files.get', 'SELECT content_type, content FROM files WHERE id = $1', [id]),
    );
    const file = rows[0];
    if (!file) throw new HttpError(404, `file ${id} not found`);
    res.set({
      'Content-Type': file.content_type,
      'Content-Length': String(file.content.length),
      // Uploaded content is served as a download, never rendered as a page of this origin.
      'Content-Disposition': `attachment; filename="file-${id}"`,
      'Cache-Control': 'private, no-store',
    });
    res.end(file.content);
  });
}
