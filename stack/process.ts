import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after the grace period; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Polled until it answers 2xx; the process counts as started then. */
  readyUrl?: string;
  readyTimeoutMs?: number;
}

/** Starts a long-running binary and waits until it is ready; stops it if it never gets there. */
export async function startProcess(options: StartOptions): Promise<RunningProcess> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const handle: RunningProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    child,
    output: () => log,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  if (options.readyUrl) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`${options.name} exited with code ${child.exitCode} before it was ready:\n${log}`);
      }
      const failed = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
      if (failed) throw new Error(`${options.name}: could not start ${options.command}: ${failed.message}`);
      try {
        const response = await fetch(options.readyUrl);
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await handle.stop();
        throw new Error(`${options.name} was not ready at ${options.readyUrl} within ${options.readyTimeoutMs ?? 30_000} ms:\n${log}`);
      }
      await sleep(100);
    }
  }
  return handle;
}

/** Starts one of the binaries described in binaries.ts on its loopback port. */
export function startLaunch(name: string, port: number, launch: { command: string; args: string[]; readyPath: string }): Promise<RunningProcess> {
  return startProcess({ name, command: launch.command, args: launch.args, readyUrl: `http://127.0.0.1:${port}${launch.readyPath}` });
}
