// The scenarios perfstack ships (k6/scenarios/<name>.ts), for the runner, the CLI and the tests.

import { fileURLToPath } from 'node:url';

export interface ScenarioInfo {
  name: string;
  description: string;
  /** Whether SLA throughput targets (http_reqs rate per service) are part of its thresholds. */
  throughput: boolean;
  /** Needs Chromium (k6 browser module). */
  browser?: boolean;
}

export const SCENARIOS: readonly ScenarioInfo[] = [
  { name: 'smoke', description: 'one user walks every endpoint for 10 s: the script and the service work, the SLA holds at minimal load', throughput: false },
  { name: 'load', description: 'ramp to the expected users (default 10), hold, ramp down on the mixed workload; latency, errors and throughput', throughput: true },
  { name: 'stress', description: 'step past capacity (1×, 2×, 4× PERFSTACK_VUS) to see where latency and errors break', throughput: false },
  { name: 'spike', description: 'a quiet baseline, a sudden jump to PERFSTACK_VUS users (default 20), back down: survive and recover', throughput: false },
  { name: 'soak', description: 'steady moderate mixed load for PERFSTACK_DURATION (default 2m) to surface leaks and drift', throughput: true },
  { name: 'breakpoint', description: 'ramping arrival rate (up to PERFSTACK_MAX_RATE/s) until an SLA threshold fails, then abort', throughput: false },
  { name: 'read-heavy', description: 'mostly reads: search, browsing, entity resolution, downloads; a few writes', throughput: true },
  { name: 'write-heavy', description: 'mostly writes: CRUD, bulk inserts (multi-row and COPY), file uploads', throughput: true },
  { name: 'mixed', description: 'every endpoint incl. login/logout and health, in day-to-day proportions', throughput: true },
  { name: 'browser', description: 'Chromium loads the page and searches: Web Vitals (LCP, FCP, CLS, INP, TTFB) and the JS bundle budget', throughput: false, browser: true },
];

export const SCENARIOS_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

/** The scenario by name, or an error listing the valid ones. */
export function findScenario(name: string): ScenarioInfo {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new UnknownScenarioError(name);
  return found;
}

export class UnknownScenarioError extends Error {
  constructor(readonly scenario: string) {
    super(`unknown scenario "${scenario}"; valid scenarios: ${scenarioNames().join(', ')}`);
    this.name = 'UnknownScenarioError';
  }
}

export function scenarioFile(name: string): string {
  return `${SCENARIOS_DIR}${findScenario(name).name}.ts`;
}
