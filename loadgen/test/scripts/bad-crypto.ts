// Imports k6/crypto, a module perfstack's engine does not implement.
import http from 'k6/http';
import crypto from 'k6/crypto';

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${__ENV.PERFSTACK_BASE_URL}/?h=${crypto.sha256('x', 'hex')}`);
}
