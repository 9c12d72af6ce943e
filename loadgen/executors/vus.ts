// The closed-model executors: a number of VUs loop over iterations (constant-vus, ramping-vus,
// per-vu-iterations, shared-iterations). Each VU starts its next iteration when the last ends.

import type { ScenarioConfig } from '../options.js';
import type { VirtualUser } from '../runtime/context.js';
import { Executor, wait } from './base.js';

type Config<E extends ScenarioConfig['executor']> = Extract<ScenarioConfig, { executor: E }>;

export class ConstantVus extends Executor<Config<'constant-vus'>> {
  plannedDurationMs(): number {
    return this.config.duration;
  }
  maxVUs(): number {
    return this.host.segment.scale(this.config.vus);
  }
  protected async execute(): Promise<void> {
    const end = this.startedAt + this.config.duration;
    const loops = this.ownedSlots(this.config.vus).map(async (slot) => {
      const vu = this.host.newVU(slot);
      this.host.activeVUs(1);
      try {
        while (!this.stopped && this.host.now() < end) await this.iterate(vu, -1);
      } finally {
        this.host.activeVUs(-1);
      }
    });
    await this.finish(Promise.all(loops), end);
  }
}

/** The global VU count of a ramping-vus schedule at `t` ms: integers crossed on the way, as k6 steps. */
export function rampingVusAt(startVUs: number, stages: ReadonlyArray<{ duration: number; target: number }>, t: number): number {
  let from = startVUs;
  let t0 = 0;
  for (const stage of stages) {
    const t1 = t0 + stage.duration;
    if (t < t1) {
      const value = from + ((stage.target - from) * (t - t0)) / stage.duration;
      return stage.target >= from ? Math.floor(value + 1e-9) : Math.ceil(value - 1e-9);
    }
    from = stage.target;
    t0 = t1;
  }
  return from;
}

interface Slot {
  slot: number;
  vu: VirtualUser;
  active: boolean;
  loop: Promise<void> | undefined;
  current: AbortController | undefined;
  rampDownTimer: NodeJS.Timeout | undefined;
}

export class RampingVus extends Executor<Config<'ramping-vus'>> {
  plannedDurationMs(): number {
    return this.config.stages.reduce((sum, s) => sum + s.duration, 0);
  }
  maxVUs(): number {
    const peak = Math.max(this.config.startVUs, ...this.config.stages.map((s) => s.target));
    return this.host.segment.scale(peak);
  }
  protected async execute(): Promise<void> {
    const total = this.plannedDurationMs();
    const end = this.startedAt + total;
    const slots = new Map<number, Slot>();
    const loopOf = (s: Slot): Promise<void> =>
      (async () => {
        this.host.activeVUs(1);
        try {
          while (s.active && !this.stopped && this.host.now() < end) {
            s.current = new AbortController();
            await this.iterate(s.vu, -1, s.current);
            s.current = undefined;
          }
        } finally {
          this.host.activeVUs(-1);
          s.loop = undefined;
        }
      })();
    // Only a change of the target touches the slots: walking thousands of them every 10 ms while the
    // target holds still cost more CPU than the load itself.
    let lastTarget = -1;
    let slotsSeen = 0;
    const apply = () => {
      const target = rampingVusAt(this.config.startVUs, this.config.stages, this.host.now() - this.startedAt);
      if (target === lastTarget) return;
      lastTarget = target;
      const upTo = Math.max(target, slotsSeen);
      slotsSeen = upTo;
      for (let slot = 0; slot < upTo; slot++) {
        if (!this.host.segment.owns(slot)) continue;
        let s = slots.get(slot);
        const wanted = slot < target;
        if (wanted) {
          if (!s) {
            s = { slot, vu: this.host.newVU(slot), active: false, loop: undefined, current: undefined, rampDownTimer: undefined };
            slots.set(slot, s);
          }
          clearTimeout(s.rampDownTimer);
          s.rampDownTimer = undefined;
          s.active = true;
          s.loop ??= loopOf(s);
        } else if (s?.active) {
          // Ramping down: finish the iteration in flight, interrupted after gracefulRampDown.
          s.active = false;
          const running = s;
          running.rampDownTimer = setTimeout(() => running.current?.abort(), this.config.gracefulRampDown);
        }
      }
    };
    apply();
    while (!this.stopped && this.host.now() < end) {
      await wait(Math.min(10, end - this.host.now()), this.host.stopSignal);
      apply();
    }
    for (const s of slots.values()) s.active = false;
    const running = () => Promise.all([...slots.values()].map((s) => s.loop));
    await this.finish(running(), end);
    for (const s of slots.values()) clearTimeout(s.rampDownTimer);
  }
}

export class PerVuIterations extends Executor<Config<'per-vu-iterations'>> {
  plannedDurationMs(): number {
    return this.config.maxDuration;
  }
  maxVUs(): number {
    return this.host.segment.scale(this.config.vus);
  }
  protected async execute(): Promise<void> {
    const end = this.startedAt + this.config.maxDuration;
    const loops = this.ownedSlots(this.config.vus).map(async (slot) => {
      const vu = this.host.newVU(slot);
      this.host.activeVUs(1);
      let i = 0;
      try {
        for (; i < this.config.iterations && !this.stopped && this.host.now() < end; i++) await this.iterate(vu, slot * this.config.iterations + i);
      } finally {
        this.host.activeVUs(-1);
      }
      // Fix: k6 counts the iterations maxDuration left unstarted in dropped_iterations; they were not counted.
      if (!this.stopped) for (; i < this.config.iterations; i++) this.host.dropped(this.info);
    });
    await this.finish(Promise.all(loops), end);
  }
}

export class SharedIterations extends Executor<Config<'shared-iterations'>> {
  plannedDurationMs(): number {
    return this.config.maxDuration;
  }
  maxVUs(): number {
    return Math.max(1, this.host.segment.scale(this.config.vus));
  }
  protected async execute(): Promise<void> {
    const end = this.startedAt + this.config.maxDuration;
    const queue: number[] = [];
    for (let i = 0; i < this.config.iterations; i++) if (this.host.segment.owns(i)) queue.push(i);
    let slots = this.ownedSlots(this.config.vus);
    if (slots.length === 0 && queue.length > 0) slots = [0]; // a segment with iterations but no whole VU still needs one
    let next = 0;
    const loops = slots.map(async (slot) => {
      const vu = this.host.newVU(slot);
      this.host.activeVUs(1);
      try {
        while (next < queue.length && !this.stopped && this.host.now() < end) await this.iterate(vu, queue[next++] as number);
      } finally {
        this.host.activeVUs(-1);
      }
    });
    await this.finish(Promise.all(loops), end);
    // Fix: k6 counts the iterations maxDuration left unstarted in dropped_iterations; they were not counted.
    if (!this.stopped) for (; next < queue.length; next++) this.host.dropped(this.info);
  }
}
