// The fault switch: added latency and injected 500s, off by default, for showing alerts and
// dashboards react. Set from the environment (faultFromEnv) or at run time via POST /admin/fault.
//
// The fault runs as the first handler of each API route (/api/*), so injected errors and latency
// are recorded under the real http_route. Health, /metrics, /admin/* and unmatched paths never get
// it (the exemption below is a second guard in case the handler is attached there).

import type { RequestHandler } from 'express';
import { z } from 'zod';

export interface FaultSettings {
  /** Milliseconds added before the request is handled; 0 = none. */
  latencyMs: number;
  /** Share of requests answered with 500, 0..1; 0 = none. */
  errorRate: number;
  /** Only requests whose path starts with this prefix are affected, e.g. "/api/search". Default: all. */
  route?: string;
}

export interface FaultSwitch {
  /** The current settings (a copy). */
  get(): FaultSettings;
  /** Replaces the settings (fields left out are off); throws an Error naming the field when invalid. */
  set(settings: Partial<FaultSettings>): FaultSettings;
  /** Turns every fault off. */
  reset(): void;
  /** Whether any fault is on. */
  readonly active: boolean;
}

export const NO_FAULT: Readonly<FaultSettings> = Object.freeze({ latencyMs: 0, errorRate: 0 });

/** Upper bound of the injected latency (longer ones would look like a hung service, not a slow one). */
export const MAX_FAULT_LATENCY_MS = 60_000;

export const faultSettingsSchema = z
  .object({
    latencyMs: z.number().int('must be a whole number of milliseconds').min(0).max(MAX_FAULT_LATENCY_MS).default(0),
    errorRate: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0),
    route: z.string().startsWith('/', 'must start with "/"').max(200).optional(),
  })
  .strict();

export class FaultConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'FaultConfigError';
  }
}

function parseSettings(input: unknown, fieldName: (key: string) => string): FaultSettings {
  const parsed = faultSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.map(String).join('.') || (issue && 'keys' in issue ? String((issue as { keys: string[] }).keys[0]) : '');
    const field = fieldName(key);
    throw new FaultConfigError(field, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  const { latencyMs, errorRate, route } = parsed.data;
  return route === undefined || route === '' ? { latencyMs, errorRate } : { latencyMs, errorRate, route };
}

export const FAULT_ENV = {
  latencyMs: 'PERFSTACK_FAULT_LATENCY_MS',
  errorRate: 'PERFSTACK_FAULT_ERROR_RATE',
  route: 'PERFSTACK_FAULT_ROUTE',
} as const;

/**
 * Reads PERFSTACK_FAULT_LATENCY_MS, PERFSTACK_FAULT_ERROR_RATE and PERFSTACK_FAULT_ROUTE.
 * Unset or empty variables mean "off"; a bad value throws an Error naming the variable.
 */
export function faultFromEnv(env: Record<string, string | undefined>): FaultSettings {
  const input: Record<string, unknown> = {};
  for (const key of ['latencyMs', 'errorRate'] as const) {
    const raw = env[FAULT_ENV[key]]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new FaultConfigError(FAULT_ENV[key], `${FAULT_ENV[key]}: must be a number, got "${raw}"`);
    input[key] = value;
  }
  const route = env[FAULT_ENV.route]?.trim();
  if (route) input.route = route;
  return parseSettings(input, (key) => FAULT_ENV[key as keyof typeof FAULT_ENV] ?? key);
}

/** Validates settings given as JSON (the admin endpoint); the error names the field. */
export function parseFaultSettings(input: unknown): FaultSettings {
  return parseSettings(input, (key) => key || 'body');
}

/** Paths the fault never touches: scraping and switching the fault off must keep working. */
const EXEMPT = ['/metrics', '/admin/'];

export interface FaultController extends FaultSwitch {
  /** Route-level handler: runs first on every route it is attached to. */
  handler: RequestHandler;
}

export function createFaultSwitch(initial: Partial<FaultSettings> = NO_FAULT, random: () => number = Math.random): FaultController {
  let settings = parseFaultSettings(initial);
  const isOn = () => settings.latencyMs > 0 || settings.errorRate > 0;

  const handler: RequestHandler = (req, res, next) => {
    const current = settings;
    if (!(current.latencyMs > 0 || current.errorRate > 0)) return next();
    const path = req.path;
    if (EXEMPT.some((p) => path === p || path.startsWith(p))) return next();
    if (current.route && !path.startsWith(current.route)) return next();
    const act = () => {
      if (current.errorRate > 0 && random() < current.errorRate) {
        if (!res.headersSent) res.status(500).json({ error: 'injected fault' });
        return;
      }
      next();
    };
    if (current.latencyMs > 0) {
      const timer = setTimeout(act, current.latencyMs);
      // A client that gives up does not need its fault served.
      res.once('close', () => clearTimeout(timer));
    } else act();
  };

  return {
    handler,
    get: () => ({ ...settings }),
    set(next) {
      settings = parseFaultSettings(next);
      return { ...settings };
    },
    reset() {
      settings = { ...NO_FAULT };
    },
    get active() {
      return isOn();
    },
  };
}
