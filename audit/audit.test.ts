import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { startApp, type RunningApp } from '../app/index.js';
import { openBaselineStore } from '../regression/index.js';
import { browserAvailable } from '../stack/index.js';
import type { TestPostgres } from '../test/support/postgres.js';
import { startSeededPostgres } from '../test/support/seeded-postgres.js';
import { AUDIT_EXIT_CODES, runAudit, type RunAuditResult } from './index.js';

// Lighthouse on Debian's Chromium against the real reference service, its runs stored in a real
// baseline store; then the CLI's exit codes for each way an audit can end.

const ROOT = resolve(import.meta.dirname, '..');
const config = parseConfig(defaults);

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function perfstack(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/perfstack.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A config module: the project's config with other front-end budgets. */
function configWith(dir: string, name: string, frontend: Record<string, unknown>): string {
  const file = join(dir, `${name}.config.mts`); // .mts: an ES module outside any package.json
  writeFileSync(file, `import base from ${JSON.stringify(join(ROOT, 'perfstack.config.ts'))};\nexport default { ...base, frontend: { ...base.frontend, ...${JSON.stringify(frontend)} } };\n`);
  return file;
}

/** Bytes of every external script the page names, as the browser decodes them. */
async function scriptBytes(pageUrl: string): Promise<number> {
  const html = await (await fetch(pageUrl)).text();
  let total = 0;
  for (const [, src] of html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) {
    total += (await (await fetch(new URL(src!, pageUrl))).arrayBuffer()).byteLength;
  }
  return total;
}

describe.skipIf(!browserAvailable())('perfstack audit on Chromium against the reference service', () => {
  let postgres: TestPostgres;
  let app: RunningApp | undefined;
  let storeUrl: string;
  let dir: string;
  let first: RunAuditResult;
  let second: RunAuditResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'perfstack-audit-'));
    postgres = await startSeededPostgres();
    await postgres.query('CREATE DATABASE audit_store');
    storeUrl = postgres.url.replace(/\/[^/]+$/, '/audit_store');
    app = await startApp({ databaseUrl: postgres.url, config, port: 0, log: () => undefined });
    const common = { url: `${app.url}/`, config, runs: 1, storeUrl, branch: 'main' };
    first = await runAudit({ ...common, outputDir: join(dir, 'first') });
    second = await runAudit({ ...common, outputDir: join(dir, 'second') });
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    await postgres?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('measures the page: paints, blocking time, layout shift, score, and exactly the JavaScript it loads', async () => {
    const m = first.audit.metrics;
    expect(m.fcpSeconds).toBeGreaterThan(0);
    expect(m.lcpSeconds).toBeGreaterThanOrEqual(m.fcpSeconds);
    expect(m.speedIndexSeconds).toBeGreaterThan(0);
    expect(m.tbtSeconds).toBeGreaterThanOrEqual(0);
    expect(m.cls).toBeGreaterThanOrEqual(0);
    expect(m.performanceScore).toBeGreaterThan(0);
    expect(m.performanceScore).toBeLessThanOrEqual(1);
    const expected = await scriptBytes(`${app!.url}/`);
    expect(expected).toBeGreaterThan(0);
    expect(m.javascriptBytes).toBe(expected);
    expect(first.audit.lighthouseVersion).toBe('12.2.3');
    expect(readFileSync(first.files.html, 'utf8')).toContain('Lighthouse');
    expect(JSON.parse(readFileSync(first.files.summary, 'utf8')).budgets).toHaveLength(7);
  });

  it('stores each audit as a run with its KPIs, which compare and history judge like any other', async () => {
    expect(first.stored).toEqual({ ok: true });
    expect(second.stored).toEqual({ ok: true });
    expect(first.scenario).toBe('lighthouse:/');
    const store = openBaselineStore(storeUrl);
    try {
      const values = await store.kpiValues(second.testid);
      expect(values.map((v) => v.kpi).sort()).toEqual([
        'lighthouse_cls', 'lighthouse_fcp', 'lighthouse_javascript_bytes', 'lighthouse_lcp', 'lighthouse_performance_score', 'lighthouse_speed_index', 'lighthouse_tbt',
      ]);
      expect(values.find((v) => v.kpi === 'lighthouse_lcp')!.value).toBeCloseTo(second.audit.metrics.lcpSeconds, 9);
      expect((await store.getRun(second.testid))!.importedFrom).toBe('lighthouse');
    } finally {
      await store.close();
    }
    const compare = await perfstack(['compare', second.testid, '--store-url', storeUrl, '--out-dir', join(dir, 'compare')]);
    expect(compare.code, compare.stderr).toBe(0);
    expect(readFileSync(join(dir, 'compare', 'regression-report.md'), 'utf8')).toMatch(/lighthouse_lcp|Lighthouse LCP/);
    const history = await perfstack(['history', '--scenario', 'lighthouse:/', '--kpi', 'lighthouse_lcp', '--store-url', storeUrl]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/2 runs|lighthouse_lcp/);
  });

  // Each spawns the CLI, which starts Chromium and runs Lighthouse: slow on a busy machine.
  it('exits 0 when every budget holds', { timeout: 300_000 }, async () => {
    const loose = configWith(dir, 'loose', { lcpSeconds: 60, fcpSeconds: 60, cls: 1, javascriptBytes: 10_000_000, audit: { performanceScoreMin: 0, tbtSeconds: 60, speedIndexSeconds: 60, runs: 1 } });
    const ok = await perfstack(['audit', `${app!.url}/`, '--config', loose, '--no-store', '--out-dir', join(dir, 'ok')]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(AUDIT_EXIT_CODES.ok);
    expect(ok.stdout).toMatch(/ok\s+Lighthouse LCP/);
  });

  it('exits 1 naming each broken budget', { timeout: 300_000 }, async () => {
    const strict = configWith(dir, 'strict', { lcpSeconds: 0.001, javascriptBytes: 1, audit: { performanceScoreMin: 0, tbtSeconds: 60, speedIndexSeconds: 60, runs: 1 } });
    const broken = await perfstack(['audit', `${app!.url}/`, '--config', strict, '--no-store', '--out-dir', join(dir, 'broken')]);
    expect(broken.code, broken.stdout + broken.stderr).toBe(AUDIT_EXIT_CODES.budgetsBroken);
    expect(broken.stdout).toMatch(/FAIL\s+Lighthouse LCP/);
    expect(broken.stderr).toContain('2 budgets broken: frontend.lcpSeconds, frontend.javascriptBytes');
  });
});

