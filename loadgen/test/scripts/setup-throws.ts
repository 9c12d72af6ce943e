// setup() throws: the run stops before any load with exit 107, naming the file and line.
import http from 'k6/http';

export function setup(): { token: string } {
  throw new Error('no fixture to set up');
}

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${__ENV.PERFSTACK_BASE_URL}/`);
}
