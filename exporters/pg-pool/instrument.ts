// Instruments any pg.Pool with the db_client_* metrics of the contract (metrics/index.ts).
//
// How it hooks in, without changing what the pool returns or throws:
// - pool.connect is wrapped on the instance (pool.query calls this.connect internally, so both are
//   covered): acquire wait time, and the two connection timeout errors of pg-pool;
// - pool.query is wrapped on the instance only to mark that the connect() inside it is its own, so
//   that path can share clock reads between its steps (see inPoolQuery below);
// - pool.newClient (pg-pool 3.x internal) is wrapped to note when a physical connection starts,
//   and the public 'connect' event ends it: connection create time;
// - the public 'acquire' and 'release' events give use time, and on 'acquire' the client's query
//   method is wrapped once: operation duration and transactions, for pool.query and client.query;
// - the gauges are read from pool.totalCount / idleCount / waitingCount / options at scrape time.
//
// The per-query path is kept lean, because a SELECT 1 through the pool costs only ~20 µs of CPU
// (bench/pool-overhead.ts measures 0.3–0.4 µs for all of this): the histograms are PoolHistogram
// (./histogram.ts; series fetched once, no label handling per observation), a statement's
// description and its series are cached together, times ride on the client under a symbol,
// pool.query reads the clock 3 times, and callbacks are wrapped by one fixed-arity function per call.

