import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs/minimal.js';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K6_TREND_STATS, k6 } from '../../../metrics/index.js';
import { freePort, prometheusLaunch, startLaunch, type RunningProcess } from '../../../stack/index.js';
import type { MetricInfo, SeriesSnapshot, TrendReader } from '../../metrics/types.js';
import {
  RemoteWriteClient,
  compress,
  encodeWriteRequest,
  parseTrendStat,
  startRemoteWrite,
  toRemoteWriteSeries,
  trendSeriesName,
  writeUrl,
} from './index.js';

// ---- helpers ----------------------------------------------------------------------------------

/** Percentiles by linear interpolation between closest ranks: enough to know the expected values. */
function trendOf(values: number[]): TrendReader {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    sum: sorted.reduce((a, b) => a + b, 0),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    percentile(p) {
      if (sorted.length === 0) return NaN;
      const rank = (p / 100) * (sorted.length - 1);
      const low = Math.floor(rank);
      const lowValue = sorted[low] as number;
      const highValue = sorted[Math.min(low + 1, sorted.length - 1)] as number;
      return lowValue + (rank - low) * (highValue - lowValue);
    },
  };
}

const metric = (name: string, type: MetricInfo['type'], contains: MetricInfo['contains'] = 'default'): MetricInfo => ({ name, type, contains });

/** A run's worth of built-in metrics, as the engine would snapshot them. */
function runSnapshots(testid: string): SeriesSnapshot[] {
  const request = { testid, scenario: 'default', method: 'GET', url: 'http://127.0.0.1:8080/items?id=1', name: 'items', 'expected-response': 'true' };
  return [
    { metric: metric('http_reqs', 'counter'), tags: request, counter: 42 },
    { metric: metric('iterations', 'counter'), tags: { testid, scenario: 'default' }, counter: 21 },
    { metric: metric('data_sent', 'counter', 'data'), tags: { testid }, counter: 2048 },
    { metric: metric('vus', 'gauge'), tags: { testid }, gauge: 7 },
    { metric: metric('http_req_failed', 'rate'), tags: request, rate: { passes: 1, total: 4 } },
    { metric: metric('checks', 'rate'), tags: { testid, scenario: 'default', check: 'status is 200' }, rate: { passes: 3, total: 3 } },
    { metric: metric('http_req_duration', 'trend', 'time'), tags: request, trend: trendOf([100, 200, 300, 400]) },
    { metric: metric('items_per_page', 'trend'), tags: { testid }, trend: trendOf([1, 2, 3]) },
  ];
}

/** Reads a WriteRequest back with protobufjs' Reader; keeps each sample's raw 8 value bytes. */
function decodeWriteRequest(bytes: Uint8Array) {
  const { Reader } = protobuf;
  const series: { labels: [string, string][]; samples: { value: number; bits: string; timestamp: number }[] }[] = [];
  const top = Reader.create(bytes);
  while (top.pos < top.len) {
    const key = top.uint32();
    if (key >>> 3 !== 1) {
      top.skipType(key & 7);
      continue;
    }
    const ts = Reader.create(top.bytes());
    const one: (typeof series)[number] = { labels: [], samples: [] };
    while (ts.pos < ts.len) {
      const tsKey = ts.uint32();
      const inner = Reader.create(ts.bytes());
      if (tsKey >>> 3 === 1) {
        const label: [string, string] = ['', ''];
        while (inner.pos < inner.len) {
          const k = inner.uint32();
          label[(k >>> 3) - 1] = inner.string();
        }
        one.labels.push(label);
      } else {
        const sample = { value: NaN, bits: '', timestamp: 0 };
        while (inner.pos < inner.len) {
          const k = inner.uint32();
          if (k === ((1 << 3) | 1)) {
            const raw = inner.buf.subarray(inner.pos, inner.pos + 8);
            sample.bits = Buffer.from(raw).reverse().toString('hex'); // little-endian on the wire
            sample.value = inner.double();
          } else {
            sample.timestamp = Number(inner.int64());
          }
        }
        one.samples.push(sample);
      }
    }
    series.push(one);
  }
  return series;
}

function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

// ---- unit tests -------------------------------------------------------------------------------

