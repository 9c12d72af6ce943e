import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DB_OPERATION_BUCKETS } from '../../metrics/index.js';
import { PoolHistogram } from './histogram.js';

/** The same family as prom-client's Histogram and as PoolHistogram, each in its own registry. */
function pair(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE) {
  const config = { name: 'demo_duration_seconds', help: 'Help with "quotes", a \\ and a\nnewline.', labelNames: ['pool', 'summary', 'error_type'] };
  const theirs = new Registry();
  const ours = new Registry();
  for (const registry of [theirs, ours]) (registry as Registry<RegistryContentType>).setContentType(contentType);
  const reference = new Histogram({ ...config, buckets: [...DB_OPERATION_BUCKETS], registers: [theirs] });
  const fast = new PoolHistogram({ ...config, buckets: [...DB_OPERATION_BUCKETS], registers: [ours] });
  return { theirs, ours, reference, fast };
}

const LABEL_SETS: Array<Record<string, string>> = [
  { pool: 'a', summary: 'SELECT ?' },
  { pool: 'a', summary: 'quote " backslash \\ newline \n' },
  { pool: 'b', summary: 'SELECT ?', error_type: '42P01' },
];

/** Deterministic values spread over every bucket, the bounds themselves and +Inf. */
function values(n: number): number[] {
  let seed = 7;
  const out = [0, ...DB_OPERATION_BUCKETS, 10.5];
  while (out.length < n) {
    seed = (seed * 16807) % 2147483647;
    out.push((seed / 2147483647) ** 4 * 12);
  }
  return out;
}

describe('PoolHistogram', () => {
  for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
    it(`exposes exactly what prom-client's Histogram exposes (${contentType.split(';')[0]})`, async () => {
      const { theirs, ours, reference, fast } = pair(contentType);
      const series = LABEL_SETS.map((labels) => fast.series(labels));
      values(3000).forEach((value, i) => {
        const k = (i * 7) % LABEL_SETS.length;
        reference.observe(LABEL_SETS[k]!, value);
        series[k]!.observe(value);
      });
      expect(await ours.metrics()).toBe(await theirs.metrics());
      expect(await fast.get()).toEqual(await reference.get());
      expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
      expect(await ours.metrics()).toContain('demo_duration_seconds_bucket{le="0.001",pool="a",summary="SELECT ?"}');
    });
  }

  it('lists a series from its first observation, and follows reset and remove like prom-client', async () => {
    const { theirs, ours, reference, fast } = pair();
    const [a, b, c] = LABEL_SETS.map((labels) => fast.series(labels));
    expect(await ours.metrics()).toBe(await theirs.metrics()); // handed out, not observed: not listed
    c!.observe(0.2);
    reference.observe(LABEL_SETS[2]!, 0.2);
    a!.observe(0.003);
    reference.observe(LABEL_SETS[0]!, 0.003);
    expect(await ours.metrics()).toBe(await theirs.metrics());

    fast.remove(LABEL_SETS[2]!);
    reference.remove(LABEL_SETS[2]!);
    b!.observe(7);
    reference.observe(LABEL_SETS[1]!, 7);
    c!.observe(0.04);
    reference.observe(LABEL_SETS[2]!, 0.04);
    expect(await ours.metrics()).toBe(await theirs.metrics());

    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    b!.observe(0.5);
    reference.observe(LABEL_SETS[1]!, 0.5);
    fast.observe({ pool: 'c' }, 1);
    reference.observe({ pool: 'c' }, 1);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('removes every series of one pool', async () => {
    const { ours, fast } = pair();
    for (const labels of LABEL_SETS) fast.series(labels).observe(0.01);
    fast.removeMatching({ pool: 'a' });
    const text = await ours.metrics();
    expect(text).not.toContain('pool="a"');
    expect(text).toContain('pool="b"');
  });

  it('refuses unknown labels and a second family of the same name', () => {
    const { ours, fast } = pair();
    expect(() => fast.series({ pool: 'a', nope: 'x' })).toThrow(/nope/);
    expect(() => new PoolHistogram({ name: 'demo_duration_seconds', help: 'again', labelNames: [], buckets: [1], registers: [ours] })).toThrow(
      /already been registered/,
    );
  });
});
