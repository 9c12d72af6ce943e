// Login (username + password, scrypt) → a session token; logout ends the session.

import express, { type Express, type Request } from 'express';
import { z } from 'zod';
import { sql } from '../database.js';
import { HttpError, parse } from '../http.js';
import { dummyPasswordHash, newSessionToken, tokenDigest, verifyPassword } from '../password.js';
import { JSON_LIMIT_BYTES, SESSION_TTL_SECONDS, type AppContext } from '../context.js';

const loginSchema = z
  .object({
    username: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    password: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  })
  .strict();

const UNAUTHORIZED = { 'WWW-Authenticate': 'Bearer' };

/** The bearer token of a request, or a 401 naming the authorization header. */
export function bearerToken(req: Request): string {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+([A-Za-z0-9._~+/=-]{1,512})\s*$/i.exec(header) : null;
  if (!match) throw new HttpError(401, 'authorization: a Bearer token is required', 'authorization', UNAUTHORIZED);
  return match[1] as string;
}

export function authRoutes(app: Express, ctx: AppContext): void {
  const { pool, faulty } = ctx;
  const json = express.json({ limit: JSON_LIMIT_BYTES });
  let lastCleanup = 0;

  app.post('/api/auth/login', faulty, json, async (req, res) => {
    const input = parse(loginSchema, req.body);
    const { rows } = await pool.query<{ id: string; password_hash: string }>(
      sql('auth.find_user', 'SELECT id, password_hash FROM users WHERE username = $1', [input.username]),
    );
    const user = rows[0];
    // Hash even for an unknown user, so the answer takes as long either way.
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !ok) throw new HttpError(401, 'invalid username or password', undefined, UNAUTHORIZED);

    const token = newSessionToken();
    const { rows: session } = await pool.query<{ expires_at: Date }>(
      sql(
        'auth.create_session',
        `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at`,
        [tokenDigest(token), user.id, SESSION_TTL_SECONDS],
      ),
    );
    // Expired sessions are swept at most once a minute, off the request's critical path.
    if (Date.now() - lastCleanup > 60_000) {
      lastCleanup = Date.now();
      pool.query(sql('auth.expire_sessions', 'DELETE FROM sessions WHERE expires_at < now()')).catch(() => undefined);
    }
    res.json({ token, tokenType: 'Bearer', expiresAt: (session[0] as { expires_at: Date }).expires_at.toISOString() });
  });

  app.post('/api/auth/logout', faulty, async (req, res) => {
    const token = bearerToken(req);
    const result = await pool.query(sql('auth.delete_session', 'DELETE FROM sessions WHERE token_hash = $1 AND expires_at > now()', [tokenDigest(token)]));
    if (!result.rowCount) throw new HttpError(401, 'invalid or expired session token', 'authorization', UNAUTHORIZED);
    res.status(204).end();
  });
}
