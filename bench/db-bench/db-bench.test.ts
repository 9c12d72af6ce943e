// db-bench on a real PostgreSQL 15: counts, percentiles, plans, the JSON report, clean-up,
// option errors and the KPI comparison.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type PerfstackConfig } from '../../config/index.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import {
  DB_BENCH_OPERATIONS,
  DbBenchOptionError,
  formatReport,
  kpiBreaches,
  parseDbBenchOptions,
  runDbBench,
  type DbBenchReport,
} from './index.js';

const ITERATIONS = 25;

let server: TestPostgres;
let report: DbBenchReport;
let outDir: string;
let outFile: string;
let config: PerfstackConfig;

const scratchTables = async () =>
  (await server.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'perfstack\\_bench\\_%'`)).map((r) => r.tablename);

beforeAll(async () => {
  [server, config] = await Promise.all([startPostgres(), loadConfig(join(import.meta.dirname, '../../perfstack.config.ts'))]);
  outDir = mkdtempSync(join(tmpdir(), 'perfstack-db-bench-'));
  outFile = join(outDir, 'nested', 'report.json');
  report = await runDbBench({
    url: server.url,
    iterations: ITERATIONS,
    concurrency: 2,
    warmup: 3,
    datasetSize: 5000,
    batchSize: 50,
    output: outFile,
    progress: false,
  });
});

afterAll(async () => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
  await server?.stop();
});

describe('runDbBench on PostgreSQL 15', () => {
  it('runs every operation, each with count = iterations, no errors and ordered percentiles', () => {
    expect(report.operations.map((r) => r.operation)).toEqual([...DB_BENCH_OPERATIONS]);
    for (const r of report.operations) {
      expect(r.count, r.operation).toBe(ITERATIONS);
      expect(r.errors, `${r.operation}: ${r.errorMessages.join('; ')}`).toBe(0);
      expect(r.minMs).toBeGreaterThan(0);
      expect(r.p50Ms, r.operation).toBeLessThanOrEqual(r.p95Ms);
      expect(r.p95Ms, r.operation).toBeLessThanOrEqual(r.p99Ms);
      expect(r.p99Ms, r.operation).toBeLessThanOrEqual(r.maxMs);
      expect(r.meanMs).toBeGreaterThanOrEqual(r.minMs);
      expect(r.meanMs).toBeLessThanOrEqual(r.maxMs);
      expect(r.throughputOpsPerSec).toBeGreaterThan(0);
    }
    const batch = report.operations.find((r) => r.operation === 'copy');
    expect(batch?.rowsPerOp).toBe(50);
  });

  it('the indexed search uses the pg_trgm index and the unindexed one does not', () => {
    const indexed = report.operations.find((r) => r.operation === 'search-index')?.plan;
    const unindexed = report.operations.find((r) => r.operation === 'search-noindex')?.plan;
    expect(indexed?.indexUsed).toBe(true);
    expect(indexed?.indexNames.some((name) => name.endsWith('_search_trgm'))).toBe(true);
    expect(indexed?.scans.join(' ')).toMatch(/Bitmap Index Scan/);
    expect(unindexed?.indexUsed).toBe(false);
    expect(unindexed?.scans.join(' ')).toMatch(/Seq Scan/);
    expect(unindexed?.executionMs).toBeGreaterThan(0);
  });

  it('records the environment a baseline store needs', () => {
    expect(report.environment.postgresVersion).toMatch(/^15\./);
    expect(report.environment.postgresVersionNum).toBeGreaterThanOrEqual(150000);
    expect(report.environment.nodeVersion).toBe(process.version);
    expect(report.environment.cpuCount).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(report.environment.date))).toBe(false);
    expect(report.environment.target).toBe(`127.0.0.1:${server.port}/${server.database}`);
  });

  it('writes the JSON report atomically: parseable, same content, no temporary file left', () => {
    const written = JSON.parse(readFileSync(outFile, 'utf8')) as DbBenchReport;
    expect(written.reportVersion).toBe(1);
    expect(written.operations.map((r) => r.operation)).toEqual(report.operations.map((r) => r.operation));
    expect(written.operations[0]?.p50Ms).toBe(report.operations[0]?.p50Ms);
    expect(readdirSync(join(outDir, 'nested'))).toEqual(['report.json']);
  });

  it('drops its scratch tables afterwards', async () => {
    expect(await scratchTables()).toEqual([]);
  });

  it('drops its scratch tables when the run is aborted half-way', async () => {
    const controller = new AbortController();
    const run = runDbBench({
      url: server.url,
      iterations: 2000,
      concurrency: 2,
      warmup: 0,
      operations: 'insert,select',
      progress: false,
      signal: controller.signal,
    });
    // Abort once the tables exist and the benchmark is under way.
    for (let i = 0; i < 100 && (await scratchTables()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await scratchTables()).length).toBeGreaterThan(0);
    controller.abort(new Error('stop now'));
    await expect(run).rejects.toThrow('stop now');
    expect(await scratchTables()).toEqual([]);
  });

  it('formats a readable table', () => {
    const text = formatReport(report);
    expect(text).toContain('PostgreSQL 15.');
    for (const op of DB_BENCH_OPERATIONS) expect(text).toContain(op);
    expect(text).toMatch(/search-index\s+index used: yes/);
    expect(text).toMatch(/search-noindex\s+index used: no/);
  });
});

describe('kpiBreaches', () => {
  it('flags a breach against a deliberately tiny threshold', () => {
    const tiny = { ...config, database: { ...config.database, avgQuerySeconds: 1e-9, maxQuerySeconds: 1e-9 } };
    const breaches = kpiBreaches(report, tiny);
    expect(breaches.map((b) => b.kpi)).toContain('avgQuerySeconds');
    expect(breaches.filter((b) => b.kpi === 'maxQuerySeconds').map((b) => b.operation)).toContain('select');
    expect(breaches.find((b) => b.kpi === 'avgQuerySeconds')?.message).toMatch(/database\.avgQuerySeconds/);
  });

  it('finds none with generous thresholds', () => {
    const generous = { ...config, database: { ...config.database, avgQuerySeconds: 60, maxQuerySeconds: 600 } };
    expect(kpiBreaches(report, generous)).toEqual([]);
  });

  it('flags an indexed search that did not use its index, and failed iterations', () => {
    const generous = { database: { ...config.database, avgQuerySeconds: 60, maxQuerySeconds: 600 } };
    const broken: DbBenchReport = {
      ...report,
      operations: report.operations.map((r) =>
        r.operation === 'search-index' && r.plan ? { ...r, plan: { ...r.plan, indexUsed: false, indexNames: [] } } : r.operation === 'copy' ? { ...r, errors: 2, errorMessages: ['boom'] } : r,
      ),
    };
    expect(kpiBreaches(broken, generous).map((b) => `${b.kpi}:${b.operation}`)).toEqual(['indexUsage:search-index', 'errors:copy']);
  });
});

describe('parseDbBenchOptions', () => {
  const url = 'postgres://u@127.0.0.1:5432/db';
  const flagOf = (raw: unknown) => {
    try {
      parseDbBenchOptions(raw);
    } catch (error) {
      expect(error).toBeInstanceOf(DbBenchOptionError);
      return (error as DbBenchOptionError).message;
    }
    throw new Error('expected an error');
  };

  it('fills defaults and accepts CLI strings', () => {
    const options = parseDbBenchOptions({ url, iterations: '200', concurrency: '8', operations: 'copy, batch-insert' });
    expect(options).toMatchObject({ iterations: 200, concurrency: 8, warmup: 50, datasetSize: 50000, batchSize: 100 });
    expect(options.operations).toEqual(['batch-insert', 'copy']);
    expect(parseDbBenchOptions({ url }).operations).toEqual([...DB_BENCH_OPERATIONS]);
    expect(parseDbBenchOptions({ url, operations: 'all' }).operations).toEqual([...DB_BENCH_OPERATIONS]);
  });

  it('names the flag in every error', () => {
    expect(flagOf({ url, iterations: -5 })).toMatch(/^--iterations: must be at least 1, got -5/);
    expect(flagOf({ url, iterations: 'many' })).toMatch(/^--iterations: /);
    expect(flagOf({ url, operations: 'select,frobnicate' })).toMatch(/^--operations: unknown operation "frobnicate"/);
    expect(flagOf({ url, datasetSize: 0 })).toMatch(/^--dataset-size: /);
    expect(flagOf({ url, concurrency: 1.5 })).toMatch(/^--concurrency: must be a whole number/);
    expect(flagOf({ url, warmup: -1 })).toMatch(/^--warmup: /);
    expect(flagOf({})).toMatch(/^--url: is required/);
    expect(flagOf({ url: 'mysql://x/y' })).toMatch(/^--url: must be a postgres/);
    expect(flagOf({ url, loops: 3 })).toMatch(/^--loops: unknown option/);
  });

  it('runDbBench rejects bad options before connecting', async () => {
    await expect(runDbBench({ url, iterations: -1, progress: false })).rejects.toThrow(/--iterations/);
  });
});
