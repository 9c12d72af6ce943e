import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { KpiSamples } from '../kpi.js';
import { BaselineStoreError } from './errors.js';

// Per-request durations from k6's JSON output (`--out json=samples.json.gz`, written by
// `perfstack run --samples`): one sample per request, per route template (the `name` tag).

/** Requests per endpoint kept at most: a uniform reservoir keeps long runs bounded. */
export const MAX_SAMPLES_PER_ENDPOINT = 20_000;

interface K6Point {
  type?: string;
  metric?: string;
  data?: { value?: number; tags?: Record<string, string> };
}

/** A tiny seeded generator in [0, 1); reservoir choices only need to be uniform and repeatable. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reads the request durations of a k6 JSON output file into latency samples (seconds), stored as
 * the distribution behind each endpoint's latency_p95. Only routes that belong to a service
 * (those with a `service` tag) count, like the SLA thresholds.
 */
export async function samplesFromK6Json(path: string): Promise<KpiSamples[]> {
  const random = mulberry32(0x5eed);
  const byEndpoint = new Map<string, number[]>();
  const seen = new Map<string, number>();
  let lineNumber = 0;
  const input = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (!line.includes('"http_req_duration"')) continue;
      let point: K6Point;
      try {
        point = JSON.parse(line) as K6Point;
      } catch {
        throw new BaselineStoreError('invalid-json', `${path}:${lineNumber}`, `${path}: line ${lineNumber} is not valid JSON (truncated file?)`);
      }
      const endpoint = point.data?.tags?.name;
      const value = point.data?.value;
      if (point.type !== 'Point' || point.metric !== 'http_req_duration' || !endpoint || !point.data?.tags?.service || typeof value !== 'number') continue;
      const samples = byEndpoint.get(endpoint) ?? [];
      const count = (seen.get(endpoint) ?? 0) + 1;
      seen.set(endpoint, count);
      const seconds = value / 1000;
      if (samples.length < MAX_SAMPLES_PER_ENDPOINT) samples.push(seconds);
      else {
        // Reservoir sampling (Algorithm R) with a seeded generator: a uniform, repeatable subset.
        const slot = Math.floor(random() * count);
        if (slot < MAX_SAMPLES_PER_ENDPOINT) samples[slot] = seconds;
      }
      byEndpoint.set(endpoint, samples);
    }
  } catch (error) {
    if (error instanceof BaselineStoreError) throw error;
    throw new BaselineStoreError('invalid-json', path, `${path}: cannot read k6 samples (${(error as Error).message})`, { cause: error });
  }
  return [...byEndpoint.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([endpoint, samples]) => ({ kpi: 'latency_p95', endpoint, samples }));
}
