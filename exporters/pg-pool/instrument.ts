// Instruments any pg.Pool with the db_client_* metrics of the contract (metrics/index.ts).
//
// How it hooks in, without changing what the pool returns or throws:
// - pool.connect is wrapped on the instance (pool.query calls this.connect internally, so both are
//   covered): acquire wait time, and the two connection timeout errors of pg-pool;
// - pool.newClient (pg-pool 3.x internal) is wrapped to note when a physical connection starts,
//   and the public 'connect' event ends it: connection create time;
// - the public 'acquire' and 'release' events give use time, and on 'acquire' the client's query
//   method is wrapped once: operation duration and transactions, for pool.query and client.query;
// - the gauges are read from pool.totalCount / idleCount / waitingCount / options at scrape time.

import { Counter, Gauge, Histogram, register as globalRegister, type Registry } from 'prom-client';
import type pg from 'pg';
import { DB_OPERATION_BUCKETS, dbClient } from '../../metrics/index.js';
import { DEFAULT_MAX_SUMMARY_LENGTH, describeStatement, normaliseStatement } from './summary.js';

export const DB_SYSTEM_NAME = 'postgresql';

/** The two errors pg-pool raises when a connection cannot be had in connectionTimeoutMillis. */
export const POOL_TIMEOUT_MESSAGES = [
  'timeout exceeded when trying to connect', // waiting for a busy pool
  'Connection terminated due to connection timeout', // establishing a new connection
] as const;

export interface InstrumentPoolOptions {
  /** Value of db_client_connection_pool_name; unique per registry. */
  poolName: string;
  /** Where the metrics are registered. Default: prom-client's global register. */
  registry?: Registry;
  /** Distinct db_query_summary values kept for this pool; later ones become "other". Default 100. */
  maxQuerySummaries?: number;
  /** Longest normalised statement used as a summary. Default 160 characters. */
  maxSummaryLength?: number;
}

export interface InstrumentedPool {
  readonly pool: pg.Pool;
  readonly poolName: string;
  readonly registry: Registry;
  /** The db_query_summary values handed out so far (without "other"). */
  querySummaries(): string[];
  /** Removes the hooks and this pool's series; the pool keeps working untouched. */
  uninstrument(): void;
}

/** Key under which a caller-chosen summary rides on a query config; see withQuerySummary(). */
export const QUERY_SUMMARY = Symbol.for('perfstack.pg-pool.querySummary');

/**
 * Tags a query with a summary for db_query_summary, instead of its normalised text:
 *   pool.query(withQuerySummary('load entity', 'SELECT … WHERE id = $1', [id]))
 * (pg's QueryConfig `name` is used the same way when present.)
 */
export function withQuerySummary<I = unknown[]>(
  summary: string,
  query: string | pg.QueryConfig<I>,
  values?: pg.QueryConfigValues<I>,
): pg.QueryConfig<I> {
  const config: pg.QueryConfig<I> = typeof query === 'string' ? { text: query } : { ...query };
  if (values !== undefined) config.values = values;
  Object.defineProperty(config, QUERY_SUMMARY, { value: summary, enumerable: false });
  return config;
}

// ---------------------------------------------------------------------------------------------
// Metric objects, shared by every pool instrumented into the same registry.

interface PoolState {
  pool: pg.Pool;
  labels: { [key: string]: string };
}

interface SharedMetrics {
  operationDuration: Histogram<string>;
  transactions: Counter<string>;
  timeouts: Counter<string>;
  waitTime: Histogram<string>;
  useTime: Histogram<string>;
  createTime: Histogram<string>;
  pools: Map<string, PoolState>;
}

const perRegistry = new WeakMap<Registry, SharedMetrics>();
const L = dbClient.labels;
const poolLabels = [L.system, L.pool];
const CONNECTION_BUCKETS = [...DB_OPERATION_BUCKETS];

