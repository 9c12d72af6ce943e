// Imports k6's blocking sleep(), which perfstack's engine refuses (scripts await a timer instead).
import http from 'k6/http';
import { sleep } from 'k6';

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${__ENV.PERFSTACK_BASE_URL}/`);
  sleep(1);
}
