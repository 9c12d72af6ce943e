// The k6 binary: k6 is a Go program with no Debian or npm package, so perfstack builds the pinned
// version once with `go install` into a cache folder outside the clone, and reuses it afterwards.
//
//   const k6 = await ensureK6({ log: console.log });   // builds on first use (~5 min), then instant
//
// The browser scenario also needs Chromium (the bootstrap's `browser` group).

import { spawn } from 'node:child_process';
import { TOOL_GROUPS } from './bootstrap.js';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { runTool } from './tools.js';

/** The k6 release perfstack's scenarios and remote-write names are written against. */
export const K6_VERSION = 'v1.8.1';
export const K6_MODULE = 'go.k6.io/k6';
/** k6 v1.8.1's go.mod says `go 1.25.0`: older toolchains cannot build it. */
export const MIN_GO_VERSION = [1, 25] as const;

const [chromium] = TOOL_GROUPS.browser;
/** Debian package that brings the Chromium the browser scenario drives (bootstrap.ts knows package names). */
export const BROWSER_APT_PACKAGE = chromium.aptPackage;
/** Where Debian's chromium package puts the browser. */
export const BROWSER_EXECUTABLE = chromium.provides;

/** Whether the browser scenario can run here (Chromium installed). */
export function browserAvailable(): boolean {
  return existsSync(BROWSER_EXECUTABLE);
}

/** The environment k6's browser module needs for Debian's Chromium (headless; no sandbox as root). */
export function browserEnv(): Record<string, string> {
  const args = ['disable-gpu', 'disable-dev-shm-usage', 'no-first-run', 'no-default-browser-check'];
  // Chromium refuses to start its sandbox as root.
  if (process.getuid?.() === 0) args.unshift('no-sandbox');
  return {
    K6_BROWSER_EXECUTABLE_PATH: BROWSER_EXECUTABLE,
    K6_BROWSER_HEADLESS: 'true',
    K6_BROWSER_ARGS: args.join(','),
  };
}

/** `${PERFSTACK_CACHE_DIR ?? XDG_CACHE_HOME ?? ~/.cache}/perfstack/k6-<version>`: outside the clone. */
export function k6CacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.PERFSTACK_CACHE_DIR || env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(root, 'perfstack', `k6-${K6_VERSION}`);
}

/** Path of the cached k6 binary (it may not exist yet). */
export function k6BinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(k6CacheDir(env), 'k6');
}

/** The version `k6 version` reports, e.g. "v1.8.1", or undefined when the binary does not run. */
export function k6Version(binary: string): string | undefined {
  const result = runTool(binary, ['version'], { timeoutMs: 30_000 });
  return result.ok ? /k6 (v\d+\.\d+\.\d+\S*)/.exec(result.output)?.[1] : undefined;
}

/** Finds a `go` new enough to build k6 (on the PATH, then /usr/local/go/bin), or says what it found. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = ['go', '/usr/local/go/bin/go'];
  const found: string[] = [];
  const missing: string[] = [];
  for (const candidate of candidates) {
    const result = runTool(candidate, ['version'], { timeoutMs: 30_000 });
    if (!result.ok) {
      missing.push(candidate);
      continue;
    }
    const match = /go(\d+)\.(\d+)/.exec(result.output);
    const major = Number(match?.[1]);
    const minor = Number(match?.[2]);
    if (match && (major > MIN_GO_VERSION[0] || (major === MIN_GO_VERSION[0] && minor >= MIN_GO_VERSION[1]))) return candidate;
    found.push(`${candidate} is "${result.output.trim()}"`);
  }
  const needs = `Go ${MIN_GO_VERSION.join('.')} or newer`;
  const fix = `Install ${needs} (https://go.dev/dl/, e.g. into /usr/local/go) or put a prebuilt k6 ${K6_VERSION} at ${k6BinaryPath(env)}.`;
  if (found.length > 0) throw new Error(`k6 ${K6_VERSION} is not built yet and building it needs ${needs}, but ${found.join(' and ')}. ${fix}`);
  throw new Error(`k6 ${K6_VERSION} is not built yet and building it needs ${needs}; no go was found (tried ${missing.join(', ')}). ${fix}`);
}

export interface EnsureK6Options {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** How often the build says it is still running. Default 15 s. */
  progressIntervalMs?: number;
}

/** Runs `go install` with GOBIN pointing at `dir`; resolves when it succeeds, rejects with its output. */
function goInstall(go: string, dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void, intervalMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(go, ['install', `${K6_MODULE}@${K6_VERSION}`], {
      env: { ...env, GOBIN: dir, GOFLAGS: [env.GOFLAGS, '-trimpath'].filter(Boolean).join(' ') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-10_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setInterval(() => log(`k6: still building (${Math.round((Date.now() - started) / 1000)} s elapsed)`), intervalMs);
    child.once('error', (error) => {
      clearInterval(timer);
      reject(new Error(`k6: could not run ${go}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new Error(`k6: go install ${K6_MODULE}@${K6_VERSION} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}

/** Builds in flight, per binary path: concurrent calls in one process share one build. */
const building = new Map<string, Promise<string>>();

/**
 * The path of a working k6 of K6_VERSION: the cached binary, or one built now with `go install`
 * (progress every 15 s). Idempotent; concurrent calls in one process share one build.
 */
export function ensureK6(options: EnsureK6Options = {}): Promise<string> {
  const binary = k6BinaryPath(options.env ?? process.env);
  let pending = building.get(binary);
  if (!pending) {
    pending = buildIfMissing(options).finally(() => building.delete(binary));
    building.set(binary, pending);
  }
  return pending;
}

async function buildIfMissing(options: EnsureK6Options): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const binary = k6BinaryPath(env);
  if (existsSync(binary)) {
    const version = k6Version(binary);
    if (version === K6_VERSION) return binary;
    log(`k6: ${binary} reports ${version ?? 'nothing (it does not run)'}, not ${K6_VERSION}; rebuilding`);
  }
  const go = findGo(env);
  // Build into a scratch folder next to the cache, then rename: a half-built binary is never used.
  const scratch = join(dirname(binary), `.build-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const started = Date.now();
  log(`k6: building ${K6_MODULE}@${K6_VERSION} with ${go} into ${dirname(binary)} (a few minutes the first time; cached afterwards)`);
  try {
    await goInstall(go, scratch, env, log, options.progressIntervalMs ?? 15_000);
    const built = join(scratch, 'k6');
    const version = k6Version(built);
    if (version !== K6_VERSION) throw new Error(`k6: the freshly built ${built} reports ${version ?? 'nothing'}, expected ${K6_VERSION}`);
    await rename(built, binary);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  log(`k6: built ${K6_VERSION} in ${Math.round((Date.now() - started) / 1000)} s: ${binary}`);
  return binary;
}
