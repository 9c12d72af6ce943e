// read-heavy: mostly reads: search, browsing, entity resolution and downloads, a few writes; steady PERFSTACK_VUS users for PERFSTACK_DURATION.
import { duration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { READ_HEAVY, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

export const options = scenarioOptions({
  name: 'read-heavy',
  scenario: { executor: 'constant-vus', vus: vus(5), duration: duration('30s') },
  throughputFor: ['api', 'search'],
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(READ_HEAVY, fx);
}
