// What every executor shares: the host that runs iterations for it, in-flight tracking so a hard
// stop can interrupt what is still running, and abortable waiting.

import type { ScenarioConfig } from '../options.js';
import type { ScenarioInfo, VirtualUser } from '../runtime/context.js';
import type { ExecutionSegment } from './segment.js';

export type IterationOutcome = 'completed' | 'failed' | 'interrupted';

export interface ExecutorHost {
  segment: ExecutionSegment;
  /** Aborted when the whole test stops early (abortOnFail, exec.test.abort, SIGINT). */
  stopSignal: AbortSignal;
  /** A new VU (vus_max grows); `slot` is its index in the whole test's VU slots, when it has one. */
  newVU(slot?: number): VirtualUser;
  runIteration(vu: VirtualUser, scenario: ScenarioInfo, iterationInScenario: number, iterationInTest: number, signal: AbortSignal): Promise<IterationOutcome>;
  /** A VU started (+1) or stopped (-1) running iterations: the `vus` gauge. */
  activeVUs(delta: number): void;
  dropped(scenario: ScenarioInfo): void;
  now(): number;
}

/** Resolves after ms, or at once when the signal aborts. */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export abstract class Executor<C extends ScenarioConfig = ScenarioConfig> {
  readonly info: ScenarioInfo;
  private readonly inFlight = new Set<AbortController>();
  private readonly controllers = new WeakMap<VirtualUser, AbortController>();
  protected startedAt = 0;
  private iterationsStarted = 0;

  constructor(
    readonly config: C,
    protected readonly host: ExecutorHost,
  ) {
    const self = this;
    this.info = {
      name: config.name,
      executor: config.executor,
      startTime: 0,
      progress: () => (self.startedAt === 0 ? 0 : Math.min(1, (host.now() - self.startedAt) / Math.max(1, self.plannedDurationMs()))),
      iterationsStarted: 0,
      tags: config.tags,
      env: config.env,
    };
  }

  /** How long the schedule lasts, without gracefulStop. */
  abstract plannedDurationMs(): number;
  /** The most VUs this instance will need at once. */
  abstract maxVUs(): number;
  protected abstract execute(): Promise<void>;

  async run(): Promise<void> {
    this.startedAt = this.host.now();
    this.info.startTime = Date.now();
    await this.execute();
  }

  get stopped(): boolean {
    return this.host.stopSignal.aborted;
  }

  /** Runs one iteration, interruptible by interrupt(), the per-iteration signal or a whole-test stop. */
  protected async iterate(vu: VirtualUser, iterationInTest: number, own?: AbortController): Promise<IterationOutcome> {
    // A VU runs one iteration at a time, so its controller is reused until an interrupt uses it up:
    // one AbortController per iteration was a measurable share of the engine's CPU per request.
    let controller = own ?? this.controllers.get(vu);
    if (!controller || controller.signal.aborted) {
      controller = new AbortController();
      if (!own) this.controllers.set(vu, controller);
    }
    this.inFlight.add(controller);
    const index = this.iterationsStarted++;
    this.info.iterationsStarted = this.iterationsStarted;
    try {
      return await this.host.runIteration(vu, this.info, index, iterationInTest, controller.signal);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  /** Interrupts every iteration still running (gracefulStop has run out). */
  protected interruptAll(): void {
    for (const controller of this.inFlight) controller.abort();
  }

  /** Waits for `work` until the schedule's end plus gracefulStop, then interrupts what is left. */
  protected async finish(work: Promise<unknown>, endsAt: number): Promise<void> {
    const deadline = endsAt + this.config.gracefulStop - this.host.now();
    const timeout = new AbortController();
    // Fix: the gracefulStop timer must be cancelled when the work ends first; it used to be left
    // pending (the controller below was never passed in), which kept the process alive for the
    // whole gracefulStop (30 s by default) after every run.
    await Promise.race([work, wait(deadline, AbortSignal.any([this.host.stopSignal, timeout.signal]))]);
    timeout.abort();
    this.interruptAll();
    await work;
  }

  /** The VU slots of the whole test (0..n-1) that run in this instance. */
  protected ownedSlots(n: number): number[] {
    const out: number[] = [];
    for (let slot = 0; slot < n; slot++) if (this.host.segment.owns(slot)) out.push(slot);
    return out;
  }
}
