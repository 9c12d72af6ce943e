// smoke: one virtual user walks every endpoint for a few seconds. Proves the service and the
// script work, and that the SLA holds at minimal load. No throughput target.
import { vus, duration } from './lib/env.ts';
import { scenarioOptions } from './lib/options.ts';
import { everything, prepare, type Fixture } from './lib/workloads.ts';
export { handleSummary } from './lib/summary.ts';

export const options = scenarioOptions({
  name: 'smoke',
  scenario: { executor: 'constant-vus', vus: vus(1), duration: duration('10s') },
});

export function setup(): Promise<Fixture> {
  return prepare();
}

export default async function (fx: Fixture): Promise<void> {
  await everything(fx);
}
