// A k6 script with a syntax error (the object literal below never closes).
import http from 'k6/http';

export default async function () {
  const body = { name: 'x';
  await http.asyncRequest('POST', `${__ENV.PERFSTACK_BASE_URL}/`, body);
}
