import type { ServiceConfig } from '../../config/index.js';
import { probe } from '../../metrics/index.js';
import { equals, selector } from './format.js';

// Availability as clients see it: Debian's prometheus-blackbox-exporter probes every service's
// health endpoint. The names live here until the metric contract (metrics/index.ts) takes them.

/** The Prometheus scrape job that runs the probes (through the blackbox exporter). */
export const BLACKBOX_JOB = 'blackbox';
/** The blackbox exporter's own metrics (its scrape job). */
export const BLACKBOX_EXPORTER_JOB = 'blackbox-exporter';
/** The blackbox module every probe uses (defined in the generated blackbox.yml). */
export const BLACKBOX_MODULE = 'http_health';
/** The path probed on every service: the reference service answers it without touching the database. */
export const HEALTH_PATH = '/health';

export { probe };

/** `probe_success{job="blackbox",service="<name>"}`: the probes of one service's health endpoint. */
export function probeSelector(service: ServiceConfig): string {
  return `${probe.success}${selector([equals('job', BLACKBOX_JOB), equals('service', service.name)])}`;
}

/** blackbox.yml: one HTTP module that wants a 2xx within 5 s, over IPv4 (loopback in the native stack). */
export function blackboxConfig(): unknown {
  return {
    modules: {
      [BLACKBOX_MODULE]: {
        prober: 'http',
        timeout: '5s',
        http: { preferred_ip_protocol: 'ip4', valid_status_codes: [], method: 'GET', no_follow_redirects: true },
      },
    },
  };
}
