// Fast checks of the k6 room: the scenario catalog matches the config and the service, every
// scenario file passes `k6 inspect`, the verdicts read a summary right, the command line is complete.

import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerRunCommand } from '../cli/commands/run.js';
import { DEMO_USER, ENTITY_CATEGORIES } from '../app/index.js';
import { parseConfig } from '../config/index.js';
import { K6_TREND_STATS } from '../metrics/index.js';
import projectConfig from '../perfstack.config.js';
import { inspectScript } from '../loadgen/index.js';
import {
  SCENARIOS,
  SCENARIOS_DIR,
  UnknownScenarioError,
  findScenario,
  formatVerdictTable,
  K6NotFoundError,
  findK6,
  k6Invocation,
  newTestId,
  runScenario,
  verdictsForRun,
  verdictsFromSummary,
  type K6Summary,
} from './index.js';
import * as catalog from './scenarios/lib/catalog.js';
import thresholdsJson from './thresholds.json' with { type: 'json' };

const run = promisify(execFile);

describe('scenario catalog', () => {
  const config = parseConfig(projectConfig, 'perfstack.config.ts');

  it('tags exactly the routes perfstack.config.ts gives each service', () => {
    const fromConfig = Object.fromEntries(config.services.flatMap((s) => (s.routes ?? []).map((route) => [route, s.name])));
    const tagged = Object.fromEntries(Object.entries(catalog.ROUTE_SERVICE).filter(([, service]) => service !== null));
    expect(tagged).toEqual(fromConfig);
  });

  it('uses the service’s categories and demo user', () => {
    expect([...catalog.ENTITY_CATEGORIES]).toEqual([...ENTITY_CATEGORIES]);
    expect(catalog.DEMO_USER).toEqual(DEMO_USER);
  });

  it('lists every scenario file once, and nothing else', () => {
    const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
    expect(SCENARIOS.map((s) => s.name).sort()).toEqual(files);
    for (const s of SCENARIOS) expect(s.description.length).toBeGreaterThan(10);
  });

  it('names the valid scenarios when given a bad one', () => {
    expect(() => findScenario('smok')).toThrow(UnknownScenarioError);
    expect(() => findScenario('smok')).toThrow(/valid scenarios: smoke, load, stress, spike, soak, breakpoint, read-heavy, write-heavy, mixed, browser/);
  });

  it('refuses a base URL off the loopback address before starting anything', async () => {
    await expect(runScenario({ scenario: 'smoke', baseUrl: 'http://example.com', outputDir: '/nonexistent' })).rejects.toThrow(/loopback/);
    await expect(runScenario({ scenario: 'nope', baseUrl: 'http://127.0.0.1:1', outputDir: '/nonexistent' })).rejects.toThrow(/valid scenarios/);
    await expect(runScenario({ scenario: 'smoke', baseUrl: 'http://127.0.0.1:1', duration: '5 minutes', outputDir: '/nonexistent' })).rejects.toThrow(/duration/);
  });
});