import { Counter, Gauge, register as globalRegister, type Registry } from 'prom-client';
import type pg from 'pg';
import { DB_OPERATION_BUCKETS, dbClient } from '../../metrics/index.js';
import { type HistogramSeries, PoolHistogram } from './histogram.js';
import { DEFAULT_MAX_SUMMARY_LENGTH, describeStatement, normaliseStatement, type TransactionControl } from './summary.js';

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
  operationDuration: PoolHistogram;
  transactions: Counter<string>;
  timeouts: Counter<string>;
  waitTime: PoolHistogram;
  useTime: PoolHistogram;
  createTime: PoolHistogram;
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
      operationDuration: new PoolHistogram({
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
      waitTime: new PoolHistogram({
        name: dbClient.waitTime,
        help: 'Time it took to obtain a connection from the pool, in seconds.',
        labelNames: poolLabels,
        buckets: CONNECTION_BUCKETS,
        registers,
      }),
      useTime: new PoolHistogram({
        name: dbClient.useTime,
        help: 'Time between borrowing a connection and returning it to the pool, in seconds.',
        labelNames: poolLabels,
        buckets: CONNECTION_BUCKETS,
        registers,
      }),
      createTime: new PoolHistogram({
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

/** Monotonic milliseconds (cheaper per query than hrtime.bigint()). */
const clock = performance;

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

type AnyFn = (...args: unknown[]) => unknown;

interface PoolInternals {
  connect: AnyFn;
  query: AnyFn;
  newClient?: AnyFn;
  _clients?: unknown;
}

/** What this module keeps on a pooled client, under symbols (cheaper than WeakMaps per checkout). */
const ACQUIRED_AT = Symbol('perfstack.pg-pool.acquiredAt');
const WRAPPED_BY = Symbol('perfstack.pg-pool.wrappedBy');
const ORIGINAL_QUERY = Symbol('perfstack.pg-pool.originalQuery');

interface ClientInternals {
  query: AnyFn;
  [ACQUIRED_AT]?: number;
  [WRAPPED_BY]?: object | undefined;
  [ORIGINAL_QUERY]?: AnyFn | undefined;
}

/** What a statement text says, decided once per text. */
class Statement {
  /** The description used when the caller gives no summary (its summary counts against the cap once used). */
  plain: Described | undefined = undefined;
  /** Descriptions by caller-given summary. */
  named: Map<string, Described> | undefined = undefined;
  constructor(
    readonly operation: string,
    readonly transaction: TransactionControl,
    /** The normalised text, '' for none. */
    readonly normalised: string,
  ) {}
}

/** A statement with its bounded summary, and the operation-duration series it lands in. */
class Described {
  ok: HistogramSeries | undefined = undefined;
  failed: Map<string, HistogramSeries> | undefined = undefined;
  constructor(
    readonly summary: string,
    readonly operation: string,
    readonly transaction: TransactionControl,
  ) {}
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
  // Present from the start at 0, so a dashboard or alert on timeouts reads 0, not "no data".
  metrics.timeouts.inc(labels, 0);
  instrumentedPools.add(pool);

  // Series fetched once; observing them involves no label handling.
  const waitTime = metrics.waitTime.series(labels);
  const useTime = metrics.useTime.series(labels);
  const createTime = metrics.createTime.series(labels);
  const commitLabels = { ...labels, [L.outcome]: 'commit' };
  const rollbackLabels = { ...labels, [L.outcome]: 'rollback' };
  /** Marks the clients whose query method this instrumentation wrapped. */
  const token = {};

  let active = true;
  const summaries = new Set<string>();

  /** Keeps db_query_summary bounded: the first maxSummaries distinct values, then "other". */
  const boundedSummary = (summary: string): string => {
    if (summaries.has(summary)) return summary;
    if (summaries.size >= maxSummaries) return dbClient.overflowSummary;
    summaries.add(summary);
    return summary;
  };

  // Per statement text, normalising is done once; the caches are bounded like the labels. A summary,
  // once decided, never changes (the set of summaries only grows), so caching it is exact.
  const MAX_CACHED = 1000;
  const statements = new Map<string, Statement>();
  let namedCached = 0;

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
    let statement = text !== undefined ? statements.get(text) : undefined;
    if (statement === undefined) {
      const sql = text ?? '';
      const info = describeStatement(sql);
      statement = new Statement(info.operation, info.transaction, sql ? normaliseStatement(sql, maxSummaryLength) : '');
      if (text !== undefined && statements.size < MAX_CACHED) statements.set(text, statement);
    }
    if (given === undefined) {
      return (statement.plain ??= new Described(boundedSummary(statement.normalised || statement.operation), statement.operation, statement.transaction));
    }
    let described = statement.named?.get(given);
    if (described === undefined) {
      described = new Described(boundedSummary(given.slice(0, maxSummaryLength) || statement.operation), statement.operation, statement.transaction);
      if (namedCached < MAX_CACHED) {
        (statement.named ??= new Map()).set(given, described);
        namedCached++;
      }
    }
    return described;
  };

  const operationSeries = (described: Described, error: string | undefined): HistogramSeries => {
    const opLabels: { [key: string]: string } = { ...labels, [L.operation]: described.operation, [L.querySummary]: described.summary };
    if (error !== undefined) opLabels[L.errorType] = error;
    return metrics.operationDuration.series(opLabels);
  };

  /** Ends one operation at `end`: its duration, and the transaction outcome for COMMIT / ROLLBACK. */
  const record = (described: Described, start: number, end: number, error: unknown, result: unknown): void => {
    if (!active) return;
    try {
      const seconds = (end - start) / 1000;
      let series: HistogramSeries | undefined;
      if (!error) series = described.ok ??= operationSeries(described, undefined);
      else {
        const type = errorType(error);
        const failed = (described.failed ??= new Map());
        series = failed.get(type);
        if (series === undefined) {
          series = operationSeries(described, type);
          failed.set(type, series);
        }
      }
      series.observe(seconds);

      if (described.transaction === 'commit' || described.transaction === 'rollback') {
        // COMMIT of a failed transaction answers ROLLBACK; a failed COMMIT rolls back as well.
        const command = (result as { command?: unknown } | undefined)?.command;
        const outcome = described.transaction === 'commit' && !error && command !== 'ROLLBACK' ? 'commit' : 'rollback';
        metrics.transactions.inc(outcome === 'commit' ? commitLabels : rollbackLabels);
      }
    } catch {
      // metrics must never break a query
    }
  };

  /** The other call shapes of client.query: promises, submittables, a callback elsewhere. */
  const queryOtherwise = (self: unknown, original: AnyFn, args: unknown[], described: Described, start: number): unknown => {
    const config = args[0];
    const values = args[1];
    const submittable = typeof (config as { submit?: unknown }).submit === 'function';
    const configCallback = typeof config === 'object' && typeof (config as { callback?: unknown }).callback === 'function';

    if (!submittable && !configCallback && typeof values !== 'function' && typeof args[2] !== 'function') {
      const returned = original.apply(self, args);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        return (returned as Promise<unknown>).then(
          (result) => {
            record(described, start, clock.now(), undefined, result);
            return result;
          },
          (error: unknown) => {
            record(described, start, clock.now(), error, undefined);
            throw error;
          },
        );
      }
      return returned;
    }

    let done = false;
    const finish = (error: unknown, result: unknown) => {
      if (done) return;
      done = true;
      record(described, start, clock.now(), error, result);
    };
    const wrapCallback = (cb: AnyFn): AnyFn =>
      function (this: unknown, err: unknown, result: unknown) {
        finish(err, result);
        return cb.apply(this, arguments as unknown as unknown[]);
      };

    // Submittables (pg.Query, pg-cursor, pg-query-stream): observe their events and callback.
    if (submittable) {
      const events = config as { emit?: AnyFn; callback?: unknown };
      if (typeof events.emit === 'function') {
        const emit = events.emit;
        events.emit = function (this: unknown, event: unknown, arg: unknown) {
          if (event === 'end') finish(undefined, arg);
          else if (event === 'error') finish(arg, undefined);
          return emit.apply(this, arguments as unknown as unknown[]);
        };
      }
      const returned = original.apply(self, args);
      if (typeof events.callback === 'function') events.callback = wrapCallback(events.callback as AnyFn);
      return returned;
    }

    // Same argument rules as pg's Client.query: the callback is values, callback or config.callback.
    if (typeof values === 'function') return original.call(self, config, wrapCallback(values as AnyFn));
    if (typeof args[2] === 'function') return original.call(self, config, values, wrapCallback(args[2] as AnyFn));
    const copy = Object.defineProperties(Object.create(Object.getPrototypeOf(config)), Object.getOwnPropertyDescriptors(config));
    copy.callback = wrapCallback((config as { callback: AnyFn }).callback);
    return args.length >= 2 ? original.call(self, copy, values) : original.call(self, copy);
  };

  // pool.query (pg-pool) is connect(), then client.query() first thing in connect's callback, then
  // client.release() first thing in the query's callback. Those moments are the same to well under
  // a microsecond, so on that path one clock read serves two (3 reads per pool.query, not 6):
  // - inPoolQuery: pool.query is running (its connect() happens inside);
  // - handingOver: the client pool.query's connect callback is running with; its first query
  //   starts at the acquire time;
  // - releasing / releasingAt: the client whose pool.query callback is running; its release
  //   happens at the query's end time.
  // Anything else (pool.connect() by hand, promises, options.verify) reads the clock each time.
  let inPoolQuery = false;
  let handingOver: ClientInternals | undefined;
  let releasing: ClientInternals | undefined;
  let releasingAt = 0;

  // --- client.query --------------------------------------------------------------------------
  function wrapClient(client: ClientInternals): void {
    const original = client.query;
    client[ORIGINAL_QUERY] = original;
    client[WRAPPED_BY] = token;
    client.query = function instrumentedQuery(this: unknown, config: unknown, values?: unknown, callback?: unknown) {
      if (!active || config == null) return original.apply(this, arguments as unknown as unknown[]);
      // pool.query's first query starts as the client is handed over (see handingOver).
      const poolQueryClient = this === handingOver ? handingOver : undefined;
      handingOver = undefined;
      const acquiredAt = poolQueryClient?.[ACQUIRED_AT];
      const viaPoolQuery = acquiredAt !== undefined && acquiredAt >= 0;
      const start = viaPoolQuery ? acquiredAt : clock.now();
      const described = describe(config);
      // The common shape, pool.query's own: query(text or config, values, callback).
      if (
        typeof callback === 'function' &&
        typeof values !== 'function' &&
        (typeof config !== 'object' || typeof (config as { submit?: unknown }).submit !== 'function')
      ) {
        const cb = callback as AnyFn;
        let done = false;
        return original.call(this, config, values, function (this: unknown, err: unknown, result: unknown) {
          if (done) return arguments.length === 2 ? cb.call(this, err, result) : cb.apply(this, arguments as unknown as unknown[]);
          done = true;
          const end = clock.now();
          record(described, start, end, err, result);
          if (!viaPoolQuery) return arguments.length === 2 ? cb.call(this, err, result) : cb.apply(this, arguments as unknown as unknown[]);
          // pool.query's callback releases the client before anything else: that is the same moment.
          releasing = poolQueryClient;
          releasingAt = end;
          try {
            return cb.call(this, err, result);
          } finally {
            releasing = undefined;
          }
        });
      }
      // (pg's Client.query reads three arguments; the count is kept, as pg tells them apart by it)
      const argc = arguments.length;
      const args = argc <= 1 ? [config] : argc === 2 ? [config, values] : [config, values, callback];
      return queryOtherwise(this, original, args, described, start);
    };
  }

  // --- pool.connect: wait time and timeouts -----------------------------------------------------
  /**
   * Failed acquisitions (timeouts, refused connections) are observed too: that wait was real.
   * A successful wait ends when pg-pool emits 'acquire', which it does synchronously just before
   * handing the client over: onAcquire's timestamp is that end, so no second clock read.
   */
  const observeWait = (start: number, error: unknown, client: unknown): void => {
    try {
      const acquiredAt = error ? undefined : (client as ClientInternals | undefined)?.[ACQUIRED_AT];
      // (with options.verify the hand-over waits for the verification, so read the clock then)
      const end = acquiredAt !== undefined && acquiredAt >= start && !pool.options.verify ? acquiredAt : clock.now();
      waitTime.observe((end - start) / 1000);
      if (error && isPoolTimeout(error)) metrics.timeouts.inc(labels);
    } catch {
      // never break the caller
    }
  };

  const internals = pool as unknown as PoolInternals;
  const originalConnect = internals.connect;
  const connect = function instrumentedConnect(this: unknown, cb?: unknown) {
    if (!active) return originalConnect.apply(this, arguments as unknown as unknown[]);
    const start = clock.now();
    const forPoolQuery = inPoolQuery && !pool.options.verify;
    inPoolQuery = false;
    if (typeof cb === 'function') {
      const callback = cb as AnyFn;
      if (forPoolQuery) {
        return originalConnect.call(this, function (this: unknown, err: unknown, client: unknown, release: unknown) {
          observeWait(start, err, client);
          if (err || !client || (client as ClientInternals)[WRAPPED_BY] !== token) return callback.call(this, err, client, release);
          handingOver = client as ClientInternals;
          try {
            return callback.call(this, err, client, release);
          } finally {
            handingOver = undefined;
          }
        });
      }
      return originalConnect.call(this, function (this: unknown, err: unknown, client: unknown, release: unknown) {
        observeWait(start, err, client);
        return arguments.length === 3 ? callback.call(this, err, client, release) : callback.apply(this, arguments as unknown as unknown[]);
      });
    }
    const returned = originalConnect.apply(this, arguments as unknown as unknown[]);
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      return (returned as Promise<unknown>).then(
        (client) => {
          observeWait(start, undefined, client);
          return client;
        },
        (error: unknown) => {
          observeWait(start, error, undefined);
          throw error;
        },
      );
    }
    return returned;
  };
  internals.connect = connect;

  // --- pool.query: only marks that the connect() inside it is pool.query's ----------------------
  const originalPoolQuery = internals.query;
  const poolQuery = function instrumentedPoolQuery(this: unknown) {
    if (!active) return originalPoolQuery.apply(this, arguments as unknown as unknown[]);
    inPoolQuery = true;
    try {
      return originalPoolQuery.apply(this, arguments as unknown as unknown[]);
    } finally {
      inPoolQuery = false;
    }
  };
  internals.query = poolQuery;

  // --- pool.newClient + 'connect' event: connection create time --------------------------------
  const createStarted = new WeakMap<object, number>();
  const originalNewClient = internals.newClient;
  const newClient =
    typeof originalNewClient === 'function'
      ? function instrumentedNewClient(this: unknown, ...args: unknown[]) {
          const start = clock.now();
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
    createTime.observe((clock.now() - start) / 1000);
  };

  // --- 'acquire' / 'release': use time, and hook client.query ----------------------------------
  const onAcquire = (pooled: pg.PoolClient) => {
    const client = pooled as unknown as ClientInternals;
    client[ACQUIRED_AT] = clock.now();
    if (client[WRAPPED_BY] !== token) wrapClient(client);
  };
  const onRelease = (_err: Error | undefined, pooled: pg.PoolClient) => {
    const client = pooled as unknown as ClientInternals;
    const start = client[ACQUIRED_AT];
    if (start === undefined || start < 0 || !active) return;
    client[ACQUIRED_AT] = -1;
    try {
      let end: number;
      if (client === releasing) {
        end = releasingAt;
        releasing = undefined;
      } else end = clock.now();
      useTime.observe((end - start) / 1000);
    } catch {
      // never break the pool
    }
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
      if (internals.query === poolQuery) internals.query = originalPoolQuery;
      if (newClient && internals.newClient === newClient) internals.newClient = originalNewClient;
      // Clients keep a pass-through wrapper (inactive) until they close; restore the ones we can see.
      const clients = internals._clients;
      if (Array.isArray(clients)) {
        for (const client of clients as ClientInternals[]) {
          if (!client || client[WRAPPED_BY] !== token) continue;
          const original = client[ORIGINAL_QUERY];
          if (original) client.query = original;
          client[WRAPPED_BY] = undefined;
          client[ORIGINAL_QUERY] = undefined;
          client[ACQUIRED_AT] = -1;
        }
      }
      metrics.pools.delete(poolName);
      instrumentedPools.delete(pool);
      for (const histogram of [metrics.operationDuration, metrics.waitTime, metrics.useTime, metrics.createTime]) histogram.removeMatching(labels);
      for (const counter of [metrics.transactions, metrics.timeouts]) removeSeries(counter, labels);
    },
  };
}

/** Removes every series of one pool from a counter (prom-client removes by exact label set). */
function removeSeries(metric: Counter<string>, labels: { [key: string]: string }): void {
  const hashMap = (metric as unknown as { hashMap?: Record<string, { labels?: Record<string, string> }> }).hashMap;
  if (!hashMap) return;
  for (const entry of Object.values(hashMap)) {
    const series = entry.labels;
    if (series && Object.entries(labels).every(([key, value]) => series[key] === value)) metric.remove(series);
  }
}
