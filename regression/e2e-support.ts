// Helpers of regression/e2e.test.ts: the test's config module, the perfstack CLI as a bounded
// child process, the fault switch over HTTP, the published verdict file, and polling a log file.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/**
 * Writes `<folder>/e2e.config.mts`: the project's perfstack.config.ts with test timing. Returns its path.
 */
export function writeE2eConfig(folder: string): string {
  const file = join(folder, 'e2e.config.mts');
  const defineConfigModule = join(PROJECT_ROOT, 'config', 'index.ts');
  const baseModule = join(PROJECT_ROOT, 'perfstack.config.ts');
  writeFileSync(
    file,
    `// Written by regression/e2e.test.ts: the project config, with test timing.
import { defineConfig } from ${JSON.stringify(defineConfigModule)};
import base from ${JSON.stringify(baseModule)};

const config = structuredClone(base);
// Scrape node_exporter's textfile verdicts and evaluate the rules every second.
config.scrape = { interval: '1s', evaluationInterval: '1s' };
// Alertmanager notifies one second after an alert arrives (repeatInterval stays as it is).
for (const severity of Object.values(config.alerting.severities)) {
  severity.groupWait = '1s';
  severity.groupInterval = '1s';
}
// The regression sensitivity is the project's, the shipped default: the baseline's runs measure
// the run-to-run noise, and the smallest change that counts grows with it.

export default defineConfig(config);
`,
  );
  return file;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node bin/perfstack.js ...args` in the project folder; killed (SIGKILL) after timeoutMs. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'perfstack.js'), ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** POST /admin/fault on the reference service; `{}` turns every fault off. Returns the settings it answered. */
export async function setFault(appUrl: string, adminTokenFile: string, settings: { latencyMs?: number; errorRate?: number; route?: string }): Promise<unknown> {
  const token = readFileSync(adminTokenFile, 'utf8').trim();
  const response = await fetch(`${appUrl}/admin/fault`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(settings),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as unknown;
  if (!response.ok) throw new Error(`POST /admin/fault answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped; label values unescaped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const pair of (match[2] ?? '').matchAll(pairs)) {
      labels[pair[1]!] = pair[2]!.replace(/\\(["\\n])/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * The Slack capture server's log as messages: each `received <channel>: <titles>` line, with the
 * indented attachment text that follows it.
 */
export function capturedMessages(logText: string): { channel: string; title: string; text: string }[] {
  const messages: { channel: string; title: string; text: string }[] = [];
  let current: { channel: string; title: string; text: string } | undefined;
  for (const line of logText.split('\n')) {
    const received = /received (\S+|\(no channel\)): (.*)$/.exec(line);
    if (received) {
      current = { channel: received[1]!, title: received[2]!, text: '' };
      messages.push(current);
    } else if (current && line.startsWith('    ')) {
      current.text += `${line.slice(4)}\n`;
    } else {
      current = undefined;
    }
  }
  return messages;
}

/** Polls a file until `find` returns something for its text, or throws after timeoutMs with the text seen. */
export async function pollFile<T>(file: string, find: (text: string) => T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const found = find(text);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`nothing matching in ${file} within ${timeoutMs} ms; it holds:\n${text.slice(-4000) || '(nothing)'}`);
    await sleep(everyMs);
  }
}

/** `regressed latency_p95 /api/search: 4210.3 % (CI …)` lines of `perfstack compare`, and the per-KPI changes it prints. */
export function compareLines(stdout: string): { verdict: string; kpi: string; endpoint: string; change: string }[] {
  const lines: { verdict: string; kpi: string; endpoint: string; change: string }[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^(regressed|improved)\s+(\S+)(?: (\S+))?: (\S+ %)/.exec(line);
    if (match) lines.push({ verdict: match[1]!, kpi: match[2]!, endpoint: match[3] ?? '', change: match[4]! });
  }
  return lines;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One line per endpoint: requests and median latency of each run, and the relative change of the medians (what the rank test's verdict measures). */
export function describeChanges(baseline: ReadonlyMap<string, number[]>, candidate: ReadonlyMap<string, number[]>): string {
  const lines: string[] = [];
  for (const [endpoint, before] of [...baseline].sort(([a], [b]) => a.localeCompare(b))) {
    const after = candidate.get(endpoint);
    if (!after || before.length === 0 || after.length === 0) continue;
    const [b, c] = [median(before), median(after)];
    lines.push(`  ${endpoint.padEnd(20)} n ${String(before.length).padStart(4)} → ${String(after.length).padStart(4)}   median ${(b * 1000).toFixed(1).padStart(7)} ms → ${(c * 1000).toFixed(1).padStart(7)} ms   ${((c / b - 1) * 100).toFixed(1).padStart(7)} %`);
  }
  return lines.join('\n');
}

/**
 * The reference service's entities table back to `keepUpToId` (the seeded rows): smoke's create and
 * bulk flows add about a hundred entities per iteration and never remove them. Vacuumed and
 * analysed, so the trigram index and the planner see the seeded table again. Returns the rows removed.
 */
export async function restoreSeededEntities(databaseUrlFile: string, keepUpToId: number): Promise<number> {
  const client = new pg.Client({ connectionString: readFileSync(databaseUrlFile, 'utf8').trim(), statement_timeout: 30_000 });
  await client.connect();
  try {
    const deleted = await client.query('DELETE FROM entities WHERE id > $1', [keepUpToId]);
    await client.query('VACUUM (ANALYZE) entities');
    return deleted.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** The highest entity id (the end of the seeded rows right after the stack's first start) and the row count. */
export async function entityExtent(databaseUrlFile: string): Promise<{ maxId: number; rows: number }> {
  const client = new pg.Client({ connectionString: readFileSync(databaseUrlFile, 'utf8').trim(), statement_timeout: 30_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ max_id: string | null; rows: string }>('SELECT max(id) AS max_id, count(*) AS rows FROM entities');
    return { maxId: Number(rows[0]?.max_id ?? 0), rows: Number(rows[0]?.rows ?? 0) };
  } finally {
    await client.end();
  }
}