describe('k6 command line (--engine k6)', () => {
  it('remote-writes with the contract’s trend stats and stale markers, exports the report, binds no dashboard port', () => {
    const invocation = k6Invocation({
      script: `${SCENARIOS_DIR}smoke.ts`,
      scenarioEnv: { PERFSTACK_BASE_URL: 'http://127.0.0.1:8080', PERFSTACK_VUS: '2', PERFSTACK_DURATION: '5s', PERFSTACK_SUMMARY_PATH: '/tmp/out/summary.json' },
      reportPath: '/tmp/out/report.html',
      prometheusUrl: 'http://127.0.0.1:9090',
      testid: 't-1',
      gitSha: 'abc1234',
      pushInterval: '1s',
      executionSegment: '1/3:2/3',
      executionSegmentSequence: '0,1/3,2/3,1',
    });
    expect(invocation.env).toMatchObject({
      K6_PROMETHEUS_RW_SERVER_URL: 'http://127.0.0.1:9090/api/v1/write',
      K6_PROMETHEUS_RW_TREND_STATS: K6_TREND_STATS.join(','),
      K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
      K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
      K6_WEB_DASHBOARD: 'true',
      K6_WEB_DASHBOARD_PORT: '-1',
      K6_WEB_DASHBOARD_EXPORT: '/tmp/out/report.html',
      K6_NO_USAGE_REPORT: 'true',
    });
    const args = invocation.args.join(' ');
    expect(args).toContain('--out experimental-prometheus-rw');
    expect(args).toContain('--tag testid=t-1');
    expect(args).toContain('--tag git_sha=abc1234');
    expect(args).toContain('--execution-segment 1/3:2/3 --execution-segment-sequence 0,1/3,2/3,1');
    expect(args).toContain('-e PERFSTACK_BASE_URL=http://127.0.0.1:8080 ');
    expect(args).toContain('-e PERFSTACK_VUS=2');
    expect(args).toContain('-e PERFSTACK_DURATION=5s');
    expect(args).toContain('-e PERFSTACK_SUMMARY_PATH=/tmp/out/summary.json');
    expect(invocation.args.at(-1)).toBe(`${SCENARIOS_DIR}smoke.ts`);
  });

  it('leaves remote-write out without a Prometheus, and gives Chromium its flags for the browser scenario', () => {
    const invocation = k6Invocation({ script: `${SCENARIOS_DIR}browser.ts`, scenarioEnv: {}, reportPath: '/tmp/out/report.html', testid: 't', gitSha: 'x', browser: true });
    expect(invocation.args).not.toContain('--out');
    expect(invocation.env.K6_PROMETHEUS_RW_SERVER_URL).toBeUndefined();
    expect(invocation.env).toMatchObject({ K6_BROWSER_EXECUTABLE_PATH: '/usr/bin/chromium', K6_BROWSER_HEADLESS: 'true' });
  });

  it('finds k6 through K6_BINARY or PATH, and says how to install it when it is absent (never downloading it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perfstack-k6-bin-'));
    try {
      expect(() => findK6({ PATH: dir })).toThrow(K6NotFoundError);
      expect(() => findK6({ PATH: dir })).toThrow(/k6 is not installed \(not on PATH, and K6_BINARY is not set\).*Grafana’s own packages.*never downloads k6/);
      expect(() => findK6({ PATH: dir, K6_BINARY: join(dir, 'nope') })).toThrow(/K6_BINARY is ".*nope", which is not an executable file/);
      await writeFile(join(dir, 'k6'), '#!/bin/sh\necho fake\n', { mode: 0o755 });
      expect(findK6({ PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'k6'));
      expect(findK6({ PATH: '', K6_BINARY: join(dir, 'k6') })).toBe(join(dir, 'k6'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('perfstack run --engine k6 stops before any load with the install hint when k6 is absent', async () => {
    const saved = { PATH: process.env.PATH, K6_BINARY: process.env.K6_BINARY };
    process.env.PATH = '/nonexistent';
    delete process.env.K6_BINARY;
    try {
      await expect(runScenario({ scenario: 'smoke', baseUrl: 'http://127.0.0.1:1', outputDir: '/nonexistent', engine: 'k6' })).rejects.toThrow(/--engine k6: k6 is not installed/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.K6_BINARY !== undefined) process.env.K6_BINARY = saved.K6_BINARY;
    }
  });

  it('makes test ids that sort by start time', () => {
    const a = newTestId('smoke', new Date('2026-01-02T03:04:05.678Z'));
    expect(a).toMatch(/^20260102T030405Z-smoke-[0-9a-f]{4}$/);
    expect(newTestId('smoke', new Date('2026-01-02T03:04:06Z')) > a).toBe(true);
  });
});

describe('verdicts', () => {
  const summary: K6Summary = {
    metrics: {
      'http_req_duration{service:api}': {
        type: 'trend',
        contains: 'time',
        values: { 'p(95)': 612.4, 'p(50)': 300, count: 40 },
        thresholds: { 'p(95)<500': { ok: false } },
      },
      'http_req_failed{service:api}': { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 40 }, thresholds: { 'rate<0.001': { ok: true } } },
      'http_req_duration{service:search}': {
        type: 'trend',
        contains: 'time',
        values: { 'p(50)': 12.5, 'p(95)': 40, count: 10 },
        thresholds: { 'p(50)<400': { ok: true }, 'p(95)<3000': { ok: true } },
      },
      'http_reqs{service:search}': { type: 'counter', contains: 'default', values: { count: 10, rate: 2.5 }, thresholds: { 'rate>50': { ok: false } } },
      checks: { type: 'rate', contains: 'default', values: { rate: 1, passes: 50, fails: 0 }, thresholds: { 'rate>=0.99': { ok: true } } },
      js_bundle_bytes: { type: 'gauge', contains: 'default', values: { value: 1440 }, thresholds: { 'value<1048576': { ok: true } } },
      http_req_waiting: { type: 'trend', contains: 'time', values: { 'p(95)': 3 } },
    },
  };

  it('reads every threshold of the summary, per service, with target and measurement', () => {
    const verdicts = verdictsFromSummary(summary);
    expect(verdicts.map((v) => [v.service, v.metric, v.threshold, v.pass])).toEqual([
      ['api', 'http_req_duration', 'p(95)<500', false],
      ['api', 'http_req_failed', 'rate<0.001', true],
      ['search', 'http_req_duration', 'p(50)<400', true],
      ['search', 'http_req_duration', 'p(95)<3000', true],
      ['search', 'http_reqs', 'rate>50', false],
      [null, 'checks', 'rate>=0.99', true],
      [null, 'js_bundle_bytes', 'value<1048576', true],
    ]);
    const [latency, errors, , , throughput, , bundle] = verdicts;
    expect(latency).toMatchObject({ target: 'p(95) < 500 ms', measured: 612.4, measuredText: '612 ms' });
    expect(errors).toMatchObject({ target: 'rate < 0.1 %', measuredText: '0 %' });
    expect(throughput).toMatchObject({ target: 'rate > 50/s', measuredText: '2.5/s' });
    expect(bundle).toMatchObject({ target: 'value < 1 MiB', measuredText: '1.41 KiB' });
  });

  it('prints a table per service and says what failed', () => {
    const table = formatVerdictTable(verdictsFromSummary(summary));
    expect(table).toMatch(/^service api: FAIL \(1 of 2\)$/m);
    expect(table).toMatch(/^service search: FAIL \(1 of 3\)$/m);
    expect(table).toMatch(/^run: pass$/m);
    expect(table).toMatch(/http_req_duration\s+p\(95\) < 500 ms\s+612 ms\s+FAIL/);
    expect(table).toMatch(/2 of 7 thresholds FAILED\n$/);
  });

  it('turns a failed k6 run without a failing threshold into a failing verdict', () => {
    expect(verdictsForRun(undefined, 107)).toEqual([expect.objectContaining({ metric: 'k6 run', pass: false, measuredText: expect.stringMatching(/script error/) })]);
    expect(verdictsForRun({ metrics: {} }, 99).at(-1)).toMatchObject({ pass: false, measuredText: expect.stringMatching(/thresholds failed/) });
    expect(verdictsForRun(summary, 99).filter((v) => v.metric === 'k6 run')).toEqual([]);
  });
});

describe('perfstack run', () => {
  const program = () => {
    const p = new Command().name('perfstack').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerRunCommand(p);
    return p;
  };

  it('rejects an unknown scenario and lists the valid ones', async () => {
    await expect(program().parseAsync(['node', 'perfstack', 'run', 'smok'])).rejects.toThrow(/unknown scenario "smok"; valid scenarios: smoke, load, .*browser/);
  });

  it('rejects a base URL off loopback and a bad duration, naming the flag', async () => {
    await expect(program().parseAsync(['node', 'perfstack', 'run', 'smoke', '--base-url', 'http://10.1.2.3:80', '--no-remote-write'])).rejects.toThrow(/baseUrl must be http:\/\/127\.0\.0\.1/);
    await expect(program().parseAsync(['node', 'perfstack', 'run', 'smoke', '--duration', '5 min'])).rejects.toThrow(/--duration must be a k6 duration/);
    await expect(program().parseAsync(['node', 'perfstack', 'run', 'smoke', '--vus', '0'])).rejects.toThrow(/--vus must be a positive/);
  });
});

/** The user's own k6, when this machine has one; perfstack never installs it. */
function installedK6(): string | undefined {
  try {
    return findK6();
  } catch {
    return undefined;
  }
}

function checkScenarioOptions(name: string, options: { scenarios: string[]; thresholds: string[] }): void {
  const info = findScenario(name);
  // The scenario carries the perfstack scenario's name, so the `scenario` label says which ran.
  expect(options.scenarios).toEqual([name]);
  for (const key of Object.keys(thresholdsJson.thresholds)) expect(options.thresholds, `${name}: ${key}`).toContain(key);
  const throughputKeys = Object.keys(thresholdsJson.throughput).filter((key) => options.thresholds.includes(key));
  if (info.throughput) expect(throughputKeys.length, name).toBeGreaterThan(0);
  else expect(throughputKeys, name).toEqual([]);
}

describe('scenario files', () => {
  it('every scenario type-checks against @types/k6, so it stays valid k6 code', async () => {
    const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
    const result = await run(tsc, ['-p', 'k6', '--noEmit'], { timeout: 120_000 }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe('');
  });

  it('every scenario loads on perfstack’s engine with its scenario and the generated SLA thresholds', async () => {
    for (const s of SCENARIOS) {
      const inspection = await inspectScript(`${SCENARIOS_DIR}${s.name}.ts`, { env: { PERFSTACK_BASE_URL: 'http://127.0.0.1:8080' } });
      checkScenarioOptions(s.name, { scenarios: inspection.options.scenarios.map((c) => c.name), thresholds: inspection.thresholds.map((t) => t.key) });
      expect(inspection.functions, s.name).toEqual(expect.arrayContaining(['default', 'handleSummary', 'setup']));
    }
  });

  const k6 = installedK6();
  it.skipIf(!k6)(`every scenario passes k6 inspect on the user's own k6 (skipped: ${k6 ? 'k6 found' : 'no k6 on this machine; perfstack never installs it'})`, async () => {
    for (const s of SCENARIOS) {
      const { stdout } = await run(k6 as string, ['inspect', '--execution-requirements', `${SCENARIOS_DIR}${s.name}.ts`], { env: { ...process.env, K6_NO_USAGE_REPORT: 'true' }, timeout: 30_000 });
      const options = JSON.parse(stdout) as { scenarios: Record<string, unknown>; thresholds: Record<string, unknown> };
      checkScenarioOptions(s.name, { scenarios: Object.keys(options.scenarios), thresholds: Object.keys(options.thresholds) });
    }
  });
});
