// The collection runner: one pg.Pool, the collectors, a per-scrape deadline and single-flight.
//
// - Deadline: every collection has scrapeTimeoutMs in total. The JS side races each step against
//   the time left and gives up on a collector that is late (its connection is destroyed, its
//   success is 0, the others still report); on the server, statement_timeout = scrapeTimeoutMs on
//   every exporter connection ends the abandoned statement.
// - Single-flight: scrapes that arrive while a collection runs share its result.
// - Outage: when no connection can be made, pg_up is 0 and the collectors report success 0; the
//   pool makes new connections once the database is back.

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pgServer } from '../../metrics/index.js';
import { activityCollector } from './activity.js';
import type { Collector, CollectorSettings } from './collector.js';
import { databaseCollector } from './database.js';
import { family, renderExposition, type MetricFamily } from './exposition.js';
import { locksCollector } from './locks.js';
import { statementsCollector } from './statements.js';
import { userTablesCollector } from './user-tables.js';

/** The collectors in the order their metrics appear. */
export const DEFAULT_COLLECTORS: readonly Collector[] = [
  databaseCollector,
  statementsCollector,
  activityCollector,
  locksCollector,
  userTablesCollector,
];

export const PG_STATS_DEFAULTS = {
  topStatements: 50,
  showQueryText: false,
  queryTextMaxLength: 120,
  /** Used when neither slowStatementSeconds nor config is given; perfstack.config.ts sets database.maxQuerySeconds to 1 too. */
  slowStatementSeconds: 1,
  scrapeTimeoutMs: 5_000,
  poolSize: 3,
  connectionTimeoutMs: 2_000,
  applicationName: 'perfstack-pg-stats',
} as const;

/**
 * Contract names (postgres_exporter's) that `promtool check metrics` lints against whatever we do:
 * counters without the _total suffix and gauges ending in _count. By default they are declared
 * untyped (Prometheus stores and queries them the same way; rate() works on either) so the output
 * passes the lint cleanly; untypedLegacyNames: false gives them postgres_exporter's types instead.
 */
export const LINT_CONFLICTING_NAMES: readonly string[] = [
  pgServer.xactCommit,
  pgServer.xactRollback,
  pgServer.blksHit,
  pgServer.blksRead,
  pgServer.deadlocks,
  pgServer.tempBytes,
  pgServer.seqScan,
  pgServer.idxScan,
  pgServer.activityCount,
  pgServer.locksCount,
];

/** Test and instrumentation hooks; none is needed in production. */
export interface PgStatsHooks {
  /** Called when a collection starts (once for any number of concurrent scrapes sharing it). */
  onCollection?(): void;
  /** Runs on a collector's connection before its queries, inside the deadline (tests inject pg_sleep here). */
  beforeCollector?(collector: string, client: pg.PoolClient): Promise<void>;
}

export interface PgStatsScraperOptions extends Partial<CollectorSettings> {
  /** PostgreSQL connection string; never logged. */
  databaseUrl: string;
  /** Used for slowStatementSeconds when that is not given: config.database.maxQuerySeconds. */
  config?: { database: { maxQuerySeconds: number } };
  scrapeTimeoutMs?: number;
  /** Connections the exporter may hold (default 3). */
  poolSize?: number;
  /** How long to wait for a new connection (default 2000 ms, never above scrapeTimeoutMs). */
  connectionTimeoutMs?: number;
  collectors?: readonly Collector[];
  /** Declare LINT_CONFLICTING_NAMES untyped instead of counter/gauge (default true: promtool-clean). */
  untypedLegacyNames?: boolean;
  log?: (line: string) => void;
  hooks?: PgStatsHooks;
}

export interface PgStatsScraper {
  /** Collects (or joins the collection in flight) and returns the exposition text. */
  scrape(): Promise<string>;
  /** Whether the last collection reached the database. */
  readonly up: boolean;
  readonly settings: Readonly<CollectorSettings & { scrapeTimeoutMs: number }>;
  /** Waits for the collection in flight, then closes the pool. */
  close(): Promise<void>;
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`pg-stats: ${name} must be an integer from 1 to ${max}, got ${value}`);
  return value;
}

function positiveNumber(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`pg-stats: ${name} must be a positive number, got ${value}`);
  return value;
}

