// A small Prometheus HTTP API client for the analysis: instant queries evaluated at the end of the
// analysed range, and raw range selectors (for a k6 run's first and last sample).

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface RawSeries {
  labels: Record<string, string>;
  /** [unix seconds, value] pairs as stored. */
  points: [number, number][];
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

type QueryData =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: [number, string] }[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

export class PrometheusError extends Error {
  constructor(
    message: string,
    readonly query?: string,
  ) {
    super(message);
    this.name = 'PrometheusError';
  }
}

export interface PrometheusClient {
  readonly url: string;
  /** Instant query at `time` (unix seconds); NaN and ±Inf samples are dropped. */
  instant(query: string, time: number): Promise<Sample[]>;
  /** Instant query of a range selector (`metric{...}[30d]`): the raw samples. */
  raw(query: string, time: number): Promise<RawSeries[]>;
  /** Throws a PrometheusError naming the URL when Prometheus does not answer. */
  ping(): Promise<void>;
}

export function prometheusClient(url: string, timeoutMs = 15_000): PrometheusClient {
  const base = url.replace(/\/+$/, '');
  const call = async (query: string, time: number): Promise<QueryData> => {
    const body = new URLSearchParams({ query, time: time.toFixed(3) });
    let response: Response;
    try {
      response = await fetch(`${base}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new PrometheusError(`cannot reach Prometheus at ${base}: ${(error as Error).message}`, query);
    }
    let parsed: ApiResponse<QueryData>;
    try {
      parsed = (await response.json()) as ApiResponse<QueryData>;
    } catch {
      throw new PrometheusError(`Prometheus at ${base} answered HTTP ${response.status} without a JSON body`, query);
    }
    if (parsed.status !== 'success' || !parsed.data) {
      throw new PrometheusError(`${parsed.errorType ?? `HTTP ${response.status}`}: ${parsed.error ?? 'no data'}`, query);
    }
    return parsed.data;
  };
  return {
    url: base,
    async instant(query, time) {
      const data = await call(query, time);
      if (data.resultType === 'scalar') {
        const value = Number(data.result[1]);
        return Number.isFinite(value) ? [{ labels: {}, value }] : [];
      }
      if (data.resultType !== 'vector') throw new PrometheusError(`expected an instant vector, got a ${data.resultType}`, query);
      return data.result
        .map((r) => ({ labels: r.metric, value: Number(r.value[1]) }))
        .filter((s) => Number.isFinite(s.value));
    },
    async raw(query, time) {
      const data = await call(query, time);
      if (data.resultType !== 'matrix') throw new PrometheusError(`expected a range vector, got a ${data.resultType}`, query);
      return data.result.map((r) => ({ labels: r.metric, points: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
    },
    async ping() {
      try {
        const response = await fetch(`${base}/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        throw new PrometheusError(`cannot reach Prometheus at ${base}: ${(error as Error).message}`);
      }
    },
  };
}

/** A PromQL double-quoted string literal. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Escapes RE2 metacharacters so a literal (a route template) matches only itself. */
export function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
