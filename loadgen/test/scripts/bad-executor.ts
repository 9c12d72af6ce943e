// Names an executor k6 does not have.
import http from 'k6/http';

export const options = {
  scenarios: {
    main: { executor: 'constant-rps', vus: 1, duration: '1s' },
  },
};

export default async function (): Promise<void> {
  await http.asyncRequest('GET', `${__ENV.PERFSTACK_BASE_URL}/`);
}
