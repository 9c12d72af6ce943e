// spike: a quiet baseline, a sudden jump to PERFSTACK_VUS users, then back down: does the service
// survive the burst and recover?
import { duration, seconds, secondsToDuration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { READ_HEAVY, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

const PEAK = vus(20);
const BASELINE = Math.max(1, Math.round(PEAK / 10));
const TOTAL = seconds(duration('40s'));

export const options = scenarioOptions({
  name: 'spike',
  scenario: {
    executor: 'ramping-vus',
    startVUs: BASELINE,
    stages: [
      { duration: secondsToDuration(TOTAL * 0.2), target: BASELINE },
      { duration: secondsToDuration(TOTAL * 0.05), target: PEAK },
      { duration: secondsToDuration(TOTAL * 0.25), target: PEAK },
      { duration: secondsToDuration(TOTAL * 0.05), target: BASELINE },
      { duration: secondsToDuration(TOTAL * 0.45), target: BASELINE },
    ],
    gracefulRampDown: '5s',
  },
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(READ_HEAVY, fx);
}
