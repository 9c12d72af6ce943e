// openBaselineStore(): the runs, KPI values, distributions and pinned baselines of perfstack's
// regression detection, in PostgreSQL. Every import is one transaction: a run is stored with all
// of its KPI values or not at all.

import { hostname } from 'node:os';
import pg from 'pg';
import { isKpiName, type KpiName, type KpiSamples, type KpiValue, type RunMetadata } from '../kpi.js';
import { BaselineStoreError } from './errors.js';
import { kpisFromK6Summary, parseSummaryText } from './k6-summary.js';
import { migrateStore, type StoreMigrateResult } from './migrate.js';
import { kpisFromPrometheus } from './prometheus.js';
import type {
  Baseline,
  BaselineSelector,
  HistogramBucket,
  KpiHistoryPoint,
  ListRunsOptions,
  RunSource,
  RunWithKpis,
  StoredDistribution,
  StoredRun,
} from './types.js';

/** Run metadata for an import: what the source does not say. branch is required. */
export type ImportMetadata = Partial<RunMetadata> & { branch: string; environment?: string };

export interface ImportK6SummaryOptions {
  /** Per-request samples from another source (k6 --out json/csv), stored in the same transaction. */
  samples?: KpiSamples[];
}

export interface ImportFromPrometheusOptions extends Partial<Omit<RunMetadata, 'startedAt' | 'endedAt'>> {
  prometheusUrl: string;
  testid: string;
  scenario: string;
  branch: string;
  /** The run's time range. */
  start: Date;
  end: Date;
  /** Label matchers for the service's series, e.g. `job="app"`; see kpisFromPrometheus. */
  serviceSelector?: string;
  /** Seconds after `end` in which k6's last push may land. Default 15. */
  graceSeconds?: number;
}

export interface KpiHistoryOptions {
  branch?: string;
  /** The newest `limit` points (returned oldest first). Default 100. */
  limit?: number;
}

export interface BaselineStore {
  /** Applies pending schema migrations; safe to call any number of times. */
  migrate(): Promise<StoreMigrateResult>;
  /** Stores a run from a k6 JSON summary (parsed object, or its text); returns the run id. */
  importK6Summary(json: unknown, meta: ImportMetadata, options?: ImportK6SummaryOptions): Promise<number>;
  /** Stores a run from the k6 remote-write series and service metrics in Prometheus; returns the run id. */
  importFromPrometheus(options: ImportFromPrometheusOptions): Promise<number>;
  /** Stores a run measured by perfstack itself (a Lighthouse audit) with its KPI values; returns the run id. */
  importMeasuredRun(meta: RunMetadata, values: KpiValue[], source: Extract<RunSource, 'lighthouse'>): Promise<number>;
  /** Runs, newest first. */
  listRuns(options?: ListRunsOptions): Promise<StoredRun[]>;
  getRun(testid: string): Promise<StoredRun | undefined>;
  /** The run's KPI values, run level first, then by endpoint and KPI. Throws not-found for an unknown testid. */
  kpiValues(testid: string): Promise<KpiValue[]>;
  /** The baseline runs of a scenario with their KPI values, oldest first; never the candidate. */
  baselineRuns(scenario: string, selector: BaselineSelector): Promise<RunWithKpis[]>;
  /** Pins a run under a name (moves the name if it exists). */
  pin(name: string, testid: string): Promise<Baseline>;
  listBaselines(): Promise<Baseline[]>;
  /** Removes a pinned baseline; false when there was none by that name. */
  removeBaseline(name: string): Promise<boolean>;
  /** One KPI of one endpoint across the scenario's runs, oldest first. */
  kpiHistory(scenario: string, kpi: KpiName, endpoint: string, options?: KpiHistoryOptions): Promise<KpiHistoryPoint[]>;
  /** The stored distribution behind a KPI of a run, if any. */
  samples(testid: string, kpi: KpiName, endpoint: string): Promise<StoredDistribution | undefined>;
  close(): Promise<void>;
}

const TESTID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

interface RunRow {
  id: string;
  testid: string;
  scenario: string;
  git_sha: string;
  branch: string;
  started_at: Date;
  ended_at: Date;
  environment: string;
  k6_version: string | null;
  imported_from: RunSource;
  created_at: Date;
}

const RUN_COLUMNS = 'r.id, r.testid, r.scenario, r.git_sha, r.branch, r.started_at, r.ended_at, r.environment, r.k6_version, r.imported_from, r.created_at';

