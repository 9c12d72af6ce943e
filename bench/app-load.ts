// The reference service under load on loopback: requests per second and latency percentiles for
// search and CRUD, on the 100k-entity dataset, each judged against its SLA from the config.
//
//   npx tsx bench/app-load.ts        (part of `npm run bench`; writes bench/results/app-load.json)
//
// The service runs as its own process (`perfstack app`), as in production; the load comes from
// this process with a fixed number of concurrent keep-alive clients for a fixed time, so it is
// bounded and stops by itself. PERFSTACK_BENCH_SECONDS (default 10) and PERFSTACK_BENCH_CLIENTS
// (default 32) change the shape.

import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/index.js';
import defaults from '../perfstack.config.js';
import { migrate, seed } from '../app/index.js';
import { freePort, startProcess } from '../stack/index.js';
import { startPostgres } from '../test/support/postgres.js';
import { summariseLatencies } from './stats.js';
import { writeJsonAtomic } from './write-json.js';

const SECONDS = Number(process.env.PERFSTACK_BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.PERFSTACK_BENCH_CLIENTS ?? 32);
const RESULT_FILE = join(import.meta.dirname, 'results', 'app-load.json');
const config = parseConfig(defaults);

interface Scenario {
  name: string;
  service: string;
  request: (i: number) => { path: string; init?: RequestInit };
}

async function drive(baseUrl: string, scenario: Scenario, seconds: number) {
  const latenciesMs: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const { path, init } = scenario.request(counter++);
        const began = performance.now();
        try {
          const response = await fetch(`${baseUrl}${path}`, init);
          await response.arrayBuffer();
          if (response.status >= 400) errors++;
        } catch {
          errors++;
        }
        latenciesMs.push(performance.now() - began);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { requests: latenciesMs.length, errors, rps: latenciesMs.length / elapsed, latencyMs: summariseLatencies(latenciesMs) };
}

const postgres = await startPostgres();
let app: Awaited<ReturnType<typeof startProcess>> | undefined;
try {
  await migrate(postgres.url);
  const seeded = await seed(postgres.url, 'medium');
  const names = (await postgres.query<{ name: string }>('SELECT name FROM entities ORDER BY id LIMIT 200')).map((row) => row.name);
  const maxId = Number((await postgres.query<{ max: string }>('SELECT max(id) AS max FROM entities'))[0]?.max ?? 1);

  const port = await freePort();
  app = await startProcess({
    name: 'perfstack app',
    command: process.execPath,
    args: [join(import.meta.dirname, '../bin/perfstack.js'), 'app', '--port', String(port), '--pool-max', '16'],
    env: { ...process.env, DATABASE_URL: postgres.url },
    readyUrl: `http://127.0.0.1:${port}/health`,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // A typo'd prefix of a real name: what a person types into a fuzzy search box.
  const searchTerm = (i: number) => {
    const name = names[i % names.length] ?? 'acme';
    return encodeURIComponent(name.slice(0, 8).replace(/.$/, 'x'));
  };
  const scenarios: Scenario[] = [
    { name: 'search', service: 'search', request: (i) => ({ path: `/api/search?q=${searchTerm(i)}&limit=10` }) },
    { name: 'crud-read', service: 'api', request: (i) => ({ path: `/api/entities/${1 + ((i * 7919) % maxId)}` }) },
    { name: 'crud-create', service: 'api', request: (i) => ({ path: '/api/entities', init: json({ name: `load test entity ${i}`, category: 'organisation', attributes: { i } }) }) },
  ];

  const results = [];
  for (const scenario of scenarios) {
    await drive(baseUrl, scenario, Math.min(2, SECONDS)); // warm-up: JIT, pool and caches
    const measured = await drive(baseUrl, scenario, SECONDS);
    const sla = config.services.find((s) => s.name === scenario.service)?.sla;
    const p95TargetMs = (sla?.latency.p95Seconds ?? NaN) * 1000;
    const minRps = sla?.minThroughputRps;
    results.push({
      scenario: scenario.name,
      service: scenario.service,
      ...measured,
      sla: { p95TargetMs, minThroughputRps: minRps ?? null },
      // The named comparison: measured against the SLA target in the same run (< 1 is within it).
      p95OverTarget: measured.latencyMs.p95Ms / p95TargetMs,
      rpsOverTarget: minRps ? measured.rps / minRps : null,
    });
    console.log(
      `${scenario.name.padEnd(12)} ${measured.rps.toFixed(0).padStart(6)} req/s  p50 ${measured.latencyMs.p50Ms.toFixed(1)} ms  p95 ${measured.latencyMs.p95Ms.toFixed(1)} ms (SLA ${p95TargetMs} ms, ×${(measured.latencyMs.p95Ms / p95TargetMs).toFixed(2)})  p99 ${measured.latencyMs.p99Ms.toFixed(1)} ms  errors ${measured.errors}`,
    );
  }
  await writeJsonAtomic(RESULT_FILE, {
    benchmark: 'app-load',
    dataset: { size: seeded.size, rows: seeded.rows },
    clients: CLIENTS,
    secondsPerScenario: SECONDS,
    environment: { nodeVersion: process.version, cpuCount: availableParallelism(), cpuModel: cpus()[0]?.model.trim(), date: new Date().toISOString() },
    results,
  });
  console.log(`wrote ${RESULT_FILE}`);
} finally {
  await app?.stop();
  await postgres.stop();
}
