import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seed } from '../app/index.js';
import type { TestPostgres } from '../test/support/postgres.js';
import { startSeededPostgres } from '../test/support/seeded-postgres.js';
import { checkProfile, selfTimes } from './index.js';

// The real service as a separate process (`perfstack app --inspect-port 0`), profiled by
// `perfstack profile` over the inspector protocol while a smoke scenario loads it.

const ROOT = resolve(import.meta.dirname, '..');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function perfstack(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/perfstack.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('perfstack profile against the running reference service', () => {
  let postgres: TestPostgres;
  let app: ChildProcess | undefined;
  let appUrl = '';
  let inspectorUrl = '';
  let dir: string;
  let result: CliResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'perfstack-profile-'));
    postgres = await startSeededPostgres();
    app = spawn(process.execPath, [join(ROOT, 'bin/perfstack.js'), 'app', '--port', '0', '--inspect-port', '0', '--database-url', postgres.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`perfstack app did not print its URLs within 60 s: ${output}`)), 60_000);
      app!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        appUrl = /perfstack app listening on (http:\/\/\S+)/.exec(output)?.[1] ?? '';
        inspectorUrl = /inspector listening on (ws:\/\/\S+)/.exec(output)?.[1] ?? '';
        if (appUrl && inspectorUrl) {
          clearTimeout(timer);
          ready();
        }
      });
      app!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      app!.once('exit', (code) => fail(new Error(`perfstack app exited (${code}): ${output}`)));
    });
    result = await perfstack(['profile', '--inspect', inspectorUrl, '--duration', '5s', '--scenario', 'smoke', '--base-url', appUrl, '--out-dir', join(dir, 'out')]);
  }, 180_000);

  afterAll(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((done) => app!.once('exit', done));
      app.kill('SIGTERM');
      await exited;
    }
    await postgres?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens the inspector on loopback only', () => {
    expect(inspectorUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
  });

  it('records a profile of the service while the scenario runs, with the service’s own code in it', () => {
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // 0, or 99 when a busy machine breaks an SLA threshold: either way the load ran.
    expect(result.stdout).toMatch(/scenario smoke \(testid \S+\) exited (0|99)\b/);
    const profile = checkProfile(JSON.parse(readFileSync(join(dir, 'out', 'profile.cpuprofile'), 'utf8')), 'profile.cpuprofile');
    expect(profile.samples!.length).toBeGreaterThan(100);
    // Self times cover the profile from its first sample to its end: every microsecond once.
    const attributed = [...selfTimes(profile).values()].reduce((a, b) => a + b, 0);
    if (profile.timeDeltas!.every((d) => d >= 0)) expect(attributed).toBe(profile.endTime - (profile.startTime + profile.timeDeltas![0]!));
    const urls = new Set(profile.nodes.map((n) => n.callFrame.url));
    expect([...urls].some((u) => u.includes('/app/routes/'))).toBe(true);
    expect([...urls].some((u) => u.includes('node_modules/express') || u.includes('node_modules/router'))).toBe(true);
  });

  it('prints the top 15 functions by self time, as top-functions.json has them', () => {
    const top = JSON.parse(readFileSync(join(dir, 'out', 'top-functions.json'), 'utf8')) as { functions: { name: string; selfMs: number }[] };
    expect(top.functions.length).toBe(15);
    for (let i = 1; i < top.functions.length; i++) expect(top.functions[i]!.selfMs).toBeLessThanOrEqual(top.functions[i - 1]!.selfMs);
    const printed = result.stdout.split('\n').filter((line) => /^\s+\d+\.\s+[\d.]+ ms/.test(line));
    expect(printed).toHaveLength(15);
    expect(printed[0]).toContain(top.functions[0]!.name);
  });

  it('writes a self-contained flame graph page', () => {
    const html = readFileSync(join(dir, 'out', 'flamegraph.html'), 'utf8');
    expect(html).toContain('id="profile-data"');
    expect(html).toContain('d3-flame-graph');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('says clearly when no inspector answers, or the address is not loopback', async () => {
    const none = await perfstack(['profile', '--inspect', '127.0.0.1:1', '--duration', '1s', '--out-dir', join(dir, 'none')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no Node.js inspector answers at 127.0.0.1:1');
    const remote = await perfstack(['profile', '--inspect', '10.0.0.1:9229', '--duration', '1s']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--inspect must be on loopback');
  });
});
