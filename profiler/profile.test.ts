import { describe, expect, it } from 'vitest';
import { flameTree, selfTimes, topFunctions, type CpuProfile } from './index.js';

// root → main → (work, idle); samples: main, work, work, idle; deltas in µs.
const profile: CpuProfile = {
  startTime: 0,
  endTime: 10_000,
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 4] },
    { id: 2, callFrame: { functionName: 'main', url: 'file:///srv/app.js', lineNumber: 0, columnNumber: 0 }, children: [3] },
    { id: 3, callFrame: { functionName: 'work', url: 'file:///srv/app.js', lineNumber: 9, columnNumber: 4 } },
    { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 } },
  ],
  samples: [2, 3, 3, 4],
  timeDeltas: [1000, 1000, 3000, 2000],
};

describe('reading a CPU profile', () => {
  it('gives each sample the time until the next one, and the last one until endTime', () => {
    // main: 1000 (until the 2nd sample); work: 3000 + 2000; idle: 10000 - 7000.
    expect(Object.fromEntries(selfTimes(profile))).toEqual({ 2: 1000, 3: 5000, 4: 3000 });
  });

  it('ranks functions by self time, idle left out but counted in the total', () => {
    const { functions, totalMs, idleMs } = topFunctions(profile);
    expect(totalMs).toBe(9);
    expect(idleMs).toBe(3);
    expect(functions.map((f) => [f.name, f.selfMs, f.location])).toEqual([
      ['work', 5, '/srv/app.js:10:5'],
      ['main', 1, '/srv/app.js:1:1'],
    ]);
    expect(functions[0]!.selfShare).toBeCloseTo(5 / 9, 9);
  });

  it('builds the flame graph tree with total times', () => {
    const tree = flameTree(profile);
    expect(tree.value).toBe(6);
    expect(tree.children.map((c) => [c.name, c.value])).toEqual([['main srv/app.js:1:1', 6]]);
    expect(tree.children[0]!.children.map((c) => [c.name, c.value])).toEqual([['work srv/app.js:10:5', 5]]);
  });
});
