// Every second iteration throws after its request: the error is logged with its file and line,
// and the run goes on.
import http from 'k6/http';
import exec from 'k6/execution';

export const options = { scenarios: { main: { executor: 'shared-iterations', vus: 1, iterations: 4 } } };

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${__ENV.PERFSTACK_BASE_URL}/?it=${exec.scenario.iterationInTest}`);
  if (exec.scenario.iterationInTest % 2 === 1) throw new Error('odd iteration refused');
}
