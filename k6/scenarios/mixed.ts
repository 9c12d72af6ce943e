// mixed: every endpoint, including login/logout and health, in day-to-day proportions; steady PERFSTACK_VUS users for PERFSTACK_DURATION.
import { duration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { MIXED, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

export const options = scenarioOptions({
  name: 'mixed',
  scenario: { executor: 'constant-vus', vus: vus(5), duration: duration('30s') },
  throughputFor: ['api', 'search'],
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(MIXED, fx);
}
