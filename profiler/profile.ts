// Reading a V8 CPU profile (.cpuprofile, as Profiler.stop returns it): self time per function from
// the samples and their time deltas, and the call tree as a flame graph's nested nodes.

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  scriptId?: string;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** functionName, or (anonymous). */
  name: string;
  /** file:line:column (1-based), or the V8 pseudo-frame's empty location. */
  location: string;
  selfMs: number;
  /** Share of the sampled time (idle included). */
  selfShare: number;
}

/** V8's pseudo-frames that are no JavaScript function. */
const PSEUDO = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

function locationOf(frame: CallFrame): string {
  if (!frame.url) return '';
  const file = frame.url.replace(/^file:\/\//, '');
  return `${file}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`;
}

/**
 * Self time per node id, in microseconds. Sample i lasts until sample i + 1 (timeDeltas[i + 1]);
 * the last one until the profile's endTime.
 */
export function selfTimes(profile: CpuProfile): Map<number, number> {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const self = new Map<number, number>();
  let timestamp = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    timestamp += deltas[i] ?? 0;
    const next = i + 1 < samples.length ? (deltas[i + 1] ?? 0) : Math.max(0, profile.endTime - timestamp);
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + Math.max(0, next));
  }
  return self;
}

/** The functions with the most self time, merged over every call path of one function. */
export function topFunctions(profile: CpuProfile, limit = 15): { functions: FunctionTime[]; totalMs: number; idleMs: number } {
  const self = selfTimes(profile);
  const byFunction = new Map<string, FunctionTime>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const micros = self.get(node.id) ?? 0;
    total += micros;
    if (node.callFrame.functionName === '(idle)') idle += micros;
    const name = node.callFrame.functionName || '(anonymous)';
    const location = locationOf(node.callFrame);
    const key = `${name}\u0000${location}`;
    const entry = byFunction.get(key) ?? { name, location, selfMs: 0, selfShare: 0 };
    entry.selfMs += micros / 1000;
    byFunction.set(key, entry);
  }
  const functions = [...byFunction.values()]
    .filter((f) => f.name !== '(idle)' && f.name !== '(root)' && f.selfMs > 0)
    .map((f) => ({ ...f, selfShare: total > 0 ? f.selfMs / (total / 1000) : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs || a.name.localeCompare(b.name))
    .slice(0, limit);
  return { functions, totalMs: total / 1000, idleMs: idle / 1000 };
}

export interface FlameNode {
  name: string;
  /** Total time (self plus children), milliseconds. */
  value: number;
  children: FlameNode[];
}

/** The call tree with total times, for d3-flame-graph; (idle) is left out (it is no work). */
export function flameTree(profile: CpuProfile): FlameNode {
  const self = selfTimes(profile);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const childIds = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const root = profile.nodes.find((n) => !childIds.has(n.id));
  if (!root) return { name: '(root)', value: 0, children: [] };
  const build = (node: ProfileNode): FlameNode => {
    const frame = node.callFrame;
    const label = PSEUDO.has(frame.functionName) ? frame.functionName : `${frame.functionName || '(anonymous)'}${frame.url ? ` ${locationOf(frame).split('/').slice(-2).join('/')}` : ''}`;
    const children = (node.children ?? [])
      .map((id) => byId.get(id))
      .filter((child): child is ProfileNode => child !== undefined && child.callFrame.functionName !== '(idle)')
      .map(build)
      .filter((child) => child.value > 0);
    const value = (self.get(node.id) ?? 0) / 1000 + children.reduce((sum, child) => sum + child.value, 0);
    return { name: label, value, children };
  };
  return build(root);
}

/** Checks the shape of a .cpuprofile; throws naming what is wrong. */
export function checkProfile(value: unknown, source: string): CpuProfile {
  const profile = value as Partial<CpuProfile> | null;
  if (!profile || !Array.isArray(profile.nodes) || typeof profile.startTime !== 'number' || typeof profile.endTime !== 'number') {
    throw new Error(`${source} is not a V8 CPU profile (needs nodes, startTime and endTime)`);
  }
  return profile as CpuProfile;
}
