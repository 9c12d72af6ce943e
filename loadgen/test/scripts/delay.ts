// Closed-loop requests to a fixed-delay endpoint: VUS virtual users for DURATION, each
// requesting /delay/DELAY back to back (the accuracy proof). Requests of the first WARMUP ms are
// tagged phase=warmup (JIT, first connections, the load's own start-up), the rest phase=measure;
// the threshold only makes the engine keep the measure sub-metric in the summary.
import http from 'k6/http';
import exec from 'k6/execution';

export const options = {
  scenarios: { main: { executor: 'constant-vus', vus: Number(__ENV.VUS ?? '1'), duration: __ENV.DURATION ?? '2s' } },
  thresholds: { 'http_req_duration{phase:measure}': ['max>=0'] },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(99)', 'count'],
};

const url = `${__ENV.PERFSTACK_BASE_URL}/delay/${__ENV.DELAY ?? '20'}`;
const warmupMs = Number(__ENV.WARMUP ?? '0');

export default async function (): Promise<void> {
  const phase = exec.instance.currentTestRunDuration < warmupMs ? 'warmup' : 'measure';
  await http.asyncRequest('GET', url, null, { tags: { phase } });
}
