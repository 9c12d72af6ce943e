// Executors, k6's six scheduling models, and execution segments for scale-out.
import type { ScenarioConfig } from '../options.js';
import { ConstantArrivalRate, RampingArrivalRate } from './arrival-rate.js';
import type { Executor, ExecutorHost } from './base.js';
import { ConstantVus, PerVuIterations, RampingVus, SharedIterations } from './vus.js';

export { Executor, wait } from './base.js';
export type { ExecutorHost, IterationOutcome } from './base.js';
export { ExecutionSegment, FULL_SEGMENT, parseExecutionSegment } from './segment.js';
export { rampingVusAt } from './vus.js';
export { constantSchedule, rampingSchedule } from './arrival-rate.js';

export function createExecutor(config: ScenarioConfig, host: ExecutorHost): Executor {
  switch (config.executor) {
    case 'constant-vus':
      return new ConstantVus(config, host);
    case 'ramping-vus':
      return new RampingVus(config, host);
    case 'constant-arrival-rate':
      return new ConstantArrivalRate(config, host);
    case 'ramping-arrival-rate':
      return new RampingArrivalRate(config, host);
    case 'per-vu-iterations':
      return new PerVuIterations(config, host);
    case 'shared-iterations':
      return new SharedIterations(config, host);
  }
}