describe('k6 series naming', () => {
  it('maps trend stats to k6 suffixes, decimal percentiles without the dot', () => {
    expect(parseTrendStat('p(95)').suffix).toBe('p95');
    expect(parseTrendStat('p(99.9)').suffix).toBe('p999');
    expect(parseTrendStat('p(0.999)').suffix).toBe('p0999');
    expect(parseTrendStat('med').suffix).toBe('med');
    expect(trendSeriesName('http_req_duration', 'p(99.9)')).toBe('k6_http_req_duration_p999');
    expect(() => parseTrendStat('p95')).toThrow(/unknown trend stat "p95"/);
    expect(() => parseTrendStat('p(101)')).toThrow(/unknown trend stat/);
    expect(() => parseTrendStat('stddev')).toThrow(/unknown trend stat/);
  });

  it('writes exactly the names the metric contract and dashboards read, time trends in seconds', () => {
    const series = toRemoteWriteSeries(runSnapshots('unit'), { trendStats: [...K6_TREND_STATS, 'p(99.9)', 'med', 'sum'], extraLabels: {} });
    const byName = new Map(series.map((s) => [s.labels.__name__, s.value]));
    for (const name of [k6.httpReqs, k6.iterations, k6.dataSent, k6.vus, k6.httpReqFailedRate, k6.checksRate]) expect(byName.has(name), name).toBe(true);
    expect(byName.get(k6.httpReqFailedRate)).toBe(0.25);
    expect(byName.get(`${k6.httpReqDurationPrefix}_p95`)).toBeCloseTo(0.385, 12);
    expect(byName.get(`${k6.httpReqDurationPrefix}_p999`)).toBeCloseTo(0.3997, 12);
    expect(byName.get(`${k6.httpReqDurationPrefix}_avg`)).toBe(0.25);
    expect(byName.get(`${k6.httpReqDurationPrefix}_sum`)).toBe(1);
    expect(byName.get(`${k6.httpReqDurationPrefix}_count`)).toBe(4); // a count, never scaled
    expect(byName.get('k6_items_per_page_max')).toBe(3); // not a time trend: as is
    expect(byName.get('k6_data_sent_total')).toBe(2048);
  });

  it('turns tags into valid, unique labels; tags win over extra labels', () => {
    const [one] = toRemoteWriteSeries(
      [{ metric: metric('vus', 'gauge'), tags: { 'my.tag': 'a', '1st': 'b', __name__: 'evil', empty: '', 'a-b': 'x', a_b: 'y', testid: 'from-tag', __proto__x: 'p' }, gauge: 1 }],
      { trendStats: [], extraLabels: { testid: 'static', instance: 'ci' } },
    );
    expect(one?.labels).toEqual({ __name__: 'k6_vus', my_tag: 'a', _1st: 'b', 'a_b': 'x', testid: 'from-tag', instance: 'ci', __proto__x: 'p' });
  });

  it('skips series with nothing to publish yet', () => {
    const series = toRemoteWriteSeries(
      [
        { metric: metric('checks', 'rate'), tags: {}, rate: { passes: 0, total: 0 } },
        { metric: metric('http_req_duration', 'trend', 'time'), tags: {}, trend: trendOf([]) },
      ],
      { trendStats: ['p(95)'], extraLabels: {} },
    );
    expect(series).toEqual([]);
  });
});