function sharedMetrics(registry: Registry): SharedMetrics {
  const existing = perRegistry.get(registry);
  if (existing) return existing;

  const pools = new Map<string, PoolState>();
  const registers = [registry];
  try {
    const gauge = (name: string, help: string, read: (pool: pg.Pool) => number) =>
      new Gauge({
        name,
        help,
        labelNames: poolLabels,
        registers,
        collect() {
          this.reset();
          for (const state of pools.values()) this.set(state.labels, read(state.pool));
        },
      });

    new Gauge({
      name: dbClient.connectionCount,
      help: 'Connections in the pool, by state (idle or used).',
      labelNames: [...poolLabels, L.state],
      registers,
      collect() {
        this.reset();
        for (const { pool, labels } of pools.values()) {
          this.set({ ...labels, [L.state]: 'idle' }, pool.idleCount);
          this.set({ ...labels, [L.state]: 'used' }, Math.max(0, pool.totalCount - pool.idleCount));
        }
      },
    });
    gauge(dbClient.connectionMax, 'Maximum number of open connections the pool allows.', (pool) => pool.options.max ?? 10);
    gauge(dbClient.connectionIdleMin, 'Minimum number of connections the pool keeps open.', (pool) => pool.options.min ?? 0);
    gauge(dbClient.pendingRequests, 'Requests waiting for a connection from the pool.', (pool) => pool.waitingCount);

    const metrics: SharedMetrics = {
      pools,
      operationDuration: new Histogram({
        name: dbClient.operationDuration,
        help: 'Duration of database client operations, in seconds.',
        labelNames: [...poolLabels, L.operation, L.querySummary, L.errorType],
        buckets: [...DB_OPERATION_BUCKETS],
        registers,
      }),
      transactions: new Counter({
        name: dbClient.transactions,
        help: 'Transactions ended through the pool, by outcome (commit or rollback).',
        labelNames: [...poolLabels, L.outcome],
        registers,
      }),
      timeouts: new Counter({
        name: dbClient.timeouts,
        help: 'Connection requests that timed out (connectionTimeoutMillis), waiting or connecting.',
        labelNames: poolLabels,
        registers,
      }),
      waitTime: new Histogram({
        name: dbClient.waitTime,
        help: 'Time it took to obtain a connection from the pool, in seconds.',
        labelNames: poolLabels,
        buckets: CONNECTION_BUCKETS,
        registers,
      }),
      useTime: new Histogram({
        name: dbClient.useTime,
        help: 'Time between borrowing a connection and returning it to the pool, in seconds.',
        labelNames: poolLabels,
        buckets: CONNECTION_BUCKETS,
        registers,
      }),
      createTime: new Histogram({
        name: dbClient.createTime,
        help: 'Time it took to open a new physical connection, in seconds.',
        labelNames: poolLabels,
        buckets: CONNECTION_BUCKETS,
        registers,
      }),
    };
    perRegistry.set(registry, metrics);
    return metrics;
  } catch (error) {
    throw new Error(
      `instrumentPool: could not register the ${dbClient.operationDuration} family in this registry ` +
        `(was it registered by another copy of the exporter?): ${(error as Error).message}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** Monotonic milliseconds; cheaper per query than hrtime.bigint(). */
const now = () => performance.now();
const seconds = (start: number) => (performance.now() - start) / 1000;

/** A bounded error_type: SQLSTATE or system code when there is one, else the error class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,60}$/.test(name)) return name;
  }
  return '_OTHER';
}

function isPoolTimeout(error: unknown): boolean {
  return error instanceof Error && (POOL_TIMEOUT_MESSAGES as readonly string[]).includes(error.message);
}

type Callback = (err: Error | undefined, ...rest: unknown[]) => void;
type AnyFn = (...args: unknown[]) => unknown;

interface PoolInternals {
  connect: AnyFn;
  newClient?: AnyFn;
  _clients?: unknown;
}

interface ClientInternals {
  query: AnyFn;
}

const instrumentedPools = new WeakSet<pg.Pool>();

/** Publishes the db_client_* metrics for one pg.Pool. */
export function instrumentPool(pool: pg.Pool, options: InstrumentPoolOptions): InstrumentedPool {
  const { poolName } = options;
  if (typeof poolName !== 'string' || poolName.length === 0) {
    throw new Error('instrumentPool: options.poolName must be a non-empty string');
  }
  const maxSummaries = options.maxQuerySummaries ?? 100;
  if (!Number.isInteger(maxSummaries) || maxSummaries < 0) {
    throw new Error(`instrumentPool: options.maxQuerySummaries must be a whole number >= 0, got ${maxSummaries}`);
  }
  const maxSummaryLength = options.maxSummaryLength ?? DEFAULT_MAX_SUMMARY_LENGTH;
  const registry = options.registry ?? globalRegister;
  if (instrumentedPools.has(pool)) throw new Error(`instrumentPool: this pool is already instrumented`);

  const metrics = sharedMetrics(registry);
  if (metrics.pools.has(poolName)) {
    throw new Error(`instrumentPool: a pool named "${poolName}" is already instrumented in this registry; pool names must be distinct`);
  }
  const labels = { [L.system]: DB_SYSTEM_NAME, [L.pool]: poolName };
  metrics.pools.set(poolName, { pool, labels });
  instrumentedPools.add(pool);

  // Bound children skip prom-client's per-call label validation and hashing on the hot path.
  const waitTime = metrics.waitTime.labels(labels);
  const useTime = metrics.useTime.labels(labels);
  const createTime = metrics.createTime.labels(labels);
  const operationChildren = new Map<string, Histogram.Internal<string>>();
  const operationChild = (operation: string, summary: string, error: string | undefined) => {
    const key = `${operation}\u0000${summary}\u0000${error ?? ''}`;
    let child = operationChildren.get(key);
    if (!child) {
      const opLabels: { [key: string]: string } = { ...labels, [L.operation]: operation, [L.querySummary]: summary };
      if (error !== undefined) opLabels[L.errorType] = error;
      child = metrics.operationDuration.labels(opLabels);
      operationChildren.set(key, child);
    }
    return child;
  };

  let active = true;
  const summaries = new Set<string>();

  /** Keeps db_query_summary bounded: the first maxSummaries distinct values, then "other". */
  const boundedSummary = (summary: string): string => {
    if (summaries.has(summary)) return summary;
    if (summaries.size >= maxSummaries) return dbClient.overflowSummary;
    summaries.add(summary);
    return summary;
  };

  type Described = { summary: string; operation: string; transaction: ReturnType<typeof describeStatement>['transaction'] };
  // Per statement text: normalising and the cap are decided once; the cache is bounded like the labels.
  const describedByText = new Map<string, Described>();
  const describeText = (text: string): Described => {
    const statement = describeStatement(text);
    const normalised = text ? normaliseStatement(text, maxSummaryLength) : '';
    return { summary: boundedSummary(normalised || statement.operation), operation: statement.operation, transaction: statement.transaction };
  };

  const describe = (config: unknown): Described => {
    let text: string | undefined;
    let given: string | undefined;
    if (typeof config === 'string') text = config;
    else if (config && typeof config === 'object') {
      const c = config as { text?: unknown; name?: unknown; [QUERY_SUMMARY]?: unknown };
      if (typeof c.text === 'string') text = c.text;
      if (typeof c[QUERY_SUMMARY] === 'string') given = c[QUERY_SUMMARY];
      else if (typeof c.name === 'string' && c.name) given = c.name;
    }
    let described = text !== undefined ? describedByText.get(text) : undefined;
    if (!described) {
      described = describeText(text ?? '');
      if (text !== undefined && describedByText.size < 1000) describedByText.set(text, described);
    }
    if (given === undefined) return described;
    return { ...described, summary: boundedSummary(given.slice(0, maxSummaryLength) || described.operation) };
  };

  const record = (described: ReturnType<typeof describe>, start: number, error: unknown, result: unknown) => {
    if (!active) return;
    operationChild(described.operation, described.summary, error ? errorType(error) : undefined).observe(seconds(start));

    if (described.transaction === 'commit' || described.transaction === 'rollback') {
      // COMMIT of a failed transaction answers ROLLBACK; a failed COMMIT rolls back as well.
      const command = (result as { command?: unknown } | undefined)?.command;
      const outcome = described.transaction === 'commit' && !error && command !== 'ROLLBACK' ? 'commit' : 'rollback';
      metrics.transactions.inc({ ...labels, [L.outcome]: outcome });
    }
  };

  // --- client.query --------------------------------------------------------------------------
  const originalQuery = new WeakMap<object, AnyFn>();

  function wrapClient(client: ClientInternals): void {
    if (originalQuery.has(client)) return;
    const original = client.query;
    originalQuery.set(client, original);
    client.query = function instrumentedQuery(this: unknown, config: unknown, values?: unknown, callback?: unknown) {
      if (!active || config == null) return original.apply(this, arguments as unknown as unknown[]);
      const start = now();
      const described = describe(config);
      let done = false;
      const finish = (error: unknown, result: unknown) => {
        if (done) return;
        done = true;
        try {
          record(described, start, error, result);
        } catch {
          // metrics must never break a query
        }
      };
      const wrapCallback = (cb: Callback): Callback =>
        function (this: unknown, err, ...rest) {
          finish(err, rest[0]);
          return cb.apply(this, [err, ...rest]);
        };

      // Submittables (pg.Query, pg-cursor, pg-query-stream): observe their events and callback.
      if (typeof (config as { submit?: unknown }).submit === 'function') {
        const submittable = config as { emit?: AnyFn; callback?: unknown };
        if (typeof submittable.emit === 'function') {
          const emit = submittable.emit;
          submittable.emit = function (this: unknown, event: unknown, ...rest: unknown[]) {
            if (event === 'end') finish(undefined, rest[0]);
            else if (event === 'error') finish(rest[0], undefined);
            return emit.apply(this, [event, ...rest]);
          };
        }
        const returned = original.apply(this, arguments as unknown as unknown[]);
        if (typeof submittable.callback === 'function') submittable.callback = wrapCallback(submittable.callback as Callback);
        return returned;
      }

      // Same argument rules as pg's Client.query: the callback is values, callback or config.callback.
      if (typeof values === 'function') return original.call(this, config, wrapCallback(values as Callback));
      if (typeof callback === 'function') return original.call(this, config, values, wrapCallback(callback as Callback));
      if (typeof config === 'object' && typeof (config as { callback?: unknown }).callback === 'function') {
        const copy = Object.defineProperties(Object.create(Object.getPrototypeOf(config)), Object.getOwnPropertyDescriptors(config));
        copy.callback = wrapCallback((config as { callback: Callback }).callback);
        return arguments.length >= 2 ? original.call(this, copy, values) : original.call(this, copy);
      }
      const returned = original.apply(this, arguments as unknown as unknown[]);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        return (returned as Promise<unknown>).then(
          (result) => {
            finish(undefined, result);
            return result;
          },
          (error: unknown) => {
            finish(error, undefined);
            throw error;
          },
        );
      }
      return returned;
    };
  }

  // --- pool.connect: wait time and timeouts -----------------------------------------------------
  const internals = pool as unknown as PoolInternals;
  const originalConnect = internals.connect;
  const connect = function instrumentedConnect(this: unknown, cb?: unknown) {
    if (!active) return originalConnect.apply(this, arguments as unknown as unknown[]);
    const start = now();
    // Failed acquisitions (timeouts, refused connections) are observed too: that wait was real.
    const observe = (error: unknown) => {
      try {
        waitTime.observe(seconds(start));
        if (error && isPoolTimeout(error)) metrics.timeouts.inc(labels);
      } catch {
        // never break the caller
      }
    };
    if (typeof cb === 'function') {
      return originalConnect.call(this, function (this: unknown, err: unknown, ...rest: unknown[]) {
        observe(err);
        return (cb as AnyFn).apply(this, [err, ...rest]);
      });
    }
    const returned = originalConnect.apply(this, arguments as unknown as unknown[]);
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      return (returned as Promise<unknown>).then(
        (client) => {
          observe(undefined);
          return client;
        },
        (error: unknown) => {
          observe(error);
          throw error;
        },
      );
    }
    return returned;
  };
  internals.connect = connect;

  // --- pool.newClient + 'connect' event: connection create time --------------------------------
  const createStarted = new WeakMap<object, number>();
  const originalNewClient = internals.newClient;
  const newClient =
    typeof originalNewClient === 'function'
      ? function instrumentedNewClient(this: unknown, ...args: unknown[]) {
          const start = now();
          const clients = internals._clients;
          const before = Array.isArray(clients) ? clients.length : -1;
          const returned = originalNewClient.apply(this, args);
          const after = internals._clients;
          if (Array.isArray(after) && after.length > before && before >= 0) {
            const client: unknown = after[after.length - 1];
            if (client && typeof client === 'object') createStarted.set(client, start);
          }
          return returned;
        }
      : undefined;
  if (newClient) internals.newClient = newClient;

  const onConnect = (client: pg.PoolClient) => {
    const start = createStarted.get(client);
    if (start === undefined || !active) return;
    createStarted.delete(client);
    createTime.observe(seconds(start));
  };

  // --- 'acquire' / 'release': use time, and hook client.query ----------------------------------
  const acquiredAt = new WeakMap<object, number>();
  const onAcquire = (client: pg.PoolClient) => {
    acquiredAt.set(client, now());
    wrapClient(client as unknown as ClientInternals);
  };
  const onRelease = (_err: Error | undefined, client: pg.PoolClient) => {
    const start = acquiredAt.get(client);
    if (start === undefined || !active) return;
    acquiredAt.delete(client);
    useTime.observe(seconds(start));
  };
  pool.on('connect', onConnect);
  pool.on('acquire', onAcquire);
  pool.on('release', onRelease);

  return {
    pool,
    poolName,
    registry,
    querySummaries: () => [...summaries],
    uninstrument() {
      if (!active) return;
      active = false;
      pool.off('connect', onConnect);
      pool.off('acquire', onAcquire);
      pool.off('release', onRelease);
      if (internals.connect === connect) internals.connect = originalConnect;
      if (newClient && internals.newClient === newClient) internals.newClient = originalNewClient;
      // Clients keep a pass-through wrapper (inactive) until they close; restore the ones we can see.
      const clients = internals._clients;
      if (Array.isArray(clients)) {
        for (const client of clients as ClientInternals[]) {
          const original = originalQuery.get(client);
          if (original) client.query = original;
        }
      }
      metrics.pools.delete(poolName);
      instrumentedPools.delete(pool);
      for (const metric of [metrics.operationDuration, metrics.transactions, metrics.timeouts, metrics.waitTime, metrics.useTime, metrics.createTime]) {
        removeSeries(metric, labels);
      }
    },
  };
}

/** Removes every series of one pool from a metric (prom-client removes by exact label set). */
function removeSeries(metric: Histogram<string> | Counter<string>, labels: { [key: string]: string }): void {
  const hashMap = (metric as unknown as { hashMap?: Record<string, { labels?: Record<string, string> }> }).hashMap;
  if (!hashMap) return;
  for (const entry of Object.values(hashMap)) {
    const series = entry.labels;
    if (series && Object.entries(labels).every(([key, value]) => series[key] === value)) metric.remove(series);
  }
}
