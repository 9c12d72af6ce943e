// The execution-segment proof's test: an arrival-rate, a constant-vus and a shared-iterations
// scenario. Each iteration tells the target its scenario, iterationInTest, VU and segment. The
// thresholds pass always; they only make the engine keep per-scenario counts in the summary.
import http from 'k6/http';
import exec from 'k6/execution';
import { setTimeout } from 'k6/timers';

const scenarios = ['car', 'cvus', 'shared'];

export const options = {
  scenarios: {
    // maxVUs as many as the iterations: a stalled machine delays starts but never drops one.
    car: { executor: 'constant-arrival-rate', rate: 30, timeUnit: '1s', duration: '3s', preAllocatedVUs: 6, maxVUs: 90 },
    cvus: { executor: 'constant-vus', vus: 3, duration: '3s' },
    shared: { executor: 'shared-iterations', vus: 6, iterations: 60, maxDuration: '20s' },
  },
  thresholds: Object.fromEntries(scenarios.flatMap((s) => [[`iterations{scenario:${s}}`, ['count>=0']], [`http_reqs{scenario:${s}}`, ['count>=0']]])),
};

const base = __ENV.PERFSTACK_BASE_URL;

export default async function (): Promise<void> {
  const q = `sc=${exec.scenario.name}&it=${exec.scenario.iterationInTest}&vu=${exec.vu.idInTest}&seg=${encodeURIComponent(__ENV.SEGMENT ?? '')}`;
  await http.asyncRequest('GET', `${base}/hit?${q}`);
  // constant-vus: 540 ms iterations, 6 per VU in 3 s (the 6th starts at 2.7 s: 60 ms of slack per
  // iteration for a busy machine, and a 7th could only start at 3.24 s); the others are short.
  await new Promise((resolve) => setTimeout(resolve, exec.scenario.name === 'cvus' ? 540 : 20));
}
