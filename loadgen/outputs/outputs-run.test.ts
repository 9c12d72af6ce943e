// The run's outputs under failure: a Prometheus that is down or rejects every write neither stops
// nor fails the run (it completes, writes its summary and says how many pushes failed), and the
// samples file and HTML report are complete files.

import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../index.js';

const SCRIPT = new URL('./fixtures/steady.ts', import.meta.url).pathname;
let target: Server;
let rejecting: Server;
let targetUrl = '';
let rejectingUrl = '';
let rejectedWrites = 0;
let root = '';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'perfstack-outputs-'));
  target = createServer((_req, res) => res.end('ok'));
  rejecting = createServer((req, res) => {
    rejectedWrites += 1;
    req.resume();
    res.writeHead(503).end('remote-write receiver is overloaded\n');
  });
  [targetUrl, rejectingUrl] = await Promise.all([listen(target), listen(rejecting)]);
});

afterAll(async () => {
  await new Promise((resolve) => target.close(resolve));
  await new Promise((resolve) => rejecting.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe('a run whose Prometheus is down or refuses writes', () => {
  for (const [label, url] of [
    ['nothing listens', () => 'http://127.0.0.1:1'],
    ['every write gets 503', () => rejectingUrl],
  ] as const) {
    it(`${label}: the run completes, passes, writes its summary and counts the failed pushes`, async () => {
      const lines: string[] = [];
      const summaryPath = join(root, `${label.replace(/\W+/g, '-')}.json`);
      const result = await runLoad({
        script: SCRIPT,
        env: { TARGET: targetUrl },
        summaryPath,
        remoteWrite: { url: url(), intervalMs: 500, trendStats: ['p(95)', 'count'] },
        log: (line) => lines.push(line),
      });
      expect(result.exitCode, result.error).toBe(0);
      expect(result.remoteWrite?.pushes).toBe(0);
      expect(result.remoteWrite?.failedPushes).toBeGreaterThanOrEqual(4);
      expect(lines.join('\n')).toMatch(/remote-write: \d+ of \d+ pushes failed .*the run itself is complete/);
      const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
      expect(summary.metrics.http_reqs?.values.count).toBeGreaterThan(20);
    });
  }
  it('the 503 server really saw the pushes', () => {
    expect(rejectedWrites).toBeGreaterThanOrEqual(4);
  });
});

describe('samples and the HTML report', () => {
  it('every request is a line of the samples file, and the report is one complete HTML file', async () => {
    const dir = join(root, 'files');
    const result = await runLoad({
      script: SCRIPT,
      env: { TARGET: targetUrl },
      summaryPath: join(dir, 'summary.json'),
      samplesPath: join(dir, 'samples.json.gz'),
      reportPath: join(dir, 'report.html'),
      report: { scenario: 'steady', testid: 'outputs-1', gitSha: 'abc1234' },
      tags: { testid: 'outputs-1' },
      log: () => undefined,
    });
    expect(result.exitCode, result.error).toBe(0);
    const lines = gunzipSync(await readFile(join(dir, 'samples.json.gz'))).toString('utf8').trim().split('\n');
    const requests = result.summary?.metrics.http_reqs?.values.count;
    expect(lines.length).toBe(requests);
    const point = JSON.parse(lines[0] as string) as { type: string; metric: string; data: { value: number; tags: Record<string, string> } };
    expect(point).toMatchObject({ type: 'Point', metric: 'http_req_duration', data: { tags: { name: '/ok', testid: 'outputs-1', scenario: 'steady', status: '200' } } });
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).toMatch(/<\/html>\s*$/);
    expect(html).toContain('outputs-1');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4);
    // Nothing half-written is left beside the files.
    expect((await readdir(dir)).sort()).toEqual(['report.html', 'samples.json.gz', 'summary.json']);
  });
});
