// k6's built-in metrics: names, types and value kinds as k6 documents them.

import type { MetricType, ValueKind } from './types.js';

export const BUILTIN_METRICS = {
  vus: ['gauge', 'default'],
  vus_max: ['gauge', 'default'],
  iterations: ['counter', 'default'],
  iteration_duration: ['trend', 'time'],
  dropped_iterations: ['counter', 'default'],
  data_received: ['counter', 'data'],
  data_sent: ['counter', 'data'],
  checks: ['rate', 'default'],
  http_reqs: ['counter', 'default'],
  http_req_duration: ['trend', 'time'],
  http_req_blocked: ['trend', 'time'],
  http_req_connecting: ['trend', 'time'],
  http_req_tls_handshaking: ['trend', 'time'],
  http_req_sending: ['trend', 'time'],
  http_req_waiting: ['trend', 'time'],
  http_req_receiving: ['trend', 'time'],
  http_req_failed: ['rate', 'default'],
} as const satisfies Record<string, readonly [MetricType, ValueKind]>;

export type BuiltinMetricName = keyof typeof BUILTIN_METRICS;
