import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { Command } from 'commander';
import { runScenario, type RunScenarioResult } from '../../k6/index.js';
import { registerAnalyzeCommand } from '../../cli/commands/analyze.js';
import { startE2eStack, type E2eStack } from '../../test/support/e2e-stack.js';

// A new user's first try: a 10-second smoke run on perfstack's engine, then `perfstack analyze
// --testid`. Every API route the run hit must be in the report, with the number of requests the
// service counted within 10 % of what the engine says it sent to that route.

/** Requests the engine sent per route template (the `name` tag): one http_req_duration point per request. */
async function sentPerRoute(samplesPath: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(samplesPath).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"http_req_duration"')) continue;
    const point = JSON.parse(line) as { type?: string; metric?: string; data?: { value?: number; tags?: Record<string, string> } };
    const name = point.data?.tags?.name;
    if (point.type !== 'Point' || point.metric !== 'http_req_duration' || !name) continue;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** Route → requests, from the report's "Where the time goes" table (| route | service | requests | …). */
function reportedPerRoute(markdown: string): Map<string, number> {
  const table = markdown.split('## Where the time goes')[1]?.split('## Findings')[0] ?? '';
  const counts = new Map<string, number>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1]?.startsWith('/')) continue;
    counts.set(cells[1], Number(cells[3]));
  }
  return counts;
}

describe('perfstack analyze of a 10-second smoke run sees every route', () => {
  let stack: E2eStack | undefined;
  let run: RunScenarioResult;
  let markdown = '';
  const testid = `short-run-${Date.now().toString(36)}`;

  beforeAll(async () => {
    stack = await startE2eStack({ name: 'short-run' });
    run = await runScenario({
      scenario: 'smoke',
      baseUrl: stack.app.url,
      prometheusUrl: stack.prometheusUrl,
      testid,
      outputDir: join(stack.root, 'run'),
      duration: '10s',
      pushInterval: '1s',
      recordSamples: true,
      timeoutMs: 60_000,
      log: () => undefined,
    });
    await sleep(3000); // a few scrapes after the last request
    const program = new Command().exitOverride();
    registerAnalyzeCommand(program);
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['analyze', '--prometheus-url', stack.prometheusUrl, '--testid', testid, '--config', 'perfstack.config.ts'], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    markdown = written.join('');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('lists every API route the run hit, with the request count the engine sent (±10 %)', async () => {
    expect(run.exitCode, `engine log: ${run.logPath}`).toBe(0);
    const sent = await sentPerRoute(run.samplesPath!);
    const apiRoutes = [...sent.keys()].filter((route) => route.startsWith('/api/')).sort();
    expect(apiRoutes.length, 'the smoke scenario walks the API').toBeGreaterThanOrEqual(8);
    const reported = reportedPerRoute(markdown);
    const missing = apiRoutes.filter((route) => !reported.has(route));
    expect(missing, `routes missing from the report:\n${markdown}`).toEqual([]);
    // The figures, for the record: route, engine sent, service counted.
    console.log(apiRoutes.map((route) => `${route.padEnd(24)} sent ${String(sent.get(route)).padStart(4)}  counted ${String(reported.get(route)).padStart(4)}`).join('\n'));
    for (const route of apiRoutes) {
      const expected = sent.get(route)!;
      const got = reported.get(route)!;
      expect(Math.abs(got - expected) / expected, `${route}: service counted ${got}, engine sent ${expected}`).toBeLessThanOrEqual(0.1);
    }
  });
});
