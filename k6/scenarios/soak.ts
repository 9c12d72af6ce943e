// soak: a steady, moderate mixed load for a long time (PERFSTACK_DURATION; short by default) to
// surface leaks, pool exhaustion and slow drift.
import { duration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { MIXED, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

export const options = scenarioOptions({
  name: 'soak',
  scenario: { executor: 'constant-vus', vus: vus(5), duration: duration('2m') },
  throughputFor: ['api', 'search'],
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(MIXED, fx);
}
