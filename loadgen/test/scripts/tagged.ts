// Two endpoints, fast and slow, each request tagged with its name; options (scenarios and
// thresholds) come from the test as JSON in __ENV.OPTIONS.
import http from 'k6/http';

export const options = JSON.parse(__ENV.OPTIONS ?? '{}');

const base = __ENV.PERFSTACK_BASE_URL;

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${base}/delay/1`, null, { tags: { name: '/fast' } });
  await http.asyncRequest('GET', `${base}/delay/40`, null, { tags: { name: '/slow' } });
}