describe('WriteRequest encoding', () => {
  it('round-trips with labels sorted by name and the exact stale NaN bits', () => {
    const labels = { zeta: '1', __name__: 'k6_vus', alpha: '2', Beta: '3' };
    const normal = decodeWriteRequest(encodeWriteRequest([{ labels, value: 12.5 }], 1_700_000_000_123));
    expect(normal).toHaveLength(1);
    expect(normal[0]?.labels.map(([name]) => name)).toEqual(['Beta', '__name__', 'alpha', 'zeta']);
    expect(normal[0]?.labels).toContainEqual(['zeta', '1']);
    expect(normal[0]?.samples).toEqual([{ value: 12.5, bits: '4029000000000000', timestamp: 1_700_000_000_123 }]);

    const stale = decodeWriteRequest(encodeWriteRequest([{ labels, value: 12.5 }, { labels: { __name__: 'k6_x' } }], 5, { stale: true }));
    expect(stale.map((s) => s.samples[0]?.bits)).toEqual(['7ff0000000000002', '7ff0000000000002']);
    // A JS NaN written as a double is the plain quiet NaN, which Prometheus stores as a value.
    const plainNaN = decodeWriteRequest(encodeWriteRequest([{ labels, value: NaN }], 5));
    expect(plainNaN[0]?.samples[0]?.bits).not.toBe('7ff0000000000002');
  });

  it('compresses in Snappy block format (length-prefixed, not framed)', () => {
    const raw = encodeWriteRequest(toRemoteWriteSeries(runSnapshots('snappy'), { trendStats: [...K6_TREND_STATS], extraLabels: {} }), 1);
    const packed = compress(raw);
    expect(packed[0]).not.toBe(0xff); // the framed format starts with a 0xff stream identifier
    expect(protobuf.Reader.create(packed).uint32()).toBe(raw.length);
    expect(Buffer.from(snappy.uncompress(packed)).equals(Buffer.from(raw))).toBe(true);
  });

  it('accepts a base URL or a write URL', () => {
    expect(writeUrl('http://127.0.0.1:9090')).toBe('http://127.0.0.1:9090/api/v1/write');
    expect(writeUrl('http://127.0.0.1:9090/')).toBe('http://127.0.0.1:9090/api/v1/write');
    expect(writeUrl('http://127.0.0.1:9090/api/v1/write')).toBe('http://127.0.0.1:9090/api/v1/write');
  });
});

// ---- failures never throw ---------------------------------------------------------------------

describe('RemoteWriteClient failures', () => {
  const series = toRemoteWriteSeries(runSnapshots('fail'), { trendStats: ['p(95)'], extraLabels: {} });

  it('counts connection refused and carries on', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const client = new RemoteWriteClient({ url: `http://127.0.0.1:${port}`, log: (line) => lines.push(line) });
    expect(await client.push(series, Date.now())).toBe('failed');
    expect(await client.push(series, Date.now() + 1)).toBe('failed');
    expect(client.stats()).toMatchObject({ pushes: 0, failedPushes: 2 });
    expect(client.stats().lastError).toMatch(/ECONNREFUSED/);
    expect(lines).toHaveLength(1); // the same failure is logged once
    await client.close();
  });

  it('counts a 500 with its status and the first line of the body', async () => {
    const { server, url } = await listen((_req, res) => res.writeHead(500).end('storage is on fire\nsecond line'));
    try {
      const client = new RemoteWriteClient({ url });
      expect(await client.push(series, Date.now())).toBe('failed');
      expect(await client.pushStale(series, Date.now() + 1)).toBe('failed');
      expect(client.stats()).toEqual({ pushes: 0, failedPushes: 2, skippedPushes: 0, lastError: 'HTTP 500: storage is on fire' });
      await client.close();
    } finally {
      await closeServer(server);
    }
  });

  it('times out a push that gets no answer', async () => {
    const { server, url } = await listen(() => {}); // never answers
    try {
      const client = new RemoteWriteClient({ url, timeoutMs: 200 });
      const started = Date.now();
      expect(await client.push(series, Date.now())).toBe('failed');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(client.stats().lastError).toBe('timeout after 200 ms');
      await client.close();
    } finally {
      await closeServer(server);
    }
  });

  it('skips a push while one is in flight and close() waits for it', async () => {
    const requests: { method?: string; path?: string; headers: Record<string, unknown>; body: Buffer }[] = [];
    const { server, url } = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        setTimeout(() => res.writeHead(204).end(), 300);
      });
    });
    try {
      const client = new RemoteWriteClient({ url });
      const first = client.push(series, 1);
      expect(await client.push(series, 2)).toBe('skipped');
      expect(await first).toBe('ok');
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({
        method: 'POST',
        path: '/api/v1/write',
        headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0' },
      });
      const decoded = decodeWriteRequest(snappy.uncompress(new Uint8Array(requests[0]?.body ?? [])));
      expect(decoded).toHaveLength(series.length);

      let settled = false;
      void client.push(series, 3).then(() => (settled = true));
      await client.close(5_000);
      expect(settled).toBe(true);
      expect(client.stats()).toEqual({ pushes: 2, failedPushes: 0, skippedPushes: 1 });
      expect(await client.push(series, 4)).toBe('skipped'); // closed
    } finally {
      await closeServer(server);
    }
  });

  it('close() gives up on a hung push after its bound', async () => {
    const { server, url } = await listen(() => {});
    try {
      const client = new RemoteWriteClient({ url, timeoutMs: 30_000 });
      void client.push(series, 1);
      const started = Date.now();
      await client.close(200);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await closeServer(server);
    }
  });

  it('a driver pointed at nothing stops cleanly and reports the failures', async () => {
    const port = await freePort();
    const handle = startRemoteWrite({ url: `http://127.0.0.1:${port}`, intervalMs: 50, trendStats: ['p(95)'], snapshot: () => runSnapshots('nowhere') });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stats = await handle.stop();
    expect(stats.pushes).toBe(0);
    expect(stats.failedPushes).toBeGreaterThanOrEqual(3); // periodic ones, the final push and the stale markers
    expect(stats.lastError).toMatch(/ECONNREFUSED/);
    expect(await handle.stop()).toBe(stats); // idempotent
  });

  it('rejects an unknown trend stat up front', () => {
    expect(() => startRemoteWrite({ url: 'http://127.0.0.1:1', trendStats: ['p(95)', 'p99'], snapshot: () => [] })).toThrow(/"p99"/);
  });
});

