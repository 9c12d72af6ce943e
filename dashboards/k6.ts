import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PerfstackConfig, ServiceConfig } from '../config/index.js';
import { http, k6 } from '../metrics/index.js';
import {
  JOB_AND_INSTANCE,
  composeDashboard,
  formatNumber,
  formatPercent,
  histogramQuantile,
  queryVariable,
  rate,
  selector,
  standardVariables,
  sumBy,
  timeseriesPanel,
  upperLimit,
  type Section,
} from './common.js';

// Load tests: what k6 saw from the client side, per test run (testid) and scenario.

const { testid: TESTID, scenario: SCENARIO, url: URL } = k6.labels;
const RUN = [`${TESTID}=~"$testid"`];
const RUN_AND_SCENARIO = [...RUN, `${SCENARIO}=~"$scenario"`];

/** The tightest SLA value among the services, and whose it is; undefined when none sets one. */
export function strictestSla(
  services: readonly ServiceConfig[],
  pick: (service: ServiceConfig) => number | undefined,
): { value: number; service: string } | undefined {
  let best: { value: number; service: string } | undefined;
  for (const service of services) {
    const value = pick(service);
    if (value !== undefined && (best === undefined || value < best.value)) best = { value, service: service.name };
  }
  return best;
}

function loadSection(): Section {
  return {
    title: 'Load',
    panels: [
      timeseriesPanel({
        title: 'Virtual users',
        description: `Active virtual users per test run (${k6.vus}).`,
        unit: 'short',
        queries: [{ expr: sumBy([TESTID], selector(k6.vus, RUN)), legend: `{{${TESTID}}}` }],
        min: 0,
      }),
      timeseriesPanel({
        title: 'Request rate',
        description: `HTTP requests k6 sent per second, per scenario (${k6.httpReqs}).`,
        unit: 'reqps',
        queries: [{ expr: sumBy([SCENARIO], rate(selector(k6.httpReqs, RUN_AND_SCENARIO))), legend: `{{${SCENARIO}}}` }],
        min: 0,
      }),
      timeseriesPanel({
        title: 'Iterations',
        description: `Completed scenario iterations per second (${k6.iterations}).`,
        unit: 'ops',
        queries: [{ expr: sumBy([SCENARIO], rate(selector(k6.iterations, RUN_AND_SCENARIO))), legend: `{{${SCENARIO}}}` }],
        min: 0,
      }),
      timeseriesPanel({
        title: 'Dropped iterations',
        description: `Iterations k6 could not start on time because no VU was free, per second (${k6.droppedIterations}). Above 0 the test did not deliver the load it was asked for.`,
        unit: 'ops',
        queries: [{ expr: sumBy([SCENARIO], rate(selector(k6.droppedIterations, RUN_AND_SCENARIO))), legend: `{{${SCENARIO}}}` }],
        thresholds: upperLimit(0),
        min: 0,
      }),
    ],
  };
}

function latencySection(config: PerfstackConfig): Section {
  const trendPanel = (stat: 'p95' | 'p99', pick: (s: ServiceConfig) => number | undefined) => {
    const sla = strictestSla(config.services, pick);
    const metric = `${k6.httpReqDurationPrefix}_${stat}`;
    return timeseriesPanel({
      // The load engine's (like k6's) remote-write trend stats are computed over every request since
      // the run started, not per interval: say so, rather than draw them as if they were per interval.
      title: `Request duration ${stat} since the run started (cumulative), by scenario and URL`,
      description: `${stat} of the request duration as k6 measured it, per scenario and URL (${metric}, in seconds). Cumulative: each point is the ${stat} of every request from the start of the run up to that moment, not of that interval, so a late slowdown moves the line slowly; the service's own per-interval ${stat} is in the panel beside it.${
        sla === undefined ? ` No service sets a ${stat} SLA.` : ` Dashed line: the strictest ${stat} SLA, ${formatNumber(sla.value)} s (service ${sla.service}).`
      }`,
      unit: 's',
      queries: [{ expr: sumBy([SCENARIO, URL], selector(metric, RUN_AND_SCENARIO), 'max'), legend: `{{${SCENARIO}}} {{${URL}}}` }],
      thresholds: sla === undefined ? undefined : upperLimit(sla.value),
      min: 0,
      width: 8,
    });
  };
  const serverSla = strictestSla(config.services, (s) => s.sla.latency.p95Seconds);
  return {
    title: 'Latency',
    panels: [
      trendPanel('p95', (s) => s.sla.latency.p95Seconds),
      trendPanel('p99', (s) => s.sla.latency.p99Seconds),
      timeseriesPanel({
        title: 'Server-side duration p95 (service under test)',
        description: `p95 of the request duration as the service measured it (${http.requestDuration}, jobs $job), for comparison with what k6 saw; the gap is network and client time.${
          serverSla === undefined ? '' : ` Dashed line: the strictest p95 SLA, ${formatNumber(serverSla.value)} s (service ${serverSla.service}).`
        }`,
        unit: 's',
        queries: [{ expr: histogramQuantile(0.95, http.requestDuration, JOB_AND_INSTANCE, ['job']), legend: '{{job}}' }],
        thresholds: serverSla === undefined ? undefined : upperLimit(serverSla.value),
        min: 0,
        width: 8,
      }),
    ],
  };
}

