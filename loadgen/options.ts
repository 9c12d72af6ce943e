// k6 options as the engine reads them: the script's `options` export, k6's shortcuts (vus,
// duration, iterations, stages) turned into a scenario, defaults filled in, and every field checked
// with an error that names it (exit 104, as k6's InvalidConfig).

import { z } from 'zod';
import { parseDuration } from './durations.js';
import { EXIT_CODES, LoadgenError } from './errors.js';

export const EXECUTORS = ['constant-vus', 'ramping-vus', 'constant-arrival-rate', 'ramping-arrival-rate', 'per-vu-iterations', 'shared-iterations'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

const duration = (fallback?: string) => {
  const schema = z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${String(value)}" is not a duration such as 30s, 1m30s or 500ms` });
      return z.NEVER;
    }
    return ms;
  });
  return fallback === undefined ? schema : schema.default(parseDuration(fallback) as number);
};
const count = (min = 0) => z.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`);
const stage = z.strictObject({ duration: duration(), target: count(0) });

const common = {
  startTime: duration('0s'),
  gracefulStop: duration('30s'),
  exec: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be the name of an exported function').default('default'),
  env: z.record(z.string(), z.string()).default({}),
  tags: z.record(z.string(), z.string()).default({}),
  // k6's per-scenario browser options; the engine only needs to know a browser is wanted.
  options: z.looseObject({}).optional(),
};

const scenarioSchemas = {
  'constant-vus': z.strictObject({ executor: z.literal('constant-vus'), ...common, vus: count(1).default(1), duration: duration() }),
  'ramping-vus': z.strictObject({ executor: z.literal('ramping-vus'), ...common, startVUs: count(0).default(1), stages: z.array(stage).min(1, 'needs at least one stage'), gracefulRampDown: duration('30s') }),
  'constant-arrival-rate': z.strictObject({
    executor: z.literal('constant-arrival-rate'),
    ...common,
    rate: z.number().positive('must be above 0'),
    timeUnit: duration('1s'),
    duration: duration(),
    preAllocatedVUs: count(1),
    maxVUs: count(1).optional(),
  }),
  'ramping-arrival-rate': z.strictObject({
    executor: z.literal('ramping-arrival-rate'),
    ...common,
    startRate: z.number().min(0).default(0),
    timeUnit: duration('1s'),
    stages: z.array(z.strictObject({ duration: duration(), target: z.number().min(0) })).min(1, 'needs at least one stage'),
    preAllocatedVUs: count(1),
    maxVUs: count(1).optional(),
  }),
  'per-vu-iterations': z.strictObject({ executor: z.literal('per-vu-iterations'), ...common, vus: count(1).default(1), iterations: count(1).default(1), maxDuration: duration('10m') }),
  'shared-iterations': z.strictObject({ executor: z.literal('shared-iterations'), ...common, vus: count(1).default(1), iterations: count(1).default(1), maxDuration: duration('10m') }),
} as const;

export type ScenarioConfig = { name: string } & (
  | z.output<(typeof scenarioSchemas)['constant-vus']>
  | z.output<(typeof scenarioSchemas)['ramping-vus']>
  | z.output<(typeof scenarioSchemas)['constant-arrival-rate']>
  | z.output<(typeof scenarioSchemas)['ramping-arrival-rate']>
  | z.output<(typeof scenarioSchemas)['per-vu-iterations']>
  | z.output<(typeof scenarioSchemas)['shared-iterations']>
);

const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

const topLevel = z.looseObject({
  scenarios: z.record(z.string(), z.unknown()).optional(),
  vus: count(1).optional(),
  duration: duration().optional(),
  iterations: count(1).optional(),
  stages: z.array(stage).optional(),
  thresholds: z.record(z.string(), z.unknown()).default({}),
  summaryTrendStats: z.array(z.string().regex(/^(avg|min|med|max|count|sum|p\(\d+(\.\d+)?\))$/, 'must be avg, min, med, max, count, sum or p(N)')).default(DEFAULT_TREND_STATS),
  setupTimeout: duration('60s'),
  teardownTimeout: duration('60s'),
  systemTags: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.string()).default({}),
  discardResponseBodies: z.boolean().default(false),
});

export interface ConsolidatedOptions {
  scenarios: ScenarioConfig[];
  thresholds: Record<string, unknown>;
  summaryTrendStats: string[];
  setupTimeoutMs: number;
  teardownTimeoutMs: number;
  systemTags: string[] | undefined;
  tags: Record<string, string>;
  discardResponseBodies: boolean;
  /** What the script exported, for exec.test.options and the summary. */
  raw: Record<string, unknown>;
}

/** Command-line overrides with k6's meaning: --vus/--duration/--iterations replace the scenarios. */
export interface ShortcutOverrides {
  vus?: number;
  duration?: string;
  iterations?: number;
}

function fail(path: PropertyKey[], message: string): never {
  const field = path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : /^[A-Za-z_$][\w$]*$/.test(String(part)) ? `${out}.${String(part)}` : `${out}[${JSON.stringify(part)}]`), 'options');
  throw new LoadgenError(EXIT_CODES.invalidConfig, `${field}: ${message}`);
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, path: PropertyKey[]): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) fail(path, 'invalid');
  const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
  fail([...path, ...issue.path], message);
}

export function parseScenario(name: string, value: unknown): ScenarioConfig {
  if (value === null || typeof value !== 'object') fail(['scenarios', name], 'must be an object with an executor');
  const executor = (value as { executor?: unknown }).executor;
  if (typeof executor !== 'string' || !(EXECUTORS as readonly string[]).includes(executor)) {
    const hint = executor === 'externally-controlled' ? ' (externally-controlled is not supported by perfstack’s engine)' : '';
    fail(['scenarios', name, 'executor'], `unknown executor ${JSON.stringify(executor)}${hint}; valid: ${EXECUTORS.join(', ')}`);
  }
  const parsed = { name, ...parseWith(scenarioSchemas[executor as ExecutorName], value, ['scenarios', name]) } as ScenarioConfig;
  if ((parsed.executor === 'constant-arrival-rate' || parsed.executor === 'ramping-arrival-rate') && parsed.maxVUs !== undefined && parsed.maxVUs < parsed.preAllocatedVUs) {
    fail(['scenarios', name, 'maxVUs'], `must be at least preAllocatedVUs (${parsed.preAllocatedVUs})`);
  }
  return parsed;
}

export function consolidateOptions(exported: unknown, overrides: ShortcutOverrides = {}): ConsolidatedOptions {
  if (exported !== undefined && (exported === null || typeof exported !== 'object' || Array.isArray(exported))) fail([], 'the exported options must be an object');
  const raw = { ...((exported ?? {}) as Record<string, unknown>) };
  const options = parseWith(topLevel, raw, []);
  let scenarios: ScenarioConfig[];
  const override = overrides.vus !== undefined || overrides.duration !== undefined || overrides.iterations !== undefined;
  if (override) {
    // k6: a shortcut on the command line replaces whatever the script configured.
    const vus = overrides.vus ?? 1;
    if (overrides.iterations !== undefined) scenarios = [parseScenario('default', { executor: 'shared-iterations', vus, iterations: overrides.iterations, ...(overrides.duration ? { maxDuration: overrides.duration } : {}) })];
    else scenarios = [parseScenario('default', { executor: 'constant-vus', vus, duration: overrides.duration ?? '10s' })];
  } else if (options.scenarios && Object.keys(options.scenarios).length > 0) {
    if (options.vus !== undefined || options.duration !== undefined || options.stages !== undefined || options.iterations !== undefined) {
      fail(['scenarios'], 'cannot be combined with the vus, duration, iterations or stages shortcuts; put them in a scenario');
    }
    scenarios = Object.entries(options.scenarios).map(([name, value]) => {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) fail(['scenarios', name], 'a scenario name may only use letters, digits, "_" and "-"');
      return parseScenario(name, value);
    });
  } else if (raw.stages !== undefined) {
    scenarios = [parseScenario('default', { executor: 'ramping-vus', startVUs: raw.vus ?? 1, stages: raw.stages })];
  } else if (raw.iterations !== undefined) {
    scenarios = [parseScenario('default', { executor: 'shared-iterations', vus: raw.vus ?? 1, iterations: raw.iterations, ...(raw.duration !== undefined ? { maxDuration: raw.duration } : {}) })];
  } else if (raw.duration !== undefined) {
    scenarios = [parseScenario('default', { executor: 'constant-vus', vus: raw.vus ?? 1, duration: raw.duration })];
  } else {
    // k6's default: one VU, one iteration.
    scenarios = [parseScenario('default', { executor: 'per-vu-iterations', vus: raw.vus ?? 1, iterations: 1 })];
  }
  return {
    scenarios,
    thresholds: options.thresholds,
    summaryTrendStats: options.summaryTrendStats,
    setupTimeoutMs: options.setupTimeout,
    teardownTimeoutMs: options.teardownTimeout,
    systemTags: options.systemTags,
    tags: options.tags,
    discardResponseBodies: options.discardResponseBodies,
    raw,
  };
}
