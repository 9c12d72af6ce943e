// Uses k6's synchronous http.get, which perfstack's engine refuses before any load starts.
import http from 'k6/http';

export default function (): void {
  http.get(`${__ENV.PERFSTACK_BASE_URL}/`);
}
