// Starts Debian's Chromium headless with a DevTools port on loopback, for Lighthouse to drive.
// Spawned directly (not through chrome-launcher) so a missing binary or a browser that does not
// come up gives one clear error, and the process is stopped by its own PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSER_EXECUTABLE, browserArgs } from '../stack/index.js';
import { AuditError } from './errors.js';

export interface RunningChromium {
  /** The DevTools port on 127.0.0.1. */
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** CHROME_PATH (Lighthouse's own variable), else Debian's /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROME_PATH?.trim() || BROWSER_EXECUTABLE;
}

const DEVTOOLS_LINE = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//;

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Launches Chromium; rejects with AuditError('chromium-missing' | 'chromium-failed'). */
export async function launchChromium(options: { executable?: string; startTimeoutMs?: number } = {}): Promise<RunningChromium> {
  const executable = options.executable ?? chromiumPath();
  if (!existsSync(executable)) {
    throw new AuditError(
      'chromium-missing',
      `Chromium not found at ${executable} (CHROME_PATH${process.env.CHROME_PATH ? '' : ' is unset; default /usr/bin/chromium'}): install it with \`apt-get install chromium\` or point CHROME_PATH at a Chromium/Chrome binary`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'perfstack-audit-chromium-'));
  const args = ['--headless=new', ...browserArgs().map((a) => `--${a}`), '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'];
  const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const cleanup = async () => {
    await stopProcess(child);
    // Chromium's helper processes may still be writing into the profile for a moment after the
    // browser exits: retry, and never let cleanup hide the audit's own outcome.
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // a leftover folder in the temp dir is harmless
    }
  };
  let stderr = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AuditError('chromium-failed', `Chromium (${executable}) did not open its DevTools port within ${options.startTimeoutMs ?? 20_000} ms: ${stderr.trim().slice(-300)}`)), options.startTimeoutMs ?? 20_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EACCES';
        reject(new AuditError(missing ? 'chromium-missing' : 'chromium-failed', `cannot start Chromium (${executable}): ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new AuditError('chromium-failed', `Chromium (${executable}) exited before it was ready (${signal ?? `code ${code}`}): ${stderr.trim().slice(-300)}`));
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = DEVTOOLS_LINE.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    child.removeAllListeners('exit');
    child.stderr!.removeAllListeners('data');
    child.stderr!.resume(); // keep draining, so a chatty browser never blocks on a full pipe
    let stopped: Promise<void> | undefined;
    return { port, pid: child.pid!, stop: () => (stopped ??= cleanup()) };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
