// A k6 script whose options come from the test (__ENV.OPTIONS, JSON) and whose iterations tell
// the target when they start and end: GET /start and GET /end carry the VU, the iteration, the
// scenario and what k6/execution says about the instance, so the test can read the schedule back.
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { setTimeout } from 'k6/timers';

export const options = JSON.parse(__ENV.OPTIONS ?? '{}');

const base = __ENV.PERFSTACK_BASE_URL;
/** How long each iteration waits between /start and /end: SLEEP ms, or SLEEP_BY {"<scenario>:<idInTest>": ms}. */
const sleepMs = Number(__ENV.SLEEP ?? '0');
const sleepBy: Record<string, number> = JSON.parse(__ENV.SLEEP_BY ?? '{}');
/** Iterations that got past their wait (an interrupted one must not). */
const pastWait = new Counter('past_wait');

function query(): string {
  const fields: Record<string, string | number> = {
    t: Date.now(),
    vu: exec.vu.idInTest,
    it: exec.scenario.iterationInTest,
    itInstance: exec.scenario.iterationInInstance,
    sc: exec.scenario.name,
    st: exec.scenario.startTime,
    active: exec.instance.vusActive,
    init: exec.instance.vusInitialized,
  };
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

export default async function (): Promise<void> {
  const ms = sleepBy[`${exec.scenario.name}:${exec.vu.idInTest}`] ?? sleepMs;
  await http.asyncRequest('GET', `${base}/start?${query()}`);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  pastWait.add(1);
  await http.asyncRequest('GET', `${base}/end?${query()}`);
}
