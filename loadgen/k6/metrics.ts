// `k6/metrics`: custom Counter, Gauge, Rate and Trend, kept and published like the built-in ones.

import type { Metric } from '../metrics/registry.js';
import type { MetricType } from '../metrics/types.js';
import { activeRun } from '../runtime/context.js';

abstract class CustomMetric {
  readonly name: string;
  private readonly metric: Metric;
  constructor(type: MetricType, name: string, isTime = false) {
    const run = activeRun();
    // k6 defines custom metrics only in the init context; so does perfstack (the registry is per run).
    if (run.current() && run.current()?.stage !== 'init') throw new Error(`metrics can only be created in the init context (new ${type} "${name}")`);
    this.name = name;
    this.metric = run.registry.define(name, type, isTime ? 'time' : 'default');
  }
  add(value: number | boolean, tags?: Record<string, string>): void {
    const run = activeRun();
    // Fix: an interrupted iteration's code goes on in the background (a promise cannot be killed);
    // its samples were still counted. k6 stops the VU's code at the interruption: stop it here too.
    const context = run.current();
    if (context?.stage === 'default' && context.signal.aborted) throw new Error('the iteration was interrupted (gracefulStop ran out)');
    const number = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
    if (!Number.isFinite(number)) throw new Error(`${this.name}.add(): ${String(value)} is not a number`);
    run.emit(this.metric, number, run.tagSet(run.baseTags(), tags));
  }
}

export class Counter extends CustomMetric {
  constructor(name: string) {
    super('counter', name);
  }
}
export class Gauge extends CustomMetric {
  constructor(name: string, isTime = false) {
    super('gauge', name, isTime);
  }
}
export class Rate extends CustomMetric {
  constructor(name: string) {
    super('rate', name);
  }
}
export class Trend extends CustomMetric {
  constructor(name: string, isTime = false) {
    super('trend', name, isTime);
  }
}
