// npx tsx bench/optimisations.ts [compression keyset-pagination index:entities_name_trgm_idx cache …]
//
// Measures each optimisation with `perfstack experiment`'s runExperiment on a throwaway stack: a
// PostgreSQL 15 seeded 'medium' (100,000 entities, the same rows every time), a Redis for the cache,
// the reference service started afresh for every run, perfstack's engine on loopback. Each
// optimisation: PERFSTACK_EXPERIMENT_RUNS runs per arm (default 5), off and on interleaved,
// PERFSTACK_EXPERIMENT_DURATION each (default 10s). The verdicts go to
// bench/results/optimisations.json (one entry per optimisation, replaced when measured again).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, seed } from '../app/index.js';
import { parseConfig } from '../config/index.js';
import { formatExperiment, parseOptimisation, recordExperiment, runExperiment } from '../experiment/index.js';
import projectConfig from '../perfstack.config.js';
import { freePort, redisUrl, startRedisServer, type RunningProcess } from '../stack/index.js';
import { startPostgres } from '../test/support/postgres.js';
import { REPO_ROOT, RESULTS_DIR, benchEnvironment } from './load-support.js';

const DEFAULT_OPTIMISATIONS = ['compression', 'keyset-pagination', 'index:entities_name_trgm_idx', 'cache'];
const optimisations = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_OPTIMISATIONS;
const parsed = optimisations.map((name) => parseOptimisation(name));
const runsPerArm = Number(process.env.PERFSTACK_EXPERIMENT_RUNS ?? 5);
const duration = process.env.PERFSTACK_EXPERIMENT_DURATION ?? '10s';
const warmup = process.env.PERFSTACK_EXPERIMENT_WARMUP ?? '3s';
const resultsFile = join(RESULTS_DIR, 'optimisations.json');

const config = parseConfig(projectConfig, 'perfstack.config.ts');
const postgres = await startPostgres();
const folder = await mkdtemp(join(tmpdir(), 'perfstack-optimisations-'));
let redis: RunningProcess | undefined;
try {
  await migrate(postgres.url);
  const seeded = await seed(postgres.url, 'medium');
  console.log(`seeded ${seeded.rows} entities`);
  const version = (await postgres.query<{ server_version: string }>('SHOW server_version'))[0]?.server_version;
  let redisAt: string | undefined;
  if (parsed.some((o) => o.kind === 'cache')) {
    const port = await freePort();
    redis = await startRedisServer({ port, dir: folder });
    redisAt = redisUrl(port);
  }
  for (const optimisation of parsed) {
    const environment = benchEnvironment(version);
    const result = await runExperiment({
      optimisation,
      config,
      configPath: join(REPO_ROOT, 'perfstack.config.ts'),
      databaseUrl: postgres.url,
      storeUrl: postgres.url,
      ...(redisAt ? { redisUrl: redisAt } : {}),
      runsPerArm,
      duration,
      warmup,
      // The throwaway database of this benchmark: the index experiment may drop and re-create.
      allowSchemaChanges: true,
      outputDir: join(folder, 'runs'),
      log: (line) => console.log(line),
    });
    console.log(`\n${formatExperiment(result)}\n`);
    await recordExperiment(resultsFile, result, { ...environment, dataset: { size: seeded.size, rows: seeded.rows } });
  }
  console.log(`verdicts in ${resultsFile}`);
} finally {
  await redis?.stop();
  await postgres.stop();
  await rm(folder, { recursive: true, force: true });
}
