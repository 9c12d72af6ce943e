import type { SeriesSnapshot, Tags, TrendReader } from '../../metrics/types.js';

// Maps the engine's series to the time series k6's experimental-prometheus-rw output writes:
// k6_<name>_total (counter), k6_<name> (gauge), k6_<name>_rate (rate) and one k6_<name>_<stat>
// per trend stat (K6_PROMETHEUS_RW_TREND_STATS). Time trends are written in seconds, as k6 does.

export type Labels = Record<string, string>;

/** One time series and its current value; `labels` holds `__name__` too. */
export interface RemoteWriteSeries {
  labels: Labels;
  value: number;
}

export interface RemoteWriteSeriesOptions {
  /** k6 trend stats: avg, min, max, med, count, sum, p(N). */
  trendStats: readonly string[];
  /** Static labels (testid, …); a tag of the same name wins, as in k6's K6_PROMETHEUS_RW_LABELS. */
  extraLabels?: Readonly<Record<string, string>>;
  /** Not used for the mapping: the timestamp travels with the push. Accepted for callers that pass it. */
  timestampMs?: number;
}

const PREFIX = 'k6_';

interface TrendStat {
  /** Name suffix: p(99.9) → p999, p(0.999) → p0999, avg → avg. */
  suffix: string;
  read(trend: TrendReader): number;
  /** count is a number of samples, never converted to seconds. */
  isCount: boolean;
}

const NAMED_STATS: Record<string, (t: TrendReader) => number> = {
  avg: (t) => t.sum / t.count,
  min: (t) => t.min,
  max: (t) => t.max,
  med: (t) => t.percentile(50),
  count: (t) => t.count,
  sum: (t) => t.sum,
};

/** Parses one trend stat; throws a clear error for anything k6 would not accept. */
export function parseTrendStat(stat: string): TrendStat {
  const text = stat.trim();
  const named = Object.hasOwn(NAMED_STATS, text) ? NAMED_STATS[text] : undefined;
  if (named) return { suffix: text, read: named, isCount: text === 'count' };
  const match = /^p\((\d+(?:\.\d+)?)\)$/.exec(text);
  const p = match?.[1] === undefined ? NaN : Number(match[1]);
  if (!match?.[1] || !(p >= 0 && p <= 100)) {
    throw new Error(`remote-write: unknown trend stat "${stat}"; use avg, min, max, med, count, sum or p(N) with 0 ≤ N ≤ 100`);
  }
  // k6 drops the dot of a decimal percentile: p(99.9) → p999.
  return { suffix: `p${match[1].replace('.', '')}`, read: (t) => t.percentile(p), isCount: false };
}

/** The k6 series name of a trend stat, e.g. trendSeriesName('http_req_duration', 'p(99.9)') = 'k6_http_req_duration_p999'. */
export function trendSeriesName(metric: string, stat: string): string {
  return `${PREFIX}${sanitizeName(metric)}_${parseTrendStat(stat).suffix}`;
}

/** Prometheus label/metric names allow [a-zA-Z0-9_] and no leading digit; anything else becomes `_`. */
export function sanitizeName(name: string): string {
  const replaced = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** Tags first (they win), then extra labels; empty names or values and `__name__` are dropped, as k6 does. */
function baseLabels(tags: Tags, extra: Readonly<Record<string, string>>): Map<string, string> {
  const labels = new Map<string, string>();
  const add = (source: Readonly<Record<string, string>>) => {
    for (const key of Object.keys(source).sort()) {
      const name = sanitizeName(key);
      const value = source[key];
      // Two tags that sanitize to one name would make Prometheus reject the whole request: first wins.
      if (!name || !value || name === '__name__' || labels.has(name)) continue;
      labels.set(name, value);
    }
  };
  add(tags);
  add(extra);
  return labels;
}

export function toRemoteWriteSeries(snapshots: readonly SeriesSnapshot[], options: RemoteWriteSeriesOptions): RemoteWriteSeries[] {
  const stats = options.trendStats.map(parseTrendStat);
  const out: RemoteWriteSeries[] = [];
  for (const snapshot of snapshots) {
    const labels = baseLabels(snapshot.tags, options.extraLabels ?? {});
    // fromEntries defines own properties, so a tag named __proto__ stays a plain label.
    const push = (name: string, value: number) => out.push({ labels: Object.fromEntries([['__name__', name], ...labels]), value });
    const name = PREFIX + sanitizeName(snapshot.metric.name);
    switch (snapshot.metric.type) {
      case 'counter':
        if (snapshot.counter !== undefined) push(`${name}_total`, snapshot.counter);
        break;
      case 'gauge':
        if (snapshot.gauge !== undefined) push(name, snapshot.gauge);
        break;
      case 'rate':
        // No samples yet means no ratio to publish (0/0).
        if (snapshot.rate && snapshot.rate.total > 0) push(`${name}_rate`, snapshot.rate.passes / snapshot.rate.total);
        break;
      case 'trend': {
        const trend = snapshot.trend;
        if (!trend || trend.count === 0) break;
        // The snapshot keeps times in milliseconds (k6's unit); Prometheus' base unit is the second.
        const toSeconds = snapshot.metric.contains === 'time';
        for (const stat of stats) {
          const value = stat.read(trend);
          push(`${name}_${stat.suffix}`, toSeconds && !stat.isCount ? value / 1000 : value);
        }
        break;
      }
    }
  }
  return out;
}

/** Label pairs sorted by name, byte order (ASCII after sanitizing), as Prometheus requires. */
export function sortedLabels(labels: Labels): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A stable identity for a label set. */
export function seriesKey(labels: Labels): string {
  return JSON.stringify(sortedLabels(labels));
}
