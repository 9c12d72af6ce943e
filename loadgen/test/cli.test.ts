// Bad input through the CLI, as a user meets it: `perfstack run <script> --base-url …`. Each
// problem gives one line naming what and where (file:line for the script, the option's path for
// options) and a documented exit code: 107 script, 104 options, 2 unreachable target or bad flag,
// 99 failed thresholds. An exception in the default function is logged with its file and line and
// the run goes on; one in setup() exits 107.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, script, startTarget, tempDir, type Target } from './helpers.js';

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, line by line. */
  lines: string[];
  outDir: string;
}

let target: Target;
let dir: Awaited<ReturnType<typeof tempDir>>;
let runs = 0;
/** Two CLI processes at a time (each spends ~1.5 s of CPU starting up; the machine has 2 cores). */
let slots = 2;
const waiting: Array<() => void> = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  else slots -= 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots += 1;
  }
}

function perfstackRun(scriptPath: string, options: { baseUrl?: string; env?: Record<string, string>; extra?: string[] } = {}): Promise<Cli> {
  runs += 1;
  const outDir = join(dir.path, `run-${runs}`);
  const args = ['bin/perfstack.js', 'run', scriptPath, '--base-url', options.baseUrl ?? target.url, '--no-remote-write', '--no-store', '--out-dir', outDir, ...(options.extra ?? [])];
  return slot(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr, lines: `${stdout}\n${stderr}`.split('\n'), outDir });
        });
      }),
  );
}

const thresholdOptions = (threshold: string) => JSON.stringify({ scenarios: { main: { executor: 'shared-iterations', vus: 1, iterations: 3 } }, thresholds: { 'http_req_duration{name:/slow}': [threshold] } });

/** Every CLI run starts at once (two at a time); each test awaits its own. */
let cli: Record<'syntax' | 'httpGet' | 'sleep' | 'crypto' | 'setup' | 'executor' | 'threshold' | 'unreachable' | 'badFlag' | 'unknownFlag' | 'defaultThrows' | 'passing' | 'failing', Promise<Cli>>;
let unreachableUrl = '';

beforeAll(async () => {
  target = await startTarget();
  dir = await tempDir();
  const closed = await startTarget();
  unreachableUrl = closed.url;
  await closed.close(); // nothing listens on this port any more
  cli = {
    syntax: perfstackRun(script('bad-syntax.js')),
    httpGet: perfstackRun(script('bad-http-get.ts')),
    sleep: perfstackRun(script('bad-sleep.ts')),
    crypto: perfstackRun(script('bad-crypto.ts')),
    setup: perfstackRun(script('setup-throws.ts')),
    executor: perfstackRun(script('bad-executor.ts')),
    threshold: perfstackRun(script('bad-threshold.ts')),
    unreachable: perfstackRun(script('default-throws.ts'), { baseUrl: unreachableUrl }),
    badFlag: perfstackRun(script('default-throws.ts'), { extra: ['--execution-segment', '2/3:1/3'] }),
    unknownFlag: perfstackRun(script('default-throws.ts'), { extra: ['--no-such-flag'] }),
    defaultThrows: perfstackRun(script('default-throws.ts')),
    passing: perfstackRun(script('tagged.ts'), { env: { OPTIONS: thresholdOptions('p(95)<5000') } }),
    failing: perfstackRun(script('tagged.ts'), { env: { OPTIONS: thresholdOptions('p(95)<10') } }),
  };
  // A rejected run is reported by its own test; none may be left unhandled meanwhile.
  for (const run of Object.values(cli)) run.catch(() => undefined);
});
afterAll(async () => {
  await Promise.allSettled(Object.values(cli ?? {}));
  await target.close();
  await dir.remove();
});

/** The 1-based line of the first line of the file that contains `text`. */
function lineOf(file: string, text: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`${file} has no line with ${text}`);
  return index + 1;
}

/** `file:line` as the engine prints it: relative to the working directory (the repository) or absolute. */
const at = (file: string, text: string) => `${relative(REPO, file)}:${lineOf(file, text)}`;

/** The first output line that matches. */
function lineWith(result: Cli, pattern: RegExp): string {
  const found = result.lines.filter((line) => pattern.test(line));
  expect(found, `no line matches ${pattern}:\n${result.stdout}\n${result.stderr}`).not.toHaveLength(0);
  return found[0] as string;
}