function toRun(row: RunRow): StoredRun {
  return {
    id: Number(row.id),
    testid: row.testid,
    scenario: row.scenario,
    gitSha: row.git_sha,
    branch: row.branch,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    environment: row.environment,
    k6Version: row.k6_version,
    importedFrom: row.imported_from,
    createdAt: row.created_at,
  };
}

function requireText(field: string, value: unknown, reason: 'invalid-metadata' | 'invalid-argument' = 'invalid-argument'): string {
  if (typeof value !== 'string' || value.trim() === '') throw new BaselineStoreError(reason, field, `${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function requireTestid(value: unknown, reason: 'invalid-metadata' | 'invalid-argument' = 'invalid-argument'): string {
  const testid = requireText('testid', value, reason);
  if (!TESTID.test(testid)) {
    throw new BaselineStoreError(reason, 'testid', `testid must be 1-128 letters, digits, ".", "_", ":" or "-" starting with a letter or digit, got "${testid}"`);
  }
  return testid;
}

function requireDate(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new BaselineStoreError('invalid-metadata', field, `${field} must be a valid Date, got ${String(value)}`);
  return value;
}

function requireLimit(field: string, value: number | undefined, fallback: number): number {
  const limit = value ?? fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new BaselineStoreError('invalid-argument', field, `${field} must be a whole number from 1 to 100000, got ${value}`);
  return limit;
}

/** Summary value and caller's value of one field: either may be missing, they must not disagree. */
function agree(field: string, fromSummary: string | undefined, fromCaller: string | undefined): string | undefined {
  if (fromSummary !== undefined && fromCaller !== undefined && fromSummary !== fromCaller) {
    throw new BaselineStoreError('invalid-metadata', field, `${field} is "${fromSummary}" in the k6 summary but "${fromCaller}" was given`);
  }
  return fromCaller ?? fromSummary;
}

function checkValues(values: KpiValue[]): void {
  for (const v of values) {
    if (!isKpiName(v.kpi)) throw new BaselineStoreError('invalid-argument', 'kpi', `unknown KPI "${v.kpi}"`);
    if (typeof v.endpoint !== 'string') throw new BaselineStoreError('invalid-argument', 'endpoint', `endpoint of ${v.kpi} must be a string`);
    if (!Number.isFinite(v.value)) throw new BaselineStoreError('invalid-argument', `${v.kpi}`, `${v.kpi}${v.endpoint ? ` (${v.endpoint})` : ''} is not a finite number: ${v.value}`);
  }
}

function checkDistributions(list: StoredDistribution[]): void {
  for (const d of list) {
    if (!isKpiName(d.kpi)) throw new BaselineStoreError('invalid-argument', 'samples.kpi', `unknown KPI "${d.kpi}"`);
    if (d.kind === 'samples') {
      const bad = d.samples.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new BaselineStoreError('invalid-argument', 'samples', `sample ${bad} of ${d.kpi} (${d.endpoint || 'run level'}) is not a finite number`);
    } else if (d.buckets.length === 0 || d.buckets.some((b) => Number.isNaN(b.le) || !Number.isFinite(b.count) || b.count < 0)) {
      throw new BaselineStoreError('invalid-argument', 'samples', `histogram of ${d.kpi} (${d.endpoint || 'run level'}) has no buckets or a bad one`);
    }
  }
}

interface NewRun {
  meta: Omit<RunMetadata, 'k6Version'> & { k6Version: string | null };
  source: RunSource;
  values: KpiValue[];
  distributions: StoredDistribution[];
}

export function openBaselineStore(databaseUrl: string, options: { log?: (line: string) => void; poolMax?: number } = {}): BaselineStore {
  if (typeof databaseUrl !== 'string' || !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new BaselineStoreError('invalid-argument', 'databaseUrl', 'databaseUrl must be a postgres:// URL');
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolMax ?? 4, application_name: 'perfstack-regression-store' });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', (error) => options.log?.(`regression store: idle connection error: ${error.message}`));

  const runByTestid = async (testid: string, client: pg.Pool | pg.PoolClient = pool): Promise<StoredRun | undefined> => {
    const { rows } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.testid = $1`, [testid]);
    return rows[0] ? toRun(rows[0]) : undefined;
  };
  const mustRun = async (testid: string): Promise<StoredRun> => {
    const run = await runByTestid(requireTestid(testid));
    if (!run) throw new BaselineStoreError('not-found', 'testid', `no run with testid "${testid}" is stored`);
    return run;
  };
  const duplicate = (testid: string) => new BaselineStoreError('duplicate-testid', 'testid', `a run with testid "${testid}" is already stored; each run is imported once`);

  async function insertRun(run: NewRun): Promise<number> {
    checkValues(run.values);
    checkDistributions(run.distributions);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      try {
        const m = run.meta;
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO runs (testid, scenario, git_sha, branch, started_at, ended_at, environment, k6_version, imported_from)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
          [m.testid, m.scenario, m.gitSha, m.branch, m.startedAt, m.endedAt, m.environment, m.k6Version, run.source],
        );
        const id = Number((rows[0] as { id: string }).id);
        if (run.values.length > 0) {
          await client.query(
            `INSERT INTO kpi_values (run_id, kpi, endpoint, value)
             SELECT $1, kpi, endpoint, value FROM unnest($2::text[], $3::text[], $4::float8[]) AS v(kpi, endpoint, value)`,
            [id, run.values.map((v) => v.kpi), run.values.map((v) => v.endpoint), run.values.map((v) => v.value)],
          );
        }
        for (const d of run.distributions) {
          await client.query(
            `INSERT INTO kpi_samples (run_id, kpi, endpoint, kind, samples, bucket_bounds, bucket_counts) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            d.kind === 'samples'
              ? [id, d.kpi, d.endpoint, 'samples', d.samples, null, null]
              : [id, d.kpi, d.endpoint, 'histogram', null, d.buckets.map((b) => b.le), d.buckets.map((b) => b.count)],
          );
        }
        await client.query('COMMIT');
        options.log?.(`regression store: stored run ${m.testid} (${m.scenario}, ${m.branch}) with ${run.values.length} KPI values from ${run.source}`);
        return id;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const pgError = error as { code?: string; constraint?: string };
        if (pgError.code === '23505' && pgError.constraint === 'runs_testid_key') throw duplicate(run.meta.testid);
        if (pgError.code === '23505' && pgError.constraint?.startsWith('kpi_')) {
          throw new BaselineStoreError('invalid-argument', 'samples', `the same KPI and endpoint appear twice in the import: ${(error as Error).message}`, { cause: error });
        }
        throw error;
      }
    } finally {
      client.release();
    }
  }

  async function withKpis(runs: StoredRun[]): Promise<RunWithKpis[]> {
    if (runs.length === 0) return [];
    const { rows } = await pool.query<{ run_id: string; kpi: KpiName; endpoint: string; value: number }>(
      'SELECT run_id, kpi, endpoint, value FROM kpi_values WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, endpoint, kpi',
      [runs.map((r) => r.id)],
    );
    const byRun = new Map<number, KpiValue[]>();
    for (const row of rows) {
      const id = Number(row.run_id);
      const list = byRun.get(id) ?? [];
      list.push({ kpi: row.kpi, endpoint: row.endpoint, value: row.value });
      byRun.set(id, list);
    }
    return runs.map((run) => ({ ...run, kpis: byRun.get(run.id) ?? [] }));
  }

  const toBaseline = (row: { name: string; kind: 'pinned'; testid: string; scenario: string; branch: string; created_at: Date }): Baseline => ({
    name: row.name,
    kind: row.kind,
    testid: row.testid,
    scenario: row.scenario,
    branch: row.branch,
    createdAt: row.created_at,
  });

  return {
    migrate: () => migrateStore(pool, { log: options.log }),

    async importK6Summary(json, meta, importOptions = {}) {
      const data = typeof json === 'string' ? parseSummaryText(json, 'k6 summary') : json;
      const { run, values } = kpisFromK6Summary(data);
      if (meta === null || typeof meta !== 'object') throw new BaselineStoreError('invalid-metadata', 'meta', 'run metadata (at least { branch }) is required');
      const testid = requireTestid(agree('testid', run.testid, meta.testid), 'invalid-metadata');
      const scenario = requireText('scenario', agree('scenario', run.scenario, meta.scenario), 'invalid-metadata');
      const gitSha = agree('gitSha', run.gitSha, meta.gitSha) ?? 'unknown';
      const branch = requireText('branch', meta.branch, 'invalid-metadata');
      const durationMs = run.durationMs ?? 0;
      // The summary has a duration but no clock times: fill in what the caller did not give.
      const endedAt = meta.endedAt
        ? requireDate('endedAt', meta.endedAt)
        : meta.startedAt
          ? new Date(requireDate('startedAt', meta.startedAt).getTime() + durationMs)
          : new Date();
      const startedAt = meta.startedAt ? requireDate('startedAt', meta.startedAt) : new Date(endedAt.getTime() - durationMs);
      if (endedAt < startedAt) throw new BaselineStoreError('invalid-metadata', 'endedAt', `endedAt ${endedAt.toISOString()} is before startedAt ${startedAt.toISOString()}`);
      const distributions: StoredDistribution[] = (importOptions.samples ?? []).map((s) => ({ kind: 'samples', kpi: s.kpi, endpoint: s.endpoint, samples: s.samples }));
      return insertRun({
        meta: {
          testid,
          scenario,
          gitSha,
          branch,
          startedAt,
          endedAt,
          environment: meta.environment?.trim() || hostname(),
          k6Version: meta.k6Version?.trim() || null,
        },
        source: 'k6-summary',
        values,
        distributions,
      });
    },

    async importFromPrometheus(o) {
      if (o === null || typeof o !== 'object') throw new BaselineStoreError('invalid-argument', 'options', 'options are required');
      const testid = requireTestid(o.testid);
      const scenario = requireText('scenario', o.scenario);
      const branch = requireText('branch', o.branch);
      requireText('prometheusUrl', o.prometheusUrl);
      const start = requireDate('start', o.start);
      const end = requireDate('end', o.end);
      if (end <= start) throw new BaselineStoreError('invalid-argument', 'end', `end ${end.toISOString()} must be after start ${start.toISOString()}`);
      if (await runByTestid(testid)) throw duplicate(testid);
      const kpis = await kpisFromPrometheus({
        prometheusUrl: o.prometheusUrl,
        testid,
        start,
        end,
        ...(o.serviceSelector === undefined ? {} : { serviceSelector: o.serviceSelector }),
        ...(o.graceSeconds === undefined ? {} : { graceSeconds: o.graceSeconds }),
      });
      return insertRun({
        meta: {
          testid,
          scenario,
          gitSha: o.gitSha?.trim() || kpis.gitSha || 'unknown',
          branch,
          startedAt: start,
          endedAt: end,
          environment: o.environment?.trim() || hostname(),
          k6Version: o.k6Version?.trim() || null,
        },
        source: 'prometheus',
        values: kpis.values,
        distributions: kpis.distributions,
      });
    },

    async importMeasuredRun(meta, values, source) {
      if (meta === null || typeof meta !== 'object') throw new BaselineStoreError('invalid-metadata', 'meta', 'run metadata is required');
      const testid = requireTestid(meta.testid, 'invalid-metadata');
      const startedAt = requireDate('startedAt', meta.startedAt);
      const endedAt = requireDate('endedAt', meta.endedAt);
      if (endedAt < startedAt) throw new BaselineStoreError('invalid-metadata', 'endedAt', `endedAt ${endedAt.toISOString()} is before startedAt ${startedAt.toISOString()}`);
      if (await runByTestid(testid)) throw duplicate(testid);
      return insertRun({
        meta: {
          testid,
          scenario: requireText('scenario', meta.scenario, 'invalid-metadata'),
          gitSha: meta.gitSha?.trim() || 'unknown',
          branch: requireText('branch', meta.branch, 'invalid-metadata'),
          startedAt,
          endedAt,
          environment: meta.environment?.trim() || hostname(),
          k6Version: meta.k6Version?.trim() || null,
        },
        source,
        values,
        distributions: [],
      });
    },

    async listRuns(list = {}) {
      const limit = requireLimit('limit', list.limit, 100);
      const { rows } = await pool.query<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM runs r
         WHERE ($1::text IS NULL OR r.scenario = $1) AND ($2::text IS NULL OR r.branch = $2)
         ORDER BY r.started_at DESC, r.id DESC LIMIT $3`,
        [list.scenario ?? null, list.branch ?? null, limit],
      );
      return rows.map(toRun);
    },

    getRun: (testid) => runByTestid(requireTestid(testid)),

    async kpiValues(testid) {
      const run = await mustRun(testid);
      const { rows } = await pool.query<{ kpi: KpiName; endpoint: string; value: number }>(
        'SELECT kpi, endpoint, value FROM kpi_values WHERE run_id = $1 ORDER BY endpoint, kpi',
        [run.id],
      );
      return rows.map((r) => ({ kpi: r.kpi, endpoint: r.endpoint, value: r.value }));
    },

    async baselineRuns(scenario, selector) {
      requireText('scenario', scenario);
      if (selector === null || typeof selector !== 'object') throw new BaselineStoreError('invalid-argument', 'selector', 'selector must be { branch, lastN } or { pinned }');
      const candidate = selector.candidate === undefined ? undefined : requireTestid(selector.candidate);
      const candidateRun = candidate === undefined ? undefined : await runByTestid(candidate);
      if ('pinned' in selector) {
        const name = requireText('pinned', selector.pinned);
        const { rows } = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM baselines b JOIN runs r ON r.id = b.run_id WHERE b.name = $1`, [name]);
        const row = rows[0];
        if (!row) throw new BaselineStoreError('not-found', 'pinned', `no baseline is pinned under the name "${name}"`);
        const run = toRun(row);
        if (run.scenario !== scenario) {
          throw new BaselineStoreError('invalid-argument', 'pinned', `baseline "${name}" is run ${run.testid} of scenario "${run.scenario}", not "${scenario}"`);
        }
        return run.testid === candidate ? [] : withKpis([run]);
      }
      const branch = requireText('branch', selector.branch);
      const lastN = requireLimit('lastN', selector.lastN, 1);
      const { rows } = await pool.query<RunRow>(
        `SELECT * FROM (
           SELECT ${RUN_COLUMNS} FROM runs r
           WHERE r.scenario = $1 AND r.branch = $2
             AND ($3::text IS NULL OR r.testid <> $3)
             AND ($4::timestamptz IS NULL OR r.started_at < $4)
             AND ($5::text IS NULL OR r.environment = $5)
           ORDER BY r.started_at DESC, r.id DESC
           LIMIT $6
         ) newest ORDER BY started_at, id`,
        [scenario, branch, candidate ?? null, candidateRun?.startedAt ?? null, selector.environment ?? null, lastN],
      );
      return withKpis(rows.map(toRun));
    },

    async pin(name, testid) {
      const baselineName = requireText('name', name);
      const run = await mustRun(testid);
      const { rows } = await pool.query<{ name: string; kind: 'pinned'; created_at: Date }>(
        `INSERT INTO baselines (name, kind, run_id) VALUES ($1, 'pinned', $2)
         ON CONFLICT (name) DO UPDATE SET run_id = EXCLUDED.run_id, created_at = now()
         RETURNING name, kind, created_at`,
        [baselineName, run.id],
      );
      const row = rows[0] as { name: string; kind: 'pinned'; created_at: Date };
      return toBaseline({ ...row, testid: run.testid, scenario: run.scenario, branch: run.branch });
    },

    async listBaselines() {
      const { rows } = await pool.query<{ name: string; kind: 'pinned'; testid: string; scenario: string; branch: string; created_at: Date }>(
        'SELECT b.name, b.kind, r.testid, r.scenario, r.branch, b.created_at FROM baselines b JOIN runs r ON r.id = b.run_id ORDER BY b.name',
      );
      return rows.map(toBaseline);
    },

    async removeBaseline(name) {
      const result = await pool.query('DELETE FROM baselines WHERE name = $1', [requireText('name', name)]);
      return (result.rowCount ?? 0) > 0;
    },

    async kpiHistory(scenario, kpi, endpoint, history = {}) {
      requireText('scenario', scenario);
      if (!isKpiName(kpi)) throw new BaselineStoreError('invalid-argument', 'kpi', `unknown KPI "${String(kpi)}"`);
      const limit = requireLimit('limit', history.limit, 100);
      const { rows } = await pool.query<{ testid: string; started_at: Date; value: number }>(
        `SELECT testid, started_at, value FROM (
           SELECT r.id, r.testid, r.started_at, v.value FROM runs r JOIN kpi_values v ON v.run_id = r.id
           WHERE r.scenario = $1 AND v.kpi = $2 AND v.endpoint = $3 AND ($4::text IS NULL OR r.branch = $4)
           ORDER BY r.started_at DESC, r.id DESC LIMIT $5
         ) newest ORDER BY started_at, id`,
        [scenario, kpi, endpoint, history.branch ?? null, limit],
      );
      return rows.map((r) => ({ testid: r.testid, startedAt: r.started_at, value: r.value }));
    },

    async samples(testid, kpi, endpoint) {
      const run = await mustRun(testid);
      const { rows } = await pool.query<{ kind: 'samples' | 'histogram'; samples: number[] | null; bucket_bounds: number[] | null; bucket_counts: number[] | null }>(
        'SELECT kind, samples, bucket_bounds, bucket_counts FROM kpi_samples WHERE run_id = $1 AND kpi = $2 AND endpoint = $3',
        [run.id, kpi, endpoint],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.kind === 'samples') return { kind: 'samples', kpi, endpoint, samples: row.samples ?? [] };
      const bounds = row.bucket_bounds ?? [];
      const counts = row.bucket_counts ?? [];
      const buckets: HistogramBucket[] = bounds.map((le, i) => ({ le, count: counts[i] ?? 0 }));
      return { kind: 'histogram', kpi, endpoint, buckets };
    },

    close: () => pool.end(),
  };
}
