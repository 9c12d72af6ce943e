// The open-model executors: iterations start on a schedule whatever the responses do (no
// coordinated omission). A start finds an idle VU, or initialises one up to maxVUs, or is counted
// in dropped_iterations.

import type { ScenarioConfig } from '../options.js';
import type { VirtualUser } from '../runtime/context.js';
import { Executor, wait } from './base.js';

type Config<E extends ScenarioConfig['executor']> = Extract<ScenarioConfig, { executor: E }>;
type ArrivalConfig = Config<'constant-arrival-rate'> | Config<'ramping-arrival-rate'>;

/** Start offsets (ms) of the test's iterations: the j-th iteration, or undefined past the schedule. */
export type StartSchedule = (j: number) => number | undefined;

export function constantSchedule(rate: number, timeUnitMs: number, durationMs: number): StartSchedule {
  return (j) => {
    // Fix: j × (timeUnit / rate) drifts below the true value (7 per minute: the 14th start came out
    // at 119 999.99… ms < 2 min, one start too many); j × timeUnit / rate is exact where it is whole.
    const at = (j * timeUnitMs) / rate;
    return at < durationMs ? at : undefined;
  };
}

/**
 * The j-th start of a piecewise-linear rate: the time where the integral of the rate reaches j.
 * Within a stage the integral is quadratic in time, so each start is solved exactly.
 */
export function rampingSchedule(startRate: number, timeUnitMs: number, stages: ReadonlyArray<{ duration: number; target: number }>): StartSchedule {
  const segments: Array<{ t0: number; d: number; a: number; b: number; n0: number; n1: number }> = [];
  let t0 = 0;
  let n0 = 0;
  let a = startRate / timeUnitMs; // iterations per ms
  for (const stage of stages) {
    const b = stage.target / timeUnitMs;
    const n1 = n0 + ((a + b) / 2) * stage.duration;
    segments.push({ t0, d: stage.duration, a, b, n0, n1 });
    t0 += stage.duration;
    n0 = n1;
    a = b;
  }
  return (j) => {
    for (const s of segments) {
      if (j >= s.n1 - 1e-9) continue;
      if (j < s.n0) return undefined;
      const need = j - s.n0;
      if (need <= 0) return s.t0;
      const slope = (s.b - s.a) / s.d; // rate change per ms
      // need = a·x + slope·x²/2 → x
      const x = Math.abs(slope) < 1e-15 ? need / s.a : (-s.a + Math.sqrt(Math.max(0, s.a * s.a + 2 * slope * need))) / slope;
      return s.t0 + Math.min(s.d, Math.max(0, x));
    }
    return undefined;
  };
}

abstract class ArrivalRate<C extends ArrivalConfig> extends Executor<C> {
  protected abstract schedule(): StartSchedule;

  maxVUs(): number {
    return this.scaled(this.config.maxVUs ?? this.config.preAllocatedVUs);
  }

  private scaled(n: number): number {
    return this.host.segment.isFull ? n : Math.max(1, Math.round(n * this.host.segment.share));
  }

  protected async execute(): Promise<void> {
    const schedule = this.schedule();
    const idle: VirtualUser[] = [];
    const preAllocated = this.scaled(this.config.preAllocatedVUs);
    const max = Math.max(preAllocated, this.maxVUs());
    for (let i = 0; i < preAllocated; i++) idle.push(this.host.newVU());
    let initialised = preAllocated;
    const running = new Set<Promise<unknown>>();
    const duration = this.plannedDurationMs();
    const end = this.startedAt + duration;

    const start = (j: number) => {
      let vu = idle.pop();
      if (!vu && initialised < max) {
        vu = this.host.newVU();
        initialised += 1;
      }
      if (!vu) {
        this.host.dropped(this.info);
        return;
      }
      const worker = vu;
      this.host.activeVUs(1);
      const done: Promise<unknown> = this.iterate(worker, j).finally(() => {
        this.host.activeVUs(-1);
        idle.push(worker);
        running.delete(done);
      });
      running.add(done);
    };

    for (let j = 0; !this.stopped; j++) {
      const at = schedule(j);
      if (at === undefined || at >= duration) break;
      if (!this.host.segment.owns(j)) continue;
      const delay = this.startedAt + at - this.host.now();
      // Timers fire no sooner than 1 ms; starts that are due within it go now, and late ones catch up.
      if (delay > 1) await wait(delay, this.host.stopSignal);
      if (this.stopped) break;
      start(j);
    }
    const drain = (async () => {
      while (running.size > 0) await Promise.all([...running]);
    })();
    await this.finish(drain, end);
  }
}

export class ConstantArrivalRate extends ArrivalRate<Config<'constant-arrival-rate'>> {
  plannedDurationMs(): number {
    return this.config.duration;
  }
  protected schedule(): StartSchedule {
    return constantSchedule(this.config.rate, this.config.timeUnit, this.config.duration);
  }
}

export class RampingArrivalRate extends ArrivalRate<Config<'ramping-arrival-rate'>> {
  plannedDurationMs(): number {
    return this.config.stages.reduce((sum, s) => sum + s.duration, 0);
  }
  protected schedule(): StartSchedule {
    return rampingSchedule(this.config.startRate, this.config.timeUnit, this.config.stages);
  }
}