// ---- against a real Prometheus ----------------------------------------------------------------

describe('remote-write into Prometheus 2.42', () => {
  let prometheus: RunningProcess | undefined;
  let base = '';
  let folder = '';

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'perfstack-remote-write-'));
    const configFile = join(folder, 'prometheus.yml');
    await writeFile(configFile, 'global:\n  scrape_interval: 15s\n');
    const port = await freePort();
    prometheus = await startLaunch('prometheus', port, prometheusLaunch({ configFile, dataDir: join(folder, 'data'), port }));
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await prometheus?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  type Result = { metric: Record<string, string>; value: [number, string] };
  async function query(expr: string, atMs?: number): Promise<Result[]> {
    const url = new URL('/api/v1/query', base);
    url.searchParams.set('query', expr);
    if (atMs !== undefined) url.searchParams.set('time', String(atMs / 1000));
    const body = (await (await fetch(url)).json()) as { status: string; error?: string; data: { result: Result[] } };
    expect(body.status, body.error).toBe('success');
    return body.data.result;
  }

  it('stores counters, gauges, rates and trends under k6 names with their labels and values', async () => {
    const testid = `names-${Date.now()}`;
    const client = new RemoteWriteClient({ url: base });
    const now = Date.now();
    const trendStats = [...K6_TREND_STATS, 'p(99.9)', 'med', 'sum'];
    expect(await client.push(toRemoteWriteSeries(runSnapshots(testid), { trendStats, extraLabels: { instance: 'ci' } }), now)).toBe('ok');
    await client.close();

    const all = await query(`{testid="${testid}"}`, now);
    const values = new Map(all.map((r) => [r.metric.__name__, Number(r.value[1])]));
    const stats = trendStats.map((s) => parseTrendStat(s).suffix);
    expect([...values.keys()].sort()).toEqual(
      [
        k6.httpReqs,
        k6.iterations,
        k6.dataSent,
        k6.vus,
        k6.httpReqFailedRate,
        k6.checksRate,
        ...stats.map((s) => `${k6.httpReqDurationPrefix}_${s}`),
        ...stats.map((s) => `k6_items_per_page_${s}`),
      ].sort(),
    );
    expect(values.get(k6.httpReqs)).toBe(42);
    expect(values.get(k6.vus)).toBe(7);
    expect(values.get(k6.httpReqFailedRate)).toBe(0.25);
    expect(values.get(k6.checksRate)).toBe(1);
    expect(values.get(`${k6.httpReqDurationPrefix}_p95`)).toBeCloseTo(0.385, 9);
    expect(values.get(`${k6.httpReqDurationPrefix}_p999`)).toBeCloseTo(0.3997, 9);
    expect(values.get(`${k6.httpReqDurationPrefix}_max`)).toBe(0.4);
    expect(values.get(`${k6.httpReqDurationPrefix}_count`)).toBe(4);

    const [request] = await query(`${k6.httpReqs}{testid="${testid}"}`, now);
    expect(request?.metric).toEqual({
      __name__: k6.httpReqs,
      testid,
      instance: 'ci',
      scenario: 'default',
      method: 'GET',
      url: 'http://127.0.0.1:8080/items?id=1',
      name: 'items',
      expected_response: 'true',
    });
    // The dashboards' selector shape works as written.
    const [p95] = await query(`max by (scenario, url) (${k6.httpReqDurationPrefix}_p95{testid=~"${testid}",scenario=~"default"})`, now);
    expect(Number(p95?.value[1])).toBeCloseTo(0.385, 9);
  });

  it('stale markers end the series for instant queries; max_over_time still sees the value', async () => {
    const testid = `stale-${Date.now()}`;
    const client = new RemoteWriteClient({ url: base });
    const series = toRemoteWriteSeries(runSnapshots(testid), { trendStats: ['p(95)'], extraLabels: {} });
    const pushedAt = Date.now();
    expect(await client.push(series, pushedAt)).toBe('ok');
    expect(await query(`${k6.vus}{testid="${testid}"}`, pushedAt + 500)).toHaveLength(1);

    expect(await client.pushStale(series, pushedAt + 1)).toBe('ok');
    await client.close();
    expect(await query(`{testid="${testid}"}`, pushedAt + 500)).toEqual([]);
    const [max] = await query(`max_over_time(${k6.vus}{testid="${testid}"}[5m])`, pushedAt + 500);
    expect(Number(max?.value[1])).toBe(7);
    const [p95] = await query(`max_over_time(${k6.httpReqDurationPrefix}_p95{testid="${testid}"}[5m])`, pushedAt + 500);
    expect(Number(p95?.value[1])).toBeCloseTo(0.385, 9);
  });

  it('a 4xx from Prometheus is counted with its message', async () => {
    const testid = `old-${Date.now()}`;
    const client = new RemoteWriteClient({ url: base });
    const series = toRemoteWriteSeries(runSnapshots(testid), { trendStats: [], extraLabels: {} });
    expect(await client.push(series, Date.now())).toBe('ok');
    // Far older than the head block: Prometheus refuses it with 400 "out of bounds".
    expect(await client.push(series, Date.now() - 48 * 3_600_000)).toBe('failed');
    expect(client.stats().lastError).toMatch(/^HTTP 400: .*out of bounds/);
    await client.close();
  });

  it('the periodic driver pushes every interval, then a final push and stale markers', async () => {
    const testid = `driver-${Date.now()}`;
    let iterations = 0;
    const lines: string[] = [];
    const handle = startRemoteWrite({
      url: `${base}/api/v1/write`,
      intervalMs: 100,
      trendStats: ['p(95)', 'p(99.9)'],
      extraLabels: { testid },
      log: (line) => lines.push(line),
      snapshot: () => [{ metric: metric('iterations', 'counter'), tags: { scenario: 'default' }, counter: ++iterations }],
    });
    await new Promise((resolve) => setTimeout(resolve, 550));
    const stats = await handle.stop();
    const end = Date.now();
    expect(stats.failedPushes).toBe(0);
    expect(stats.lastError).toBeUndefined();
    expect(stats.pushes).toBeGreaterThanOrEqual(4); // ≥ 2 periodic + final + stale

    expect(await query(`${k6.iterations}{testid="${testid}"}`, end + 1_000)).toEqual([]);
    const [max] = await query(`max_over_time(${k6.iterations}{testid="${testid}"}[5m])`, end + 1_000);
    expect(Number(max?.value[1])).toBe(iterations); // the final push carried the last value
    const [points] = await query(`count_over_time(${k6.iterations}{testid="${testid}"}[5m])`, end + 1_000);
    expect(Number(points?.value[1])).toBe(stats.pushes - 1); // every push but the stale one is a sample
    expect(lines[0]).toMatch(/pushing to .*\/api\/v1\/write every 100 ms/);
  });
});