describe('perfstack run: bad scripts exit 107 with file:line', () => {
  it('a syntax error', async () => {
    const result = await cli.syntax;
    expect(result.code).toBe(107);
    const line = lineWith(result, /^perfstack run: /);
    expect(line).toContain(`${at(script('bad-syntax.js'), "const body = { name: 'x';")}:`);
    console.log(`syntax error → exit ${result.code}: ${line}`);
  });

  it('http.get (synchronous k6/http)', async () => {
    const result = await cli.httpGet;
    expect(result.code).toBe(107);
    const line = lineWith(result, /^perfstack run: .*k6\/http\.get is not supported/);
    expect(line).toContain(`${at(script('bad-http-get.ts'), 'http.get(')}:`);
    expect(line).toMatch(/asyncRequest/); // says what to use instead
    console.log(`http.get → exit ${result.code}: ${line}`);
  });

  it("sleep from 'k6'", async () => {
    const result = await cli.sleep;
    expect(result.code).toBe(107);
    const line = lineWith(result, /^perfstack run: .*sleep \(from "k6"\) is not supported/);
    expect(line).toContain(`${at(script('bad-sleep.ts'), "import { sleep } from 'k6';")}:`);
    expect(line).toMatch(/setTimeout/);
    console.log(`sleep → exit ${result.code}: ${line}`);
  });

  it("import … from 'k6/crypto'", async () => {
    const result = await cli.crypto;
    expect(result.code).toBe(107);
    const line = lineWith(result, /^perfstack run: .*module "k6\/crypto" is not supported/);
    expect(line).toContain(`${at(script('bad-crypto.ts'), "from 'k6/crypto'")}:`);
    console.log(`k6/crypto → exit ${result.code}: ${line}`);
  });

  it('an exception in setup()', async () => {
    const result = await cli.setup;
    expect(result.code).toBe(107);
    const line = lineWith(result, /^perfstack run: .*setup\(\) failed: no fixture to set up/);
    expect(line).toContain(at(script('setup-throws.ts'), "throw new Error('no fixture to set up')"));
    console.log(`setup() throws → exit ${result.code}: ${line}`);
  });
});

describe('perfstack run: bad options exit 104 naming the option', () => {
  it('an unknown executor', async () => {
    const result = await cli.executor;
    expect(result.code).toBe(104);
    const line = lineWith(result, /^perfstack run: options\.scenarios\.main\.executor: unknown executor "constant-rps"/);
    console.log(`unknown executor → exit ${result.code}: ${line}`);
  });

  it('a malformed threshold', async () => {
    const result = await cli.threshold;
    expect(result.code).toBe(104);
    const line = lineWith(result, /^perfstack run: options\.thresholds\["http_req_duration"\]\[0\] "p95<500": /);
    console.log(`malformed threshold → exit ${result.code}: ${line}`);
  });
});

describe('perfstack run: the target and the flags', () => {
  it('an unreachable target exits 2 and names it', async () => {
    const result = await cli.unreachable;
    expect(result.code).toBe(2);
    const line = lineWith(result, new RegExp(`nothing answers at ${unreachableUrl.replace(/[.]/g, '\\.')}`));
    console.log(`unreachable target → exit ${result.code}: ${line}`);
  });

  it('a bad flag exits 2 and names it', async () => {
    const result = await cli.badFlag;
    expect(result.code).toBe(2);
    const line = lineWith(result, /--execution-segment: "2\/3:1\/3"/);
    console.log(`bad flag → exit ${result.code}: ${line}`);
  });

  it('an unknown flag exits 2 and names it', async () => {
    const result = await cli.unknownFlag;
    expect(result.code).toBe(2);
    lineWith(result, /unknown option '--no-such-flag'/);
  });
});

describe('perfstack run: errors during load, and the thresholds’ exit codes', () => {
  it('an exception in the default function is logged with file:line and the run goes on (exit 0)', async () => {
    const result = await cli.defaultThrows;
    expect(result.code).toBe(0);
    const file = script('default-throws.ts');
    const line = lineWith(result, /script error in main \(VU 1\): odd iteration refused/);
    expect(line).toContain(`at ${file}:${lineOf(file, "throw new Error('odd iteration refused')")}`);
    // All four iterations ran (two threw): the run went on after each error. (setup-throws' run
    // never got as far as its default function, so it requested nothing.)
    expect(target.arrivals.filter((a) => a.path === '/').map((a) => a.query.it).sort()).toEqual(['0', '1', '2', '3']);
    const summary = JSON.parse(readFileSync(join(result.outDir, 'summary.json'), 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
    expect(summary.metrics.iterations?.values.count).toBe(4);
    console.log(`default() throws → exit ${result.code}: ${line}`);
  });

  it('thresholds: passing exits 0, failing exits 99', async () => {
    expect((await cli.passing).code).toBe(0);
    expect((await cli.failing).code).toBe(99);
  });
});
