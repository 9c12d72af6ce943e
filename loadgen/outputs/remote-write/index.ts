import type { SeriesSnapshot } from '../../metrics/types.js';
import { RemoteWriteClient, type RemoteWriteStats } from './client.js';
import { parseTrendStat, seriesKey, toRemoteWriteSeries, type Labels, type RemoteWriteSeries } from './series.js';

// Periodic remote-write, as k6's experimental-prometheus-rw: push every interval, and at the end
// a final push plus stale markers for every series written, so an instant query stops returning
// the finished run at once instead of five minutes later.

export { RemoteWriteClient, writeUrl } from './client.js';
export type { PushResult, RemoteWriteClientOptions, RemoteWriteStats } from './client.js';
export { compress, encodeWriteRequest, STALE_NAN_HIGH, STALE_NAN_LOW } from './encode.js';
export { parseTrendStat, sanitizeName, seriesKey, sortedLabels, toRemoteWriteSeries, trendSeriesName } from './series.js';
export type { Labels, RemoteWriteSeries, RemoteWriteSeriesOptions } from './series.js';

export interface StartRemoteWriteOptions {
  /** Prometheus' base URL or its /api/v1/write URL. */
  url: string;
  /** k6's K6_PROMETHEUS_RW_PUSH_INTERVAL; default 5000. */
  intervalMs?: number;
  trendStats: readonly string[];
  extraLabels?: Readonly<Record<string, string>>;
  /** The current value of every series (cumulative since the start of the run). */
  snapshot: () => SeriesSnapshot[];
  log?: (line: string) => void;
  /** Per request; default 5000. */
  timeoutMs?: number;
}

export interface RemoteWriteHandle {
  /** Final push, then stale markers for every series ever written; never rejects. Idempotent. */
  stop(): Promise<RemoteWriteStats>;
}

export function startRemoteWrite(options: StartRemoteWriteOptions): RemoteWriteHandle {
  const intervalMs = options.intervalMs ?? 5_000;
  if (!(intervalMs > 0)) throw new Error(`remote-write: intervalMs must be a positive number of milliseconds, got ${intervalMs}`);
  options.trendStats.forEach(parseTrendStat); // a bad stat is a config error: say so now, not every interval
  const log = options.log ?? (() => {});
  const client = new RemoteWriteClient({ url: options.url, timeoutMs: options.timeoutMs, log });
  const written = new Map<string, Labels>();

  // Prometheus rejects a sample not newer than the series' last one, so timestamps only go up.
  let lastTimestamp = 0;
  const nextTimestamp = () => (lastTimestamp = Math.max(Date.now(), lastTimestamp + 1));

  const collect = (): RemoteWriteSeries[] => {
    let series: RemoteWriteSeries[];
    try {
      series = toRemoteWriteSeries(options.snapshot(), { trendStats: options.trendStats, extraLabels: options.extraLabels });
    } catch (error) {
      log(`remote-write: could not read the metrics: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
    for (const one of series) written.set(seriesKey(one.labels), one.labels);
    return series;
  };

  log(`remote-write: pushing to ${client.url} every ${intervalMs} ms`);
  const timer = setInterval(() => void client.push(collect(), nextTimestamp()), intervalMs);

  let stopped: Promise<RemoteWriteStats> | undefined;
  const stop = async (): Promise<RemoteWriteStats> => {
    clearInterval(timer);
    await client.idle(); // the final push must not be skipped
    await client.push(collect(), nextTimestamp());
    if (written.size > 0) await client.pushStale([...written.values()].map((labels) => ({ labels })), nextTimestamp());
    await client.close();
    const stats = client.stats();
    log(`remote-write: stopped after ${stats.pushes} pushes, ${stats.failedPushes} failed, ${stats.skippedPushes} skipped`);
    return stats;
  };
  return { stop: () => (stopped ??= stop()) };
}
