// `perfstack analyze --profile <dir>`: links a CPU profile that `perfstack profile` wrote, and
// summarises it, when the service looked CPU-bound in the range (process CPU near the one core
// JavaScript runs on). A profile of a service that waits on the database says little.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nodejs } from '../../metrics/index.js';
import { ANALYSIS_LIMITS } from './checks.js';
import { run, serviceJobsMatcher, type CheckContext } from './context.js';

export interface ProfileLink {
  dir: string;
  flameGraph: string;
  /** Highest process CPU of a service instance over the range, in cores; undefined when not measured. */
  cpuCores?: number;
  cpuBound: boolean;
  /** The profile's top functions by self time (first 5), when linked. */
  top: { name: string; location: string; selfMs: number; selfShare: number }[];
  note: string;
}

export async function linkProfile(ctx: CheckContext, dir: string): Promise<ProfileLink> {
  const folder = resolve(dir);
  const topFile = join(folder, 'top-functions.json');
  const flameGraph = join(folder, 'flamegraph.html');
  if (!existsSync(topFile) || !existsSync(flameGraph)) {
    throw new Error(`--profile ${dir}: no top-functions.json and flamegraph.html there; record one with \`perfstack profile --inspect <address> --out-dir ${dir}\``);
  }
  const proc = await run(ctx, `max(sum by (job, instance) (rate(${nodejs.cpuSeconds}{${serviceJobsMatcher(ctx.config)}}[${ctx.window}])))`);
  const cpuCores = proc.samples[0]?.value;
  const cpuBound = cpuCores !== undefined && cpuCores >= ANALYSIS_LIMITS.processCpuCores;
  const link: ProfileLink = { dir: folder, flameGraph, cpuBound, top: [], note: '' };
  if (cpuCores !== undefined) link.cpuCores = cpuCores;
  if (!cpuBound) {
    link.note = cpuCores === undefined
      ? 'not linked: the service’s process CPU was not measured in this range'
      : `not linked: the service used ${cpuCores.toFixed(2)} cores at most, below ${ANALYSIS_LIMITS.processCpuCores} (not CPU-bound, so its time goes to waiting, not computing)`;
    return link;
  }
  const parsed = JSON.parse(readFileSync(topFile, 'utf8')) as { functions?: ProfileLink['top'] };
  link.top = (parsed.functions ?? []).slice(0, 5);
  link.note = `the service used ${cpuCores.toFixed(2)} cores (CPU-bound from ${ANALYSIS_LIMITS.processCpuCores}): where that CPU went is in the profile`;
  return link;
}
