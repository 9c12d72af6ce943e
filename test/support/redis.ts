// Test harness: a throwaway redis-server on a free loopback port, stopped by its PID.
//
//   const redis = await startRedis();
//   redis.kill();            // SIGKILL mid-run: an outage
//   await redis.restart();   // same port, empty cache
//   redis.pause(); redis.resume();   // SIGSTOP / SIGCONT: a Redis that stops answering
//   await redis.stop();

import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisUrl, startRedisServer, type RunningProcess } from '../../stack/index.js';

export interface TestRedis {
  url: string;
  port: number;
  readonly pid: number;
  /** A client for assertions (keys, TTLs); closed by stop(). */
  client(): Redis;
  /** SIGKILL: Redis vanishes without a goodbye, as in a crash. */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** SIGSTOP: the connection stays open but nothing answers. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  stop(): Promise<void>;
}

const live = new Set<RunningProcess>();
let hooked = false;

export async function startRedis(): Promise<TestRedis> {
  if (!hooked) {
    hooked = true;
    // A crashed test run must not leave redis-server behind: SIGKILL by PID (a paused one ignores SIGTERM).
    process.once('exit', () => {
      for (const server of live) server.child.kill('SIGKILL');
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'perfstack-redis-'));
  let port = 0;
  let server: RunningProcess | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !server; attempt++) {
    port = await freePort();
    try {
      server = await startRedisServer({ port, dir });
    } catch (error) {
      lastError = error; // another process took the port between freePort() and bind: try another
    }
  }
  if (!server) {
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }
  live.add(server);
  const clients: Redis[] = [];

  const handle: TestRedis = {
    url: redisUrl(port),
    port,
    get pid() {
      return server!.pid;
    },
    client() {
      const client = new Redis(redisUrl(port), { maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async kill() {
      const current = server!;
      const exited = new Promise<void>((resolve) => (current.child.exitCode !== null || current.child.signalCode !== null ? resolve() : current.child.once('exit', () => resolve())));
      current.child.kill('SIGKILL');
      await exited;
      live.delete(current);
    },
    async restart() {
      server = await startRedisServer({ port, dir });
      live.add(server);
    },
    pause() {
      process.kill(server!.pid, 'SIGSTOP');
    },
    resume() {
      process.kill(server!.pid, 'SIGCONT');
    },
    async stop() {
      for (const client of clients) client.disconnect(false);
      const current = server!;
      if (current.child.exitCode === null && current.child.signalCode === null) {
        process.kill(current.pid, 'SIGCONT'); // a paused server cannot act on SIGTERM
        await current.stop();
      }
      live.delete(current);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
