// Execution segments: three engine processes with --execution-segment 0:1/3, 1/3:2/3, 2/3:1 (and
// the sequence 0,1/3,2/3,1), running at once, do the same iterations and requests as one full run,
// and each test-wide iterationInTest runs in exactly one of them.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HERE, REPO, script, startTarget, type Arrival, type Target } from './helpers.js';

interface RunnerResult {
  exitCode: number;
  error?: string;
  iterations: { completed: number; interrupted: number; failed: number };
  counts: Record<string, number>;
  vusMax: number;
}

const SEQUENCE = '0,1/3,2/3,1';
const SEGMENTS = ['0:1/3', '1/3:2/3', '2/3:1'];

function runner(baseUrl: string, segment?: string): Promise<RunnerResult> {
  const args = ['--import', 'tsx', join(HERE, 'segment-runner.ts'), script('segments.ts'), baseUrl, ...(segment ? [segment, SEQUENCE] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as RunnerResult);
      } catch {
        reject(new Error(`runner ${segment ?? 'full'} exited ${code}: ${stdout}\n${stderr}`));
      }
    });
  });
}

let target: Target;
beforeEach(async () => {
  target = await startTarget();
});
afterEach(async () => {
  await target.close();
});

// Retried once: the constant-vus count depends on the wall clock, and four engines share 2 cores.
it('three segment processes together do what one full run does (iterations and requests within 1 %), each iterationInTest once', { retry: 1 }, async () => {
  const [full, ...parts] = await Promise.all([runner(target.url), ...SEGMENTS.map((segment) => runner(target.url, segment))]);
  for (const r of [full, ...parts]) {
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
  }
  const hits = target.on('/hit');
  const of = (segment: string, scenario: string) => hits.filter((h) => h.query.seg === segment && h.query.sc === scenario);
  const scenarios = ['car', 'cvus', 'shared'].map((name) => {
    const key = (metric: string) => `${metric}{scenario:${name}}`;
    const partIterations = parts.map((p) => p.counts[key('iterations')] ?? 0);
    const partRequests = parts.map((p) => p.counts[key('http_reqs')] ?? 0);
    return {
      name,
      fullIterations: full.counts[key('iterations')] ?? 0,
      fullRequests: full.counts[key('http_reqs')] ?? 0,
      partIterations,
      partRequests,
      sumIterations: partIterations.reduce((a, b) => a + b, 0),
      sumRequests: partRequests.reduce((a, b) => a + b, 0),
    };
  });
  console.log(
    [
      `execution segments ${SEGMENTS.join(', ')} (sequence ${SEQUENCE}), three processes at once beside one full run:`,
      ...scenarios.map((s) => `${s.name}: full ${s.fullIterations} iterations / ${s.fullRequests} requests; segments ${s.partIterations.join(' + ')} = ${s.sumIterations} / ${s.partRequests.join(' + ')} = ${s.sumRequests}`),
      `vus_max: full ${full.vusMax}; segments ${parts.map((p) => p.vusMax).join(' + ')}`,
    ].join('\n'),
  );
  for (const s of scenarios) {
    expect(s.fullIterations).toBeGreaterThan(0);
    expect(Math.abs(s.sumIterations - s.fullIterations) / s.fullIterations).toBeLessThanOrEqual(0.01);
    expect(Math.abs(s.sumRequests - s.fullRequests) / s.fullRequests).toBeLessThanOrEqual(0.01);
    // What the target saw agrees with what the engines counted.
    expect(of('full', s.name)).toHaveLength(s.fullRequests);
    SEGMENTS.forEach((segment, i) => expect(of(segment, s.name)).toHaveLength(s.partRequests[i] as number));
    // Every iteration of the whole test ran in exactly one instance: the segments' iterationInTest
    // values are disjoint and, for the schedules with a fixed count, exactly the full run's.
    const fromParts = SEGMENTS.flatMap((segment) => of(segment, s.name).map((h: Arrival) => Number(h.query.it))).sort((a, b) => a - b);
    expect(new Set(fromParts).size).toBe(fromParts.length);
    expect(fromParts).toEqual(of('full', s.name).map((h) => Number(h.query.it)).sort((a, b) => a - b));
    // VU ids are unique across the instances too (gaps allowed, as k6 documents).
    const vus = SEGMENTS.map((segment) => [...new Set(of(segment, s.name).map((h) => h.query.vu))]);
    const allVus = vus.flat();
    expect(new Set(allVus).size).toBe(allVus.length);
  }
  // Each of the three constant-vus instances runs one of the three VUs.
  const cvus = scenarios.find((s) => s.name === 'cvus');
  expect(cvus?.partIterations).toEqual(Array(3).fill((cvus?.fullIterations ?? 0) / 3));
});
