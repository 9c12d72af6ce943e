// npx tsx bench/cache.ts — what the Redis read cache saves per request.
//
// One PostgreSQL 15 (seeded 'small' by default, PERFSTACK_BENCH_SEED=medium for 100k entities), one
// redis-server, two instances of the reference service on it: "cached" (redisUrl) and its peer
// "uncached" (the same Redis URL with cache: false). Each round sends the same sequential requests
// (a fixed set of searches and entity reads, already cached on the cached instance) to both, in
// alternating order, one client at a time. Figures: median over rounds of each round's median
// latency, with the rounds' min and max. Results in bench/results/cache.json.

import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, seed, startApp, type RunningApp, type SeedSize } from '../app/index.js';
import { parseConfig } from '../config/index.js';
import projectConfig from '../perfstack.config.js';
import { freePort, redisUrl, startRedisServer } from '../stack/index.js';
import { startPostgres } from '../test/support/postgres.js';
import { median } from './stats.js';
import { writeJsonAtomic } from './write-json.js';

const ROUNDS = Number(process.env.PERFSTACK_BENCH_ROUNDS ?? 7);
const SEED = (process.env.PERFSTACK_BENCH_SEED ?? 'small') as SeedSize;
const TERMS = ['alpha', 'bravo', 'lomar', 'stal', 'zen', 'oran', 'quix', 'mira', 'tarn', 'vel'];
const IDS = Array.from({ length: 20 }, (_, i) => i + 1);

const config = parseConfig(projectConfig, 'perfstack.config.ts');
const postgres = await startPostgres();
const redisDir = await mkdtemp(join(tmpdir(), 'perfstack-bench-redis-'));
const redisPort = await freePort();
const redis = await startRedisServer({ port: redisPort, dir: redisDir });
const apps: RunningApp[] = [];
try {
  await migrate(postgres.url);
  await seed(postgres.url, SEED);
  const quiet = () => undefined;
  const cached = await startApp({ databaseUrl: postgres.url, config, redisUrl: redisUrl(redisPort), log: quiet });
  const uncached = await startApp({ databaseUrl: postgres.url, config, redisUrl: redisUrl(redisPort), cache: false, log: quiet });
  apps.push(cached, uncached);
  const paths = { search: TERMS.map((q) => `/api/search?q=${q}&limit=10`), entity: IDS.map((id) => `/api/entities/${id}`) };

  const timeAll = async (app: RunningApp, list: string[]): Promise<number[]> => {
    const out: number[] = [];
    for (const path of list) {
      const start = performance.now();
      const res = await fetch(`${app.url}${path}`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      out.push(performance.now() - start);
    }
    return out;
  };
  // Warm both (the cached one fills Redis; both warm their pools and JIT).
  for (const app of apps) for (const list of Object.values(paths)) await timeAll(app, list);

  const roundMedians: Record<string, Record<string, number[]>> = { search: { cached: [], uncached: [] }, entity: { cached: [], uncached: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ([['cached', cached], ['uncached', uncached]] as const) : ([['uncached', uncached], ['cached', cached]] as const);
    for (const [what, list] of Object.entries(paths)) {
      for (const [name, app] of order) roundMedians[what]![name]!.push(median(await timeAll(app, list)));
    }
  }
  const summary = (values: number[]) => ({ medianMs: Number(median(values).toFixed(3)), minMs: Number(Math.min(...values).toFixed(3)), maxMs: Number(Math.max(...values).toFixed(3)) });
  const result = {
    benchmark: 'read cache: cached vs uncached (peer: the same service with cache: false)',
    date: new Date().toISOString(),
    seed: SEED,
    rounds: ROUNDS,
    requestsPerRoundAndArm: { search: paths.search.length, entity: paths.entity.length },
    note: 'sequential requests over loopback on a shared 2-core machine; median over rounds of each round’s median, with the rounds’ min and max',
    search: { cached: summary(roundMedians.search!.cached!), uncached: summary(roundMedians.search!.uncached!) },
    entity: { cached: summary(roundMedians.entity!.cached!), uncached: summary(roundMedians.entity!.uncached!) },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${await writeJsonAtomic('bench/results/cache.json', result)}`);
} finally {
  for (const app of apps) await app.stop();
  await redis.stop();
  await rm(redisDir, { recursive: true, force: true });
  await postgres.stop();
}