/** Replaces the connection string and its password wherever they appear in a message. */
export function redactor(databaseUrl: string): (text: string) => string {
  const secrets = new Set<string>([databaseUrl]);
  try {
    const url = new URL(databaseUrl);
    if (url.password) {
      secrets.add(url.password);
      secrets.add(decodeURIComponent(url.password));
    }
  } catch {
    // key=value form
  }
  for (const match of databaseUrl.matchAll(/password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi)) {
    const raw = match[1] ?? '';
    secrets.add(raw);
    secrets.add(raw.replace(/^'|'$/g, ''));
  }
  const list = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => list.reduce((acc, secret) => acc.split(secret).join('***'), text);
}

class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within the scrape deadline (${ms} ms)`);
    this.name = 'DeadlineError';
  }
}

/** Resolves with the promise, or rejects when the deadline (ms since epoch via performance.now) passes first. */
function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: string, budgetMs: number): Promise<T> {
  const left = deadline - performance.now();
  if (left <= 0) return Promise.reject(new DeadlineError(what, budgetMs));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(what, budgetMs)), left);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/**
 * Collectors run the same few statements every scrape: as named prepared statements each
 * connection parses and plans them once instead of on every scrape.
 */
const preparedNames = new Map<string, string>();
/** A collector that builds its SQL text per scrape must not fill the server with prepared statements. */
const MAX_PREPARED = 64;
function preparedName(sql: string): string | undefined {
  let name = preparedNames.get(sql);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `pg_stats_${preparedNames.size + 1}`;
    preparedNames.set(sql, name);
  }
  return name;
}

interface CollectorResult {
  name: string;
  families: MetricFamily[];
  success: boolean;
  seconds: number;
  error?: string;
}

export function createPgStatsScraper(options: PgStatsScraperOptions): PgStatsScraper {
  if (typeof options.databaseUrl !== 'string' || options.databaseUrl.trim() === '') {
    throw new Error('pg-stats: databaseUrl is empty; set DATABASE_URL or DATABASE_URL_FILE');
  }
  const scrapeTimeoutMs = positiveInteger('scrapeTimeoutMs', options.scrapeTimeoutMs ?? PG_STATS_DEFAULTS.scrapeTimeoutMs, 600_000);
  const settings: CollectorSettings & { scrapeTimeoutMs: number } = {
    topStatements: positiveInteger('topStatements', options.topStatements ?? PG_STATS_DEFAULTS.topStatements, 100_000),
    showQueryText: options.showQueryText ?? PG_STATS_DEFAULTS.showQueryText,
    queryTextMaxLength: positiveInteger('queryTextMaxLength', options.queryTextMaxLength ?? PG_STATS_DEFAULTS.queryTextMaxLength, 10_000),
    slowStatementSeconds: positiveNumber(
      'slowStatementSeconds',
      options.slowStatementSeconds ?? options.config?.database.maxQuerySeconds ?? PG_STATS_DEFAULTS.slowStatementSeconds,
    ),
    scrapeTimeoutMs,
  };
  const poolSize = positiveInteger('poolSize', options.poolSize ?? PG_STATS_DEFAULTS.poolSize, 100);
  const connectionTimeoutMs = Math.min(
    positiveInteger('connectionTimeoutMs', options.connectionTimeoutMs ?? PG_STATS_DEFAULTS.connectionTimeoutMs, 600_000),
    scrapeTimeoutMs,
  );
  const collectors = options.collectors ?? DEFAULT_COLLECTORS;
  const log = options.log ?? ((line: string) => console.log(line));
  const hooks = options.hooks ?? {};
  const redact = redactor(options.databaseUrl);
  const untyped = new Set((options.untypedLegacyNames ?? true) ? LINT_CONFLICTING_NAMES : []);

  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: scrapeTimeoutMs,
    application_name: PG_STATS_DEFAULTS.applicationName,
  });
  // An idle connection that the server ends (restart, outage) must not crash the process.
  pool.on('error', () => undefined);

  let up: boolean | undefined;
  let inflight: Promise<string> | undefined;
  let closed = false;
  const failing = new Set<string>();

  const runCollector = async (collector: Collector, deadline: number): Promise<CollectorResult> => {
    const started = performance.now();
    let client: pg.PoolClient | undefined;
    let released = false;
    const release = (destroy: boolean) => {
      if (client && !released) {
        released = true;
        client.release(destroy ? new Error('pg-stats: connection abandoned') : undefined);
      }
    };
    try {
      const connecting = pool.connect();
      try {
        client = await beforeDeadline(connecting, deadline, `collector ${collector.name}: connect`, scrapeTimeoutMs);
      } catch (error) {
        // A connection that arrives after the deadline goes straight back to the pool.
        connecting.then((late) => late.release(), () => undefined);
        throw error;
      }
      const connection = client;
      const work = (async () => {
        if (hooks.beforeCollector) await hooks.beforeCollector(collector.name, connection);
        return collector.collect({
          settings,
          query: async (sql, values) => (await connection.query({ name: preparedName(sql), text: sql, values })).rows,
        });
      })();
      work.catch(() => undefined); // it may settle after we gave up on it
      const families = await beforeDeadline(work, deadline, `collector ${collector.name}`, scrapeTimeoutMs);
      release(false);
      return { name: collector.name, families, success: true, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      // Late or failed: destroy the connection so a statement still running cannot leak into the next scrape.
      release(true);
      return { name: collector.name, families: [], success: false, seconds: (performance.now() - started) / 1000, error: redact(describeError(error)) };
    }
  };

  /** One statement on its own pooled connection, inside the deadline. */
  const probe = async (sql: string, deadline: number): Promise<string> => {
    const rows = await beforeDeadline(pool.query<{ value: string }>(sql), deadline, 'connection check', scrapeTimeoutMs);
    return rows.rows[0]?.value ?? '';
  };

  const collect = async (): Promise<string> => {
    hooks.onCollection?.();
    const deadline = performance.now() + scrapeTimeoutMs;
    // No separate round trip before the collectors: a collector that succeeds proves the database
    // is up. Only when every collector failed does a plain query decide between "down" and
    // "collectors failing"; the server version is asked for only when the state changes to up.
    const results = await Promise.all(collectors.map((c) => runCollector(c, deadline)));
    let downReason = '';
    if (!results.some((r) => r.success)) {
      try {
        await probe('SELECT 1::text AS value', deadline);
      } catch (error) {
        downReason = redact(describeError(error));
      }
    }
    const isUp = downReason === '';
    if (isUp !== up) {
      if (isUp) {
        const version = await probe("SELECT current_setting('server_version') AS value", deadline).catch(() => '');
        log(`pg-stats: database up${version ? ` (PostgreSQL ${version})` : ''}`);
      } else log(`pg-stats: database down: ${downReason}`);
      up = isUp;
    }

    if (isUp) {
      for (const result of results) {
        if (!result.success && !failing.has(result.name)) {
          failing.add(result.name);
          log(`pg-stats: collector ${result.name} failed: ${result.error ?? 'unknown error'}`);
        } else if (result.success && failing.delete(result.name)) {
          log(`pg-stats: collector ${result.name} recovered`);
        }
      }
    }

    const families: MetricFamily[] = [
      family(pgServer.up, 'gauge', 'Whether the last scrape could connect to PostgreSQL and run a query (1 for yes, 0 for no).', [{ value: isUp ? 1 : 0 }]),
    ];
    for (const result of results) families.push(...result.families);
    families.push(
      family(
        pgServer.collectorDuration,
        'gauge',
        'How long each collector took in the last scrape, in seconds.',
        results.map((r) => ({ labels: { collector: r.name }, value: r.seconds })),
      ),
      family(
        pgServer.collectorSuccess,
        'gauge',
        'Whether each collector succeeded in the last scrape (1 for yes, 0 for no).',
        results.map((r) => ({ labels: { collector: r.name }, value: r.success ? 1 : 0 })),
      ),
    );
    return renderExposition(families, { untyped });
  };

  return {
    scrape() {
      if (closed) return Promise.reject(new Error('pg-stats: the scraper is closed'));
      if (!inflight) {
        inflight = collect().finally(() => {
          inflight = undefined;
        });
      }
      return inflight;
    },
    get up() {
      return up === true;
    },
    settings,
    async close() {
      if (closed) return;
      closed = true;
      await inflight?.catch(() => undefined);
      await pool.end();
    },
  };
}
