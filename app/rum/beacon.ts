// The RUM beacon: what the page sends (app/rum/client/rum.ts) and how the service checks it.
// Every check names the field it failed on; nothing from the beacon becomes a label except the
// page template, and that only when the config lists it.

import { z } from 'zod';

/** The Web Vitals web-vitals reports, by the names it gives them. */
export const VITAL_NAMES = ['LCP', 'FCP', 'INP', 'CLS', 'TTFB'] as const;
export type VitalName = (typeof VITAL_NAMES)[number];

/** Largest body a beacon may have. A page sends at most a handful of metrics (~100 bytes each). */
export const RUM_BODY_LIMIT_BYTES = 8 * 1024;

/** Most metrics in one beacon: five vitals, each possibly reported again when a page is hidden twice. */
export const MAX_METRICS_PER_BEACON = 20;

/** Largest accepted timing, in milliseconds (10 minutes): beyond it the value is a clock bug, not a page load. */
export const MAX_TIMING_MS = 600_000;

/** Largest accepted CLS: layout-shift scores above this are not a real page. */
export const MAX_CLS = 100;

/** Why a beacon was refused: the `reason` label of rum_beacons_rejected_total (a fixed set). */
export const REJECT_REASONS = ['content_type', 'too_large', 'not_json', 'invalid'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const metricSchema = z
  .object({
    name: z.enum(VITAL_NAMES, { error: `must be one of ${VITAL_NAMES.join(', ')}` }),
    // zod's number() refuses NaN and ±Infinity.
    value: z.number({ error: 'must be a finite number' }).min(0, 'must not be negative'),
    rating: z.enum(['good', 'needs-improvement', 'poor']).optional(),
    id: z.string().max(100).optional(),
    navigationType: z.string().max(32).optional(),
  })
  .strict()
  .superRefine((metric, ctx) => {
    const [limit, what] = metric.name === 'CLS' ? [MAX_CLS, 'a layout-shift score'] : [MAX_TIMING_MS, 'milliseconds'];
    if (metric.value > limit) ctx.addIssue({ code: 'custom', path: ['value'], message: `must be at most ${limit} (${what})` });
  });

const beaconSchema = z
  .object({
    page: z.string().max(64, 'must be a page template name of at most 64 characters').optional(),
    metrics: z
      .array(metricSchema)
      .min(1, 'must hold at least one metric')
      .max(MAX_METRICS_PER_BEACON, `must hold at most ${MAX_METRICS_PER_BEACON} metrics`),
  })
  .strict();

export interface VitalSample {
  name: VitalName;
  /** Seconds for timings, the score for CLS. */
  value: number;
}

export interface AcceptedBeacon {
  ok: true;
  /** A configured page template, or "other". */
  page: string;
  samples: VitalSample[];
}

export interface RejectedBeacon {
  ok: false;
  reason: RejectReason;
  /** The first bad field, e.g. `metrics.2.value`, or `body` / `content-type`. */
  field: string;
  message: string;
}

/**
 * Checks a parsed JSON beacon. `pages` is the allow-list of page templates; any other page name
 * (a URL, a typo, an attack) is counted as `otherPage`.
 */
export function readBeacon(input: unknown, pages: ReadonlySet<string>, otherPage: string): AcceptedBeacon | RejectedBeacon {
  const result = beaconSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0]!);
    const field = path.length > 0 ? path.join('.') : 'body';
    return { ok: false, reason: 'invalid', field, message: `${field}: ${issue.message}` };
  }
  const page = result.data.page !== undefined && pages.has(result.data.page) ? result.data.page : otherPage;
  const samples = result.data.metrics.map((m) => ({ name: m.name, value: m.name === 'CLS' ? m.value : m.value / 1000 }));
  return { ok: true, page, samples };
}
