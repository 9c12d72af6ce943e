import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { FrontendConfig, PerfstackConfig } from '../config/index.js';
import { k6, k6Browser, rum } from '../metrics/index.js';
import {
  composeDashboard,
  formatNumber,
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

// Front end: the Web Vitals of real page loads (RUM beacons, app/rum/) at p75 — the percentile
// web.dev judges "good" at — and of the synthetic browser scenario (k6 browser metrics), each
// against the configured target, plus the JavaScript each page loads against its budget.

const PAGE = rum.labels.page;
const RUM_MATCHERS = ['job=~"$job"', 'instance=~"$instance"', `${PAGE}=~"$page"`];
const { testid: TESTID } = k6.labels;

interface Vital {
  key: 'lcp' | 'fcp' | 'inp' | 'cls' | 'ttfb';
  title: string;
  rumMetric: string;
  target: (frontend: FrontendConfig) => number;
  unit: 's' | 'none';
}

const VITALS: Vital[] = [
  { key: 'lcp', title: 'Largest Contentful Paint (LCP)', rumMetric: rum.lcp, target: (f) => f.lcpSeconds, unit: 's' },
  { key: 'inp', title: 'Interaction to Next Paint (INP)', rumMetric: rum.inp, target: (f) => f.inpSeconds, unit: 's' },
  { key: 'cls', title: 'Cumulative Layout Shift (CLS)', rumMetric: rum.cls, target: (f) => f.cls, unit: 'none' },
  { key: 'fcp', title: 'First Contentful Paint (FCP)', rumMetric: rum.fcp, target: (f) => f.fcpSeconds, unit: 's' },
  { key: 'ttfb', title: 'Time to First Byte (TTFB)', rumMetric: rum.ttfb, target: (f) => f.ttfbSeconds, unit: 's' },
];

function targetText(vital: Vital, frontend: FrontendConfig): string {
  const target = vital.target(frontend);
  return vital.unit === 's' ? `${formatNumber(target)} s` : formatNumber(target);
}

function rumSection(frontend: FrontendConfig): Section {
  return {
    title: 'Real users (RUM): p75 Web Vitals',
    panels: [
      ...VITALS.map((vital) =>
        timeseriesPanel({
          title: `${vital.title} p75, real users`,
          description: `75th percentile of ${vital.key.toUpperCase()} over the page loads real browsers reported (${vital.rumMetric}), per page template. Dashed line: the target, ${targetText(vital, frontend)}${['lcp', 'inp', 'cls'].includes(vital.key) ? ' ("good" per web.dev; the alert fires when p75 stays above it)' : ''}.`,
          unit: vital.unit,
          queries: [{ expr: histogramQuantile(0.75, vital.rumMetric, RUM_MATCHERS, [PAGE]), legend: `{{${PAGE}}}` }],
          thresholds: upperLimit(vital.target(frontend)),
          min: 0,
          width: vital.key === 'lcp' || vital.key === 'inp' || vital.key === 'cls' ? 8 : 12,
        }),
      ),
      timeseriesPanel({
        title: 'Page views reported',
        description: `Beacons per second that carried an FCP, per page template (${rum.fcp}_count): how many real page views the percentiles above stand on. "other" counts pages the config does not list.`,
        unit: 'ops',
        queries: [{ expr: sumBy([PAGE], rate(selector(`${rum.fcp}_count`, RUM_MATCHERS))), legend: `{{${PAGE}}}` }],
        min: 0,
      }),
      timeseriesPanel({
        title: 'Beacons rejected',
        description: `RUM beacons the service answered 400, per second by reason (${rum.beaconsRejected}): content_type, too_large, not_json, invalid. A steady rate means a broken or hostile client.`,
        unit: 'ops',
        queries: [{ expr: sumBy([rum.labels.reason], rate(selector(rum.beaconsRejected, ['job=~"$job"', 'instance=~"$instance"']))), legend: `{{${rum.labels.reason}}}` }],
        thresholds: upperLimit(0),
        min: 0,
      }),
    ],
  };
}

function syntheticSection(frontend: FrontendConfig): Section {
  return {
    title: 'Synthetic (browser scenario): p95 Web Vitals',
    panels: VITALS.map((vital) => {
      const metric = `${k6Browser.webVitalPrefix}_${vital.key}_p95`;
      return timeseriesPanel({
        title: `${vital.title} p95, browser scenario`,
        description: `95th percentile of ${vital.key.toUpperCase()} in the browser scenario's page loads, per test run (${metric}; the load engine exports p95, not p75, so this is stricter than the RUM panels). Cumulative over each run. Dashed line: the target, ${targetText(vital, frontend)}.`,
        unit: vital.unit,
        queries: [{ expr: sumBy([TESTID], metric, 'max'), legend: `{{${TESTID}}}` }],
        thresholds: upperLimit(vital.target(frontend)),
        min: 0,
        width: vital.key === 'lcp' || vital.key === 'inp' || vital.key === 'cls' ? 8 : 12,
      });
    }),
  };
}

function javascriptSection(frontend: FrontendConfig): Section {
  const budget = `${formatNumber(frontend.javascriptBytes / 1e6)} MB`;
  return {
    title: 'JavaScript size',
    panels: [
      timeseriesPanel({
        title: 'JavaScript per page, as served',
        description: `Bytes of JavaScript each page template loads, measured by the service from the script files it serves, uncompressed (${rum.javascriptBytes}). Dashed line: the ${budget} budget.`,
        unit: 'decbytes',
        queries: [{ expr: sumBy([PAGE], selector(rum.javascriptBytes, RUM_MATCHERS), 'max'), legend: `{{${PAGE}}}` }],
        thresholds: upperLimit(frontend.javascriptBytes),
        min: 0,
      }),
      timeseriesPanel({
        title: 'JavaScript per page, browser scenario',
        description: `Bytes of JavaScript the browser scenario fetched for the page, per test run (${k6Browser.javascriptBytes}). Dashed line: the ${budget} budget.`,
        unit: 'decbytes',
        queries: [{ expr: sumBy([TESTID], k6Browser.javascriptBytes, 'max'), legend: `{{${TESTID}}}` }],
        thresholds: upperLimit(frontend.javascriptBytes),
        min: 0,
      }),
    ],
  };
}

export function frontendDashboard(config: PerfstackConfig): dashboard.Dashboard {
  return composeDashboard({
    key: 'frontend',
    title: 'Front end',
    description: 'Web Vitals of real page loads (RUM beacons) and of the synthetic browser scenario against the Core Web Vitals targets, and the JavaScript each page loads against its budget.',
    tags: ['frontend', 'web-vitals'],
    variables: [
      ...standardVariables(`${rum.lcp}_count`),
      queryVariable({ name: 'page', label: 'Page template', query: `label_values(${selector(`${rum.lcp}_count`, ['job=~"$job"'])}, ${PAGE})` }),
    ],
    sections: [rumSection(config.frontend), syntheticSection(config.frontend), javascriptSection(config.frontend)],
  });
}