function errorSection(config: PerfstackConfig): Section {
  const critical = strictestSla(config.services, (s) => s.sla.errorRate?.critical);
  return {
    title: 'Errors and checks',
    panels: [
      timeseriesPanel({
        title: 'Request failure rate',
        description: `Share of requests k6 counted as failed, per scenario (${k6.httpReqFailedRate}).${
          critical === undefined ? '' : ` Dashed line: the strictest critical error-rate SLA, ${formatPercent(critical.value)} (service ${critical.service}).`
        }`,
        unit: 'percentunit',
        queries: [{ expr: sumBy([SCENARIO], selector(k6.httpReqFailedRate, RUN_AND_SCENARIO), 'avg'), legend: `{{${SCENARIO}}}` }],
        thresholds: critical === undefined ? undefined : upperLimit(critical.value),
        min: 0,
      }),
      timeseriesPanel({
        title: 'Checks passed',
        description: `Share of k6 checks that passed, per scenario (${k6.checksRate}). Anything below 100 % means responses were not what the script expected.`,
        unit: 'percentunit',
        queries: [{ expr: sumBy([SCENARIO], selector(k6.checksRate, RUN_AND_SCENARIO), 'avg'), legend: `{{${SCENARIO}}}` }],
        min: 0,
        max: 1,
      }),
    ],
  };
}

function networkSection(): Section {
  return {
    title: 'Network',
    panels: [
      timeseriesPanel({
        title: 'Data sent and received',
        description: `Bytes per second k6 sent (${k6.dataSent}) and received (${k6.dataReceived}), per test run.`,
        unit: 'Bps',
        queries: [
          { expr: sumBy([TESTID], rate(selector(k6.dataSent, RUN))), legend: `{{${TESTID}}} sent` },
          { expr: sumBy([TESTID], rate(selector(k6.dataReceived, RUN))), legend: `{{${TESTID}}} received` },
        ],
        min: 0,
        width: 24,
      }),
    ],
  };
}

export function loadTestDashboard(config: PerfstackConfig): dashboard.Dashboard {
  return composeDashboard({
    key: 'k6',
    title: 'Load tests (k6)',
    description: 'k6 test runs as pushed over Prometheus remote-write: load, latency, errors and checks, with the service SLAs drawn in.',
    tags: ['load-tests', 'k6'],
    from: 'now-3h',
    variables: [
      ...standardVariables(`${http.requestDuration}_count`),
      // Newest first when test ids sort by time; a run at a time by default.
      queryVariable({
        name: 'testid',
        label: 'Test run',
        query: `label_values(${k6.httpReqs}, ${TESTID})`,
        includeAll: false,
        sort: dashboard.VariableSort.AlphabeticalDesc,
      }),
      queryVariable({
        name: 'scenario',
        label: 'Scenario',
        query: `label_values(${selector(k6.httpReqs, RUN)}, ${SCENARIO})`,
      }),
    ],
    sections: [loadSection(), latencySection(config), errorSection(config), networkSection()],
  });
}
