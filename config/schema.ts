import { z } from 'zod';
import { HTTP_DURATION_BUCKETS } from '../metrics/index.js';

// One schema for the whole config. Units live in field names (seconds, ratios 0..1) so a
// reader never has to guess whether "500" means milliseconds.

const ratio = z.number().min(0, 'must be a ratio between 0 and 1').max(1, 'must be a ratio between 0 and 1 (99.9 % is 0.999)');
const seconds = z.number().positive('must be a positive number of seconds');
const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes, starting with a letter');
const promDuration = z.string().regex(/^[0-9]+(ms|s|m|h|d|w)$/, 'must be a Prometheus duration such as 30s, 5m or 4h');

export const SEVERITIES = ['critical', 'warning', 'ticket'] as const;
export type Severity = (typeof SEVERITIES)[number];

const latencySla = z
  .object({
    p50Seconds: seconds.optional(),
    p95Seconds: seconds.optional(),
    p99Seconds: seconds.optional(),
  })
  .strict();

const errorRateSla = z
  .object({
    warning: ratio,
    critical: ratio,
  })
  .strict()
  .refine((e) => e.warning < e.critical, { message: 'warning must be below critical', path: ['warning'] });

const serviceSchema = z
  .object({
    name,
    title: z.string().min(1),
    job: z.string().min(1).describe('Prometheus scrape job that exposes the HTTP metrics'),
    team: name.default('platform'),
    scrapeTarget: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:[0-9]+$/, 'must be host:port')
      .optional()
      .describe('host:port inside docker compose; defaults to <job>:8080'),
    routes: z
      .array(z.string().startsWith('/', 'must be a route template starting with /'))
      .default([])
      .describe('route templates that belong to this service; empty means every route of the job'),
    sla: z
      .object({
        latency: latencySla.default({}),
        errorRate: errorRateSla.optional(),
        minThroughputRps: z.number().positive('must be a positive request rate').optional(),
        availability: ratio.optional(),
      })
      .strict(),
  })
  .strict();

const sloSchema = z
  .object({
    name,
    service: z.string(),
    objective: z.number().gt(0, 'must be above 0').lt(1, 'must be below 1 (99.9 % is 0.999)'),
    window: promDuration.default('30d'),
    sli: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('availability') }).strict(),
      z.object({ kind: z.literal('latency'), thresholdSeconds: seconds }).strict(),
    ]),
  })
  .strict();

const databaseSchema = z
  .object({
    avgQuerySeconds: seconds,
    maxQuerySeconds: seconds,
    poolUtilisation: ratio,
    indexUsage: ratio,
    cacheHit: ratio,
    maxPendingRequests: z.number().int().nonnegative().default(0),
    sizeLimitBytes: z.number().int().positive().default(10 * 1024 ** 3),
    team: name.default('database'),
  })
  .strict();

const hostSchema = z.object({ cpu: ratio, memory: ratio, disk: ratio, team: name.default('platform') }).strict();

const routingSchema = z
  .object({
    channel: z.string().startsWith('#', 'must be a Slack channel such as #alerts'),
    groupWait: promDuration,
    groupInterval: promDuration,
    repeatInterval: promDuration,
  })
  .strict();

const teamSchema = z
  .object({
    name,
    channels: z.partialRecord(z.enum(SEVERITIES), z.string().startsWith('#', 'must be a Slack channel such as #alerts')),
  })
  .strict();

const alertingSchema = z
  .object({
    severities: z.object({ critical: routingSchema, warning: routingSchema, ticket: routingSchema }).strict(),
    teams: z.array(teamSchema).default([]),
    groupBy: z.array(z.string()).default(['alertname', 'service', 'severity']),
    slackApiUrlFile: z.string().min(1).default('/run/secrets/slack_api_url'),
  })
  .strict();

const linksSchema = z
  .object({
    grafanaUrl: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).transform((u) => u.replace(/\/+$/, '')),
    runbookUrl: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }),
  })
  .strict();

const scrapeSchema = z
  .object({
    interval: promDuration.default('15s'),
    evaluationInterval: promDuration.default('15s'),
  })
  .strict();

export const configSchema = z
  .object({
    services: z.array(serviceSchema).min(1, 'needs at least one service'),
    slos: z.array(sloSchema).default([]),
    database: databaseSchema,
    host: hostSchema,
    alerting: alertingSchema,
    links: linksSchema,
    scrape: scrapeSchema.default({ interval: '15s', evaluationInterval: '15s' }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.services.forEach((service, i) => {
      if (seen.has(service.name)) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service name "${service.name}"` });
      }
      seen.add(service.name);
    });
    const serviceNames = [...seen];
    const sloNames = new Set<string>();
    config.slos.forEach((slo, i) => {
      if (!seen.has(slo.service)) {
        ctx.addIssue({
          code: 'custom',
          path: ['slos', i, 'service'],
          message: `unknown service "${slo.service}" (known: ${serviceNames.join(', ')})`,
        });
      }
      if (sloNames.has(slo.name)) {
        ctx.addIssue({ code: 'custom', path: ['slos', i, 'name'], message: `duplicate SLO name "${slo.name}"` });
      }
      sloNames.add(slo.name);
      if (slo.sli.kind === 'latency' && !(HTTP_DURATION_BUCKETS as readonly number[]).includes(slo.sli.thresholdSeconds)) {
        ctx.addIssue({
          code: 'custom',
          path: ['slos', i, 'sli', 'thresholdSeconds'],
          message: `must be a histogram bucket boundary so the SLI is exact (one of ${HTTP_DURATION_BUCKETS.join(', ')})`,
        });
      }
    });
    const teamNames = new Set<string>();
    config.alerting.teams.forEach((team, i) => {
      if (teamNames.has(team.name)) {
        ctx.addIssue({ code: 'custom', path: ['alerting', 'teams', i, 'name'], message: `duplicate team "${team.name}"` });
      }
      teamNames.add(team.name);
    });
  });

/** What a user writes: optional fields may be left out. */
export type PerfstackConfigInput = z.input<typeof configSchema>;
/** What every generator receives: validated, with defaults filled in. */
export type PerfstackConfig = z.output<typeof configSchema>;
export type ServiceConfig = PerfstackConfig['services'][number];
export type SloConfig = PerfstackConfig['slos'][number];
export type TeamConfig = PerfstackConfig['alerting']['teams'][number];
