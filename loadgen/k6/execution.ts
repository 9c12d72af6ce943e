// `k6/execution`: where the running code is (vu, scenario, instance) and control of the test.

import { ScriptAbort, activeRun, iterationStorage } from '../runtime/context.js';

function context() {
  return iterationStorage.getStore();
}

const vu = {
  get idInInstance() {
    return context()?.vu?.idInInstance ?? 0;
  },
  get idInTest() {
    return context()?.vu?.idInTest ?? 0;
  },
  get iterationInInstance() {
    return context()?.vu?.iterationInInstance ?? 0;
  },
  // Fix: this returned the scenario-wide index (the same as scenario.iterationInInstance); k6
  // documents it as this VU's own iteration number in the scenario. A VU serves one scenario in
  // perfstack's engine, so that is the VU's iteration count (advanced when an iteration ends).
  get iterationInScenario() {
    return context()?.vu?.iterationInInstance ?? 0;
  },
  get tags() {
    return context()?.vu?.tags ?? {};
  },
  metrics: {
    get tags() {
      return context()?.vu?.tags ?? {};
    },
    get metadata() {
      return context()?.vu?.metadata ?? {};
    },
  },
};

const scenario = {
  get name() {
    return context()?.scenario?.name ?? '';
  },
  get executor() {
    return context()?.scenario?.executor ?? '';
  },
  get startTime() {
    return context()?.scenario?.startTime ?? 0;
  },
  get progress() {
    return context()?.scenario?.progress() ?? 0;
  },
  get iterationInInstance() {
    return context()?.iterationInScenario ?? 0;
  },
  get iterationInTest() {
    return context()?.iterationInTest ?? 0;
  },
};

const instance = {
  get iterationsCompleted() {
    return activeRun().instance.iterationsCompleted;
  },
  get iterationsInterrupted() {
    return activeRun().instance.iterationsInterrupted;
  },
  get vusActive() {
    return activeRun().instance.vusActive;
  },
  get vusInitialized() {
    return activeRun().instance.vusInitialized;
  },
  get currentTestRunDuration() {
    const started = activeRun().instance.startedAt;
    return started ? Date.now() - started : 0;
  },
};

const test = {
  /** Stops the whole test now; the summary is still written (exit code 108, as k6). */
  abort(reason?: string): never {
    const message = reason ? `test aborted: ${reason}` : 'test aborted';
    activeRun().abortTest(message);
    throw new ScriptAbort(message);
  },
  /** Marks the test failed (non-zero exit) and lets it carry on. */
  fail(reason?: string): void {
    const run = activeRun();
    run.markedFailed = true;
    if (reason) console.error(`perfstack: test marked as failed: ${reason}`);
  },
  get options() {
    return activeRun().options;
  },
};

export default { vu, scenario, instance, test };
export { vu, scenario, instance, test };
