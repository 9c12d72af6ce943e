// breakpoint: raise the arrival rate steadily (open model, up to PERFSTACK_MAX_RATE iterations/s)
// until an SLA threshold fails, then abort: the last good rate is the capacity.
import { duration, envInt, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { MIXED, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

const MAX_VUS = vus(50);

export const options = scenarioOptions({
  name: 'breakpoint',
  scenario: {
    executor: 'ramping-arrival-rate',
    startRate: 5,
    timeUnit: '1s',
    preAllocatedVUs: Math.min(MAX_VUS, 10),
    maxVUs: MAX_VUS,
    stages: [{ duration: duration('1m'), target: envInt('PERFSTACK_MAX_RATE', 300, 1, 100_000) }],
  },
  abortOnFail: true,
  delayAbortEval: '5s',
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(MIXED, fx, { think: false });
}
