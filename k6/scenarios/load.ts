// load: ramp up to the expected number of users, hold, ramp down, on the mixed workload; held to
// the SLA latency, error-rate and throughput targets.
import { duration, seconds, secondsToDuration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { MIXED, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

const TARGET = vus(10);
const TOTAL = seconds(duration('1m'));

export const options = scenarioOptions({
  name: 'load',
  scenario: {
    executor: 'ramping-vus',
    startVUs: 0,
    stages: [
      { duration: secondsToDuration(TOTAL * 0.2), target: TARGET },
      { duration: secondsToDuration(TOTAL * 0.6), target: TARGET },
      { duration: secondsToDuration(TOTAL * 0.2), target: 0 },
    ],
    gracefulRampDown: '5s',
  },
  throughputFor: ['api', 'search'],
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(MIXED, fx);
}
