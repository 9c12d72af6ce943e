// A threshold expression k6 refuses: "p95" is not an aggregation method (p(95) is).
import http from 'k6/http';

export const options = {
  iterations: 1,
  thresholds: { http_req_duration: ['p95<500'] },
};

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${__ENV.PERFSTACK_BASE_URL}/`);
}
