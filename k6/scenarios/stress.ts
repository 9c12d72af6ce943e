// stress: step the load past what the service was sized for (1×, 2×, 4× PERFSTACK_VUS) to find
// where latency and errors break the SLA. Nothing aborts: the point is to see the breaking point.
import { duration, seconds, secondsToDuration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { MIXED, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

const BASE = vus(5);
const STEP = seconds(duration('1m')) / 7;

export const options = scenarioOptions({
  name: 'stress',
  scenario: {
    executor: 'ramping-vus',
    startVUs: 0,
    stages: [
      { duration: secondsToDuration(STEP), target: BASE },
      { duration: secondsToDuration(STEP), target: BASE },
      { duration: secondsToDuration(STEP), target: BASE * 2 },
      { duration: secondsToDuration(STEP), target: BASE * 2 },
      { duration: secondsToDuration(STEP), target: BASE * 4 },
      { duration: secondsToDuration(STEP), target: BASE * 4 },
      { duration: secondsToDuration(STEP), target: 0 },
    ],
    gracefulRampDown: '5s',
  },
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(MIXED, fx);
}
