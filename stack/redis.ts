// Debian's redis-server (7.0, BSD-3) on loopback: the reference service's read cache. One place
// for its flags, shared by the native stack and the tests. Readiness is a PING, not an HTTP path.

import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startProcess, type RunningProcess } from './process.js';

export const REDIS_BINARY = 'redis-server';

export interface RedisLaunchOptions {
  port: number;
  /** Working folder (redis-server writes nothing there with persistence off, but needs one). */
  dir: string;
  /** Memory cap; with allkeys-lru Redis evicts instead of refusing writes. Default 64mb. */
  maxMemory?: string;
}

/** redis-server arguments: loopback only, protected mode, no persistence (a cache can be rebuilt). */
export function redisLaunch(options: RedisLaunchOptions): { command: string; args: string[] } {
  return {
    command: REDIS_BINARY,
    args: [
      '--port', String(options.port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--save', '',
      '--appendonly', 'no',
      '--dir', options.dir,
      '--maxmemory', options.maxMemory ?? '64mb',
      '--maxmemory-policy', 'allkeys-lru',
      '--daemonize', 'no',
      // Logs go to the pipe startProcess keeps for error messages.
      '--logfile', '',
    ],
  };
}

export function redisUrl(port: number): string {
  return `redis://127.0.0.1:${port}`;
}

/** True once redis-server at the port answers PING. */
export async function redisAnswers(port: number, timeoutMs = 500): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined); // reported through the failed PING below
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect(false);
  }
}

/** Starts redis-server and waits until it answers PING; stops it and throws with its output if it never does. */
export async function startRedisServer(options: RedisLaunchOptions & { readyTimeoutMs?: number }): Promise<RunningProcess> {
  const launch = redisLaunch(options);
  const server = await startProcess({ name: 'redis', command: launch.command, args: launch.args });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (server.child.exitCode !== null) {
      throw new Error(`redis-server exited with code ${server.child.exitCode} before it answered PING on 127.0.0.1:${options.port}:\n${server.output()}`);
    }
    if (await redisAnswers(options.port)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server did not answer PING on 127.0.0.1:${options.port} within ${options.readyTimeoutMs ?? 10_000} ms:\n${server.output()}`);
    }
    await sleep(50);
  }
}
