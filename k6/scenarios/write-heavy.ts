// write-heavy: mostly writes: CRUD, bulk inserts (multi-row and COPY) and file uploads; steady PERFSTACK_VUS users for PERFSTACK_DURATION.
import { duration, vus } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { WRITE_HEAVY, prepare, runMix, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

export const options = scenarioOptions({
  name: 'write-heavy',
  scenario: { executor: 'constant-vus', vus: vus(5), duration: duration('30s') },
  throughputFor: ['api'],
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await runMix(WRITE_HEAVY, fx);
}
