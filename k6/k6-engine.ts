// `--engine k6`: the same scenario files on a k6 the user installed themselves (on PATH or
// K6_BINARY). perfstack never downloads or builds k6; without one, it says how to get it.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { K6_TREND_STATS } from '../metrics/index.js';
import { browserEnv } from '../stack/index.js';

/** Where to get k6 when a user wants `--engine k6`. */
export const K6_INSTALL_HINT =
  'install k6 from Grafana’s own packages (https://grafana.com/docs/k6/latest/set-up/install-k6/) and put it on PATH, or set K6_BINARY to its path; perfstack never downloads k6';

export class K6NotFoundError extends Error {
  override name = 'K6NotFoundError';
  constructor(detail: string) {
    super(`--engine k6: ${detail}; ${K6_INSTALL_HINT}`);
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The user's k6: K6_BINARY, else `k6` on PATH; throws K6NotFoundError naming what it looked at. */
export function findK6(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.K6_BINARY?.trim();
  if (given) {
    if (executable(given)) return given;
    throw new K6NotFoundError(`K6_BINARY is "${given}", which is not an executable file`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'k6');
    if (executable(candidate)) return candidate;
  }
  throw new K6NotFoundError('k6 is not installed (not on PATH, and K6_BINARY is not set)');
}

export interface K6Invocation {
  args: string[];
  /** Set on top of the inherited environment. */
  env: Record<string, string>;
}

export interface K6InvocationOptions {
  script: string;
  scenarioEnv: Record<string, string>;
  testid: string;
  gitSha: string;
  reportPath: string;
  prometheusUrl?: string;
  pushInterval?: string;
  samplesPath?: string;
  browser?: boolean;
  executionSegment?: string;
  executionSegmentSequence?: string;
}

/** The k6 command line and environment for a run (no side effects). */
export function k6Invocation(options: K6InvocationOptions): K6Invocation {
  const env: Record<string, string> = {
    K6_NO_USAGE_REPORT: 'true', // nothing leaves the machine
    // The web dashboard: no HTTP listener at all (port -1), only the HTML report at the end.
    K6_WEB_DASHBOARD: 'true',
    K6_WEB_DASHBOARD_PORT: '-1',
    K6_WEB_DASHBOARD_EXPORT: options.reportPath,
    K6_WEB_DASHBOARD_PERIOD: '1s',
    K6_WEB_DASHBOARD_OPEN: 'false',
    ...(options.browser ? browserEnv() : {}),
  };
  const args = ['run', '--quiet', '--no-color', '--tag', `testid=${options.testid}`, '--tag', `git_sha=${options.gitSha}`];
  if (options.prometheusUrl) {
    env.K6_PROMETHEUS_RW_SERVER_URL = `${options.prometheusUrl.replace(/\/+$/, '')}/api/v1/write`;
    env.K6_PROMETHEUS_RW_TREND_STATS = K6_TREND_STATS.join(',');
    env.K6_PROMETHEUS_RW_STALE_MARKERS = 'true';
    env.K6_PROMETHEUS_RW_PUSH_INTERVAL = options.pushInterval ?? '5s';
    args.push('--out', 'experimental-prometheus-rw');
  }
  if (options.samplesPath) args.push('--out', `json=${options.samplesPath}`);
  if (options.executionSegment) args.push('--execution-segment', options.executionSegment);
  if (options.executionSegmentSequence) args.push('--execution-segment-sequence', options.executionSegmentSequence);
  for (const [key, value] of Object.entries(options.scenarioEnv).sort(([a], [b]) => a.localeCompare(b))) args.push('-e', `${key}=${value}`);
  args.push(options.script);
  return { args, env };
}

/** Runs k6 and returns its exit code; every output line goes to log and to logPath. */
export function runK6(binary: string, invocation: K6Invocation, options: { cwd: string; logPath: string; log: (line: string) => void; signal?: AbortSignal }): Promise<number> {
  return new Promise<number>((resolvePromise, reject) => {
    const child = spawn(binary, invocation.args, { cwd: options.cwd, env: { ...process.env, ...invocation.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    let pending = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      chunks.push(text);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let killTimer: NodeJS.Timeout | undefined;
    const interrupt = () => {
      child.kill('SIGINT'); // k6 stops gracefully and still writes its summary
      killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    };
    options.signal?.addEventListener('abort', interrupt, { once: true });
    child.once('error', (error) => {
      clearTimeout(killTimer);
      reject(new Error(`k6: could not run ${binary}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', interrupt);
      if (pending.trim() !== '') options.log(pending);
      writeFile(options.logPath, chunks.join(''))
        .catch(() => undefined)
        .finally(() => resolvePromise(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 2) : 1)));
    });
  });
}