describe('perfstack audit failure paths', () => {
  let hanging: Server;
  let hangingUrl: string;

  beforeAll(async () => {
    // Accepts connections and requests, never answers.
    hanging = createServer(() => undefined);
    await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    hanging.closeAllConnections();
    await new Promise((done) => hanging.close(done));
  });

  it('refuses a page that is not on loopback', async () => {
    const result = await perfstack(['audit', 'http://example.com/', '--no-store']);
    expect(result.code).toBe(AUDIT_EXIT_CODES.invalidInput);
    expect(result.stderr).toContain('loopback pages only');
    expect(result.stderr).toContain('"example.com"');
  });

  it('says Chromium is missing when CHROME_PATH points nowhere', async () => {
    const result = await perfstack(['audit', hangingUrl, '--no-store'], { CHROME_PATH: '/nonexistent/chromium' });
    expect(result.code).toBe(AUDIT_EXIT_CODES.chromiumMissing);
    expect(result.stderr).toContain('Chromium not found at /nonexistent/chromium');
  });

  it.skipIf(!browserAvailable())('says the page never loaded when the server accepts but never answers', async () => {
    const result = await perfstack(['audit', hangingUrl, '--no-store', '--timeout', '3']);
    expect(result.code).toBe(AUDIT_EXIT_CODES.pageDidNotLoad);
    expect(result.stderr).toContain(`the page never loaded: ${hangingUrl} did not answer within 3000 ms`);
  });
});
