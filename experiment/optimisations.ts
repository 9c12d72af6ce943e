// The optimisations `perfstack experiment` can switch, and what "off" and "on" mean for each: flags of
// the reference service (`perfstack app`), settings of the experiment workload
// (k6/scenarios/experiments/experiment.ts), or an index dropped and re-created in the database.

import type { KpiName } from '../regression/index.js';

export type Arm = 'off' | 'on';
export const ARMS: readonly Arm[] = ['off', 'on'];

/** The workloads of k6/scenarios/experiments/experiment.ts (PERFSTACK_WORKLOAD). */
export const WORKLOADS = ['list', 'paging', 'search', 'get'] as const;
export type Workload = (typeof WORKLOADS)[number];

export class ExperimentOptionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    // Named like commander's error so the CLI exits 2 with the message.
    this.name = 'InvalidArgumentError';
  }
}

export type Optimisation =
  | { kind: 'compression' }
  | { kind: 'keyset-pagination' }
  | { kind: 'cache' }
  | { kind: 'index'; index: string };

/** What one arm changes. */
export interface ArmSettings {
  /** Extra flags of `perfstack app`. */
  appArgs: string[];
  /** Variables of the workload script (k6 -e). */
  scenarioEnv: Record<string, string>;
  /** Whether the index of an index experiment exists during this arm. */
  index?: { name: string; present: boolean };
}

export interface OptimisationPlan {
  optimisation: Optimisation;
  /** "compression", "keyset-pagination", "cache", "index:<name>": also the branch label. */
  name: string;
  /** Safe in a testid. */
  slug: string;
  /** The default workload of k6/scenarios/experiments/experiment.ts. */
  workload: Workload;
  /** The KPI the verdict is about, and its endpoint (route template). */
  kpi: KpiName;
  endpoint: string;
  /** One sentence: what the arms differ in. */
  description: string;
  arm(arm: Arm): ArmSettings;
}

const INDEX_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Workload and endpoint for the indexes the reference service's queries depend on. */
const KNOWN_INDEXES: Record<string, { workload: Workload; endpoint: string; env: Record<string, string>; what: string }> = {
  entities_name_trgm_idx: { workload: 'search', endpoint: '/api/search', env: {}, what: 'fuzzy search (name % $1)' },
  entities_created_at_id_idx: { workload: 'paging', endpoint: '/api/entities', env: { PERFSTACK_PAGING: 'keyset' }, what: 'keyset pages in (created_at, id) order' },
  entities_category_idx: { workload: 'list', endpoint: '/api/entities', env: {}, what: 'lists filtered by category' },
};

export const OPTIMISATION_NAMES = ['cache', 'compression', 'keyset-pagination', 'index:<name>'] as const;

/** Parses --optimisation; throws naming the flag. */
export function parseOptimisation(value: string): Optimisation {
  const text = value.trim();
  if (text === 'compression' || text === 'keyset-pagination' || text === 'cache') return { kind: text };
  if (text.startsWith('index:')) {
    const index = text.slice('index:'.length);
    if (!INDEX_NAME.test(index)) {
      throw new ExperimentOptionError('--optimisation', `--optimisation index:<name> needs a plain lower-case PostgreSQL index name such as index:entities_name_trgm_idx, got "${value}"`);
    }
    return { kind: 'index', index };
  }
  throw new ExperimentOptionError('--optimisation', `--optimisation must be one of ${OPTIMISATION_NAMES.join(', ')}, got "${value}"`);
}

/** The plan of an optimisation: which workload exercises it and how each arm is set up. */
export function planFor(optimisation: Optimisation, options: { redisUrl?: string } = {}): OptimisationPlan {
  switch (optimisation.kind) {
    case 'compression':
      return {
        optimisation,
        name: 'compression',
        slug: 'compression',
        workload: 'list',
        kpi: 'latency_p95',
        endpoint: '/api/entities',
        description: 'the service with --no-compression (off) or with config.compression (on); the client offers Accept-Encoding: br, gzip in both',
        arm: (arm) => ({ appArgs: arm === 'off' ? ['--no-compression'] : [], scenarioEnv: {} }),
      };
    case 'keyset-pagination':
      return {
        optimisation,
        name: 'keyset-pagination',
        slug: 'keyset-pagination',
        workload: 'paging',
        kpi: 'latency_p95',
        endpoint: '/api/entities',
        description: 'the same page-by-page walk of the entity list with offset= (off) or after=<cursor> (on)',
        arm: (arm) => ({ appArgs: [], scenarioEnv: { PERFSTACK_PAGING: arm === 'off' ? 'offset' : 'keyset' } }),
      };
    case 'cache': {
      if (!options.redisUrl) throw new ExperimentOptionError('--redis-url', '--optimisation cache needs Redis: pass --redis-url redis://127.0.0.1:PORT (or start the native stack with Redis)');
      const redisUrl = options.redisUrl;
      return {
        optimisation,
        name: 'cache',
        slug: 'cache',
        workload: 'search',
        kpi: 'latency_p95',
        endpoint: '/api/search',
        description: 'the service with --redis-url and --no-cache (off) or with the Redis read cache (on)',
        arm: (arm) => ({ appArgs: arm === 'off' ? ['--redis-url', redisUrl, '--no-cache'] : ['--redis-url', redisUrl], scenarioEnv: {} }),
      };
    }
    case 'index': {
      const known = KNOWN_INDEXES[optimisation.index];
      return {
        optimisation,
        name: `index:${optimisation.index}`,
        slug: `index-${optimisation.index}`.replace(/_/g, '-'),
        workload: known?.workload ?? 'list',
        kpi: 'latency_p95',
        endpoint: known?.endpoint ?? '/api/entities',
        description: `index ${optimisation.index} dropped (off) or present (on)${known ? `; it serves ${known.what}` : ''}`,
        arm: (arm) => ({ appArgs: [], scenarioEnv: { ...(known?.env ?? {}) }, index: { name: optimisation.index, present: arm === 'on' } }),
      };
    }
  }
}

/**
 * The order of the runs: off/on pairs alternating which arm goes first (off on, on off, off on …),
 * so a slow drift of the machine (a warming cache, a neighbour's load) falls on both arms alike.
 */
export function interleavedOrder(runsPerArm: number): Arm[] {
  const order: Arm[] = [];
  for (let pair = 0; pair < runsPerArm; pair++) order.push(...(pair % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)));
  return order;
}
