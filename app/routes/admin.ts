// POST/GET /admin/fault: read or replace the fault settings. Bearer adminToken required; without
// a configured adminToken the routes do not exist (404).

import express, { type Express, type RequestHandler } from 'express';
import { FaultConfigError, parseFaultSettings } from '../fault.js';
import { HttpError, ValidationError } from '../http.js';
import { sameSecret } from '../password.js';
import { JSON_LIMIT_BYTES, type AppContext } from '../context.js';
import { bearerToken } from './auth.js';

export function adminRoutes(app: Express, ctx: AppContext): void {
  const { adminToken, fault, log } = ctx;
  if (!adminToken) return;
  const json = express.json({ limit: JSON_LIMIT_BYTES });

  const requireAdmin: RequestHandler = (req, _res, next) => {
    const token = bearerToken(req);
    if (!sameSecret(token, adminToken)) throw new HttpError(401, 'invalid admin token', 'authorization', { 'WWW-Authenticate': 'Bearer' });
    next();
  };

  app.get('/admin/fault', requireAdmin, (_req, res) => {
    res.json(fault.get());
  });

  app.post('/admin/fault', requireAdmin, json, (req, res) => {
    let settings;
    try {
      settings = fault.set(parseFaultSettings(req.body ?? {}));
    } catch (error) {
      if (error instanceof FaultConfigError) throw new ValidationError([{ field: error.field, message: error.message.replace(/^[^:]*: /, '') }]);
      throw error;
    }
    log(`fault: latencyMs=${settings.latencyMs} errorRate=${settings.errorRate}${settings.route ? ` route=${settings.route}` : ''}`);
    res.json(settings);
  });
}
