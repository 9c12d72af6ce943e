// Records a CPU profile of a running Node.js service through its inspector, for a time window or
// while some load runs, and writes profile.cpuprofile, flamegraph.html and top-functions.json.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectCdp, inspectorWebSocketUrl, ProfilerError } from './cdp.js';
import { flameGraphHtml } from './flamegraph.js';
import { checkProfile, flameTree, topFunctions, type CpuProfile, type FunctionTime } from './profile.js';

export interface RecordProfileOptions {
  /** The service's inspector: host:port, http://host:port or ws://host:port/<id> (loopback only). */
  inspect: string;
  /** How long to profile without `during`; with it, the profile lasts as long as `during` does. */
  durationMs: number;
  outputDir: string;
  /** V8's sampling interval, microseconds. Default 1000 (1 ms, the cost stays around a percent). */
  samplingIntervalUs?: number;
  /** Load to profile (a scenario run); the profile stops when it settles. */
  during?: () => Promise<unknown>;
  /** How many functions the summary lists. Default 15. */
  top?: number;
}

export interface RecordedProfile {
  files: { profile: string; flameGraph: string; top: string };
  durationMs: number;
  samples: number;
  /** Sampled time and the idle part of it, milliseconds. */
  totalMs: number;
  idleMs: number;
  top: FunctionTime[];
}

function writeAtomically(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

/** Writes the three files of a profile and returns its summary. */
export async function writeProfile(profile: CpuProfile, outputDir: string, options: { top?: number; title?: string } = {}): Promise<Omit<RecordedProfile, 'durationMs'>> {
  const checked = checkProfile(profile, 'the profile');
  const { functions, totalMs, idleMs } = topFunctions(checked, options.top ?? 15);
  mkdirSync(outputDir, { recursive: true });
  const files = { profile: join(outputDir, 'profile.cpuprofile'), flameGraph: join(outputDir, 'flamegraph.html'), top: join(outputDir, 'top-functions.json') };
  writeAtomically(files.profile, JSON.stringify(checked));
  const busy = totalMs > 0 ? (1 - idleMs / totalMs) * 100 : 0;
  const summary = `${(totalMs / 1000).toFixed(1)} s sampled, ${busy.toFixed(0)} % of it on the CPU (the rest idle), ${checked.samples?.length ?? 0} samples.`;
  writeAtomically(files.flameGraph, await flameGraphHtml({ title: options.title ?? 'CPU profile', tree: flameTree(checked), top: functions, summary }));
  writeAtomically(files.top, `${JSON.stringify({ totalMs, idleMs, functions }, null, 2)}\n`);
  return { files, samples: checked.samples?.length ?? 0, totalMs, idleMs, top: functions };
}

export async function recordProfile(options: RecordProfileOptions): Promise<RecordedProfile> {
  if (!(options.durationMs > 0)) throw new ProfilerError(`duration must be longer than 0, got ${options.durationMs} ms`);
  const interval = options.samplingIntervalUs ?? 1000;
  if (!Number.isInteger(interval) || interval < 50 || interval > 100_000) throw new ProfilerError(`sampling interval must be 50..100000 µs, got ${interval}`);
  const session = await connectCdp(await inspectorWebSocketUrl(options.inspect));
  const started = Date.now();
  let profile: CpuProfile;
  try {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval });
    await session.send('Profiler.start');
    try {
      if (options.during) await options.during();
      else await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    } finally {
      // Stop even when the load failed, so the service is not left profiling.
      profile = (await session.send<{ profile: CpuProfile }>('Profiler.stop')).profile;
      await session.send('Profiler.disable').catch(() => undefined);
    }
  } finally {
    await session.close();
  }
  const durationMs = Date.now() - started;
  const written = await writeProfile(profile, options.outputDir, { top: options.top ?? 15, title: `CPU profile of ${options.inspect}` });
  return { ...written, durationMs };
}

/** Prints the top functions as an aligned table. */
export function formatTopFunctions(top: FunctionTime[]): string {
  return top.map((f, i) => `${String(i + 1).padStart(3)}. ${f.selfMs.toFixed(1).padStart(9)} ms ${(f.selfShare * 100).toFixed(1).padStart(5)} %  ${f.name}${f.location ? `  ${f.location}` : ''}`).join('\n');
}
