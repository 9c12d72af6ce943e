// experiment: one narrow, steady workload for `perfstack experiment` (docs/performance_optimization_guide.md),
// so an optimisation's off and on arms send exactly the same requests. Run by path; it lives in a
// subfolder, apart from the listed scenarios. PERFSTACK_WORKLOAD picks it:
//   list    GET /api/entities?limit=100 pages (≈ 25 kB of JSON) with PERFSTACK_ACCEPT_ENCODING
//           (default "br, gzip"; compressed bodies are only counted, never parsed)
//   paging  each VU walks the entity list page by page, PERFSTACK_WALK_PAGES deep, then starts
//           again; PERFSTACK_PAGING=offset (offset=) or keyset (after=<next cursor>)
//   search  GET /api/search?q= over a fixed set of 24 terms (the trigram index, the read cache)
//   get     GET /api/entities/:id over ids 1..PERFSTACK_HOT_IDS
import exec from 'k6/execution';
import * as api from '../lib/api.ts';
import { call, jsonBody } from '../lib/http.ts';
import { duration, envInt, vus } from '../lib/env.ts';
import { scenarioOptions } from '../lib/options.ts';
import { randomInt } from '../lib/data.ts';
import { think } from '../lib/workloads.ts';
export { handleSummary } from '../lib/summary.ts';

const WORKLOADS = ['list', 'paging', 'search', 'get'] as const;
type Workload = (typeof WORKLOADS)[number];

function workload(): Workload {
  const value = (__ENV.PERFSTACK_WORKLOAD ?? 'list').trim();
  if (!(WORKLOADS as readonly string[]).includes(value)) throw new Error(`PERFSTACK_WORKLOAD must be one of ${WORKLOADS.join(', ')}, got "${value}"`);
  return value as Workload;
}

function paging(): 'offset' | 'keyset' {
  const value = (__ENV.PERFSTACK_PAGING ?? 'offset').trim();
  if (value !== 'offset' && value !== 'keyset') throw new Error(`PERFSTACK_PAGING must be offset or keyset, got "${value}"`);
  return value;
}

const WORKLOAD = workload();
const PAGING = paging();
const PAGE_SIZE = envInt('PERFSTACK_PAGE_SIZE', 100, 1, 100);
const WALK_PAGES = envInt('PERFSTACK_WALK_PAGES', 200, 1, 100_000);
const HOT_IDS = envInt('PERFSTACK_HOT_IDS', 1000, 1, 10_000_000);
const ACCEPT_ENCODING = (__ENV.PERFSTACK_ACCEPT_ENCODING ?? 'br, gzip').trim();
// Words of the seeded names' syllables (app/seed.ts): fuzzy matches for every term.
const TERMS = ['kalo', 'mira', 'ventor', 'seldra', 'monqui', 'zanpe', 'luxbor', 'fingal', 'henis', 'jorkel', 'limnor', 'ostpra',
  'rinsta', 'tulumb', 'vorwen', 'xilyra', 'cordex', 'elfal', 'grihal', 'ithmar', 'nexori', 'polquo', 'sertan', 'ulzer'];

export const options = scenarioOptions({
  name: `experiment-${WORKLOAD}`,
  scenario: { executor: 'constant-vus', vus: vus(4), duration: duration('10s') },
  // Deep offset pages may miss the latency SLA: that is the effect being measured, not a failure.
  minChecksRate: 0.99,
});

/** Where each VU is in its walk (VUs share one module in perfstack's engine, so key by VU id). */
const walks = new Map<number, { page: number; after: string | null }>();

async function walkStep(): Promise<void> {
  const vu = exec.vu.idInTest;
  const walk = walks.get(vu) ?? { page: 0, after: null };
  if (PAGING === 'offset') {
    await call('GET', '/api/entities', { path: `/api/entities?limit=${PAGE_SIZE}&offset=${walk.page * PAGE_SIZE}` });
    walk.page = walk.page + 1 >= WALK_PAGES ? 0 : walk.page + 1;
  } else {
    const response = await call('GET', '/api/entities', { path: `/api/entities?limit=${PAGE_SIZE}&${walk.after ? `after=${walk.after}` : 'paging=keyset'}` });
    const next = jsonBody<{ next: string | null }>(response)?.next ?? null;
    walk.page += 1;
    walk.after = next && walk.page < WALK_PAGES ? next : null;
    if (walk.after === null) walk.page = 0;
  }
  walks.set(vu, walk);
}

export default async function (): Promise<void> {
  if (WORKLOAD === 'list') {
    const offset = randomInt(0, 9) * PAGE_SIZE;
    await call('GET', '/api/entities', { path: `/api/entities?limit=${PAGE_SIZE}&offset=${offset}`, headers: ACCEPT_ENCODING ? { 'Accept-Encoding': ACCEPT_ENCODING } : {}, responseType: 'binary' });
  } else if (WORKLOAD === 'paging') {
    await walkStep();
  } else if (WORKLOAD === 'search') {
    await api.search(TERMS[randomInt(0, TERMS.length - 1)] as string, 10);
  } else {
    await api.getEntity(randomInt(1, HOT_IDS));
  }
  await think();
}
