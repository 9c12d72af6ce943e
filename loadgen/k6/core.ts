// The `k6` module: check, group, fail, randomSeed. `sleep` is deliberately absent: it blocks the
// VU, and perfstack's VUs share one event loop; scripts await a timer instead (docs/load-engine.md).

import { activeRun, iterationStorage } from '../runtime/context.js';

type Checkers<T> = Record<string, (value: T) => unknown>;

/** k6's check(): one `checks` sample per checker, tagged with its name; true when all passed. */
export function check<T>(value: T, checkers: Checkers<T>, tags?: Record<string, string>): boolean {
  const run = activeRun();
  const context = run.current();
  // Fix: an interrupted iteration's code that carries on in the background must not add checks
  // (k6 stops the VU's code at the interruption), as k6/http already refuses its requests.
  if (context?.stage === 'default' && context.signal.aborted) throw new Error('the iteration was interrupted (gracefulStop ran out)');
  const base = run.baseTags(context);
  const groupPath = context?.group ?? '';
  let results = run.checkResults.get(groupPath);
  if (!results) run.checkResults.set(groupPath, (results = new Map()));
  let all = true;
  for (const [name, checker] of Object.entries(checkers)) {
    let ok: boolean;
    try {
      ok = Boolean(typeof checker === 'function' ? checker(value) : checker);
    } catch {
      ok = false; // a checker that throws is a failed check, as in k6
    }
    if (!ok) all = false;
    let tally = results.get(name);
    if (!tally) results.set(name, (tally = { passes: 0, fails: 0 }));
    if (ok) tally.passes += 1;
    else tally.fails += 1;
    const extra: Record<string, string> = { ...tags };
    if (run.systemTags.has('check')) extra.check = name;
    run.emit(run.builtin.checks, ok ? 1 : 0, run.tagSet(base, extra));
  }
  return all;
}

/**
 * k6's group(): runs fn with the group in the tags of every sample it makes. Unlike k6's, an async
 * fn keeps its group across awaits (the group travels with the async context), so it is sound here.
 */
export function group<T>(name: string, fn: () => T): T {
  if (name.includes('::')) throw new Error(`group name "${name}" may not contain "::"`);
  const context = iterationStorage.getStore();
  if (!context) return fn();
  const run = activeRun();
  const inner = { ...context, group: `${context.group}::${name}` };
  const started = performance.now();
  const groupDuration = run.registry.define('group_duration', 'trend', 'time');
  // (Not for an interrupted iteration: its group did not finish.)
  const finish = () => {
    if (!inner.signal.aborted) run.emit(groupDuration, performance.now() - started, run.tagSet(run.baseTags(inner)));
  };
  const result = iterationStorage.run(inner, fn);
  if (result instanceof Promise) return result.finally(finish) as T;
  finish();
  return result;
}

/** k6's fail(): throws, which ends the iteration (it is not counted as a completed one). */
export function fail(message?: string): never {
  throw new Error(message ?? 'fail() called');
}

/** Not supported: perfstack's VUs share one Math.random; kept so a call says why. */
export function randomSeed(_seed: number): void {
  throw new Error('randomSeed() is not supported by perfstack’s engine: its virtual users share one random generator');
}
