import type { FrontendConfig, PerfstackConfig } from '../../config/index.js';
import { RUM_BUCKETS, rum, withTarget } from '../../metrics/index.js';
import { compare, defineAlert, type AlertDefinition, type RuleFile } from './alert.js';
import { histogram, justAbove, justBelow, quantileMix, type InputSeries } from './fixtures.js';
import { humanizers, promNumber } from './format.js';

// Front-end alerts: p75 of a Core Web Vital over real page loads (RUM) leaves web.dev's "good"
// (the configured target) for frontend.alertForMinutes. FCP and TTFB are diagnostics, shown on the
// dashboard but not alerted on: LCP already carries them.

/** Window of the p75: long enough for a few dozen page views on a quiet site. */
export const FRONTEND_WINDOW = '10m';

/** A p75 stands on at least this many page views in the window; fewer are one user's bad day, not a trend. */
export const MIN_PAGE_VIEWS = 20;

const FIXTURE_LABELS = { job: 'perfstack-app', instance: 'app:8080', page: 'search' };
/** Page views per fixture sample (a minute): comfortably above MIN_PAGE_VIEWS per window. */
const FIXTURE_VIEWS_PER_SAMPLE = 100;

interface CoreVital {
  alert: string;
  vital: string;
  metric: string;
  field: keyof FrontendConfig;
  buckets: readonly number[];
  describe: (value: number) => string;
  template: string;
}

function coreVitals(frontend: FrontendConfig): CoreVital[] {
  return [
    { alert: 'FrontendLcpP75High', vital: 'LCP', metric: rum.lcp, field: 'lcpSeconds', buckets: RUM_BUCKETS.lcp, describe: humanizers.humanizeDuration, template: '{{ $value | humanizeDuration }}' },
    { alert: 'FrontendInpP75High', vital: 'INP', metric: rum.inp, field: 'inpSeconds', buckets: RUM_BUCKETS.inp, describe: humanizers.humanizeDuration, template: '{{ $value | humanizeDuration }}' },
    { alert: 'FrontendClsP75High', vital: 'CLS', metric: rum.cls, field: 'cls', buckets: RUM_BUCKETS.cls, describe: (v: number) => String(Number(v.toPrecision(4))), template: '{{ $value | humanize }} (m: thousandths of a layout-shift score)' },
  ].map((v) => ({ ...v, field: v.field as keyof FrontendConfig, buckets: withTarget(v.buckets, frontend[v.field as 'cls'] as number) }));
}

export function frontendAlerts(config: PerfstackConfig): AlertDefinition[] {
  const frontend = config.frontend;
  return coreVitals(frontend).map((v) => {
    const target = frontend[v.field] as number;
    const what = `frontend.${v.field}`;
    const views = (q: number, samples: number): InputSeries[] =>
      histogram(v.metric, FIXTURE_LABELS, v.buckets, quantileMix(v.buckets, 0.75, q, FIXTURE_VIEWS_PER_SAMPLE, what), samples);
    const poor = justAbove(target);
    const good = justBelow(target);
    return defineAlert(config, {
      name: v.alert,
      severity: 'warning',
      team: frontend.team,
      expr:
        `histogram_quantile(0.75, sum by (le, page) (rate(${v.metric}_bucket[${FRONTEND_WINDOW}]))) > ${promNumber(target)}` +
        ` and on(page) sum by (page) (increase(${v.metric}_count[${FRONTEND_WINDOW}])) >= ${MIN_PAGE_VIEWS}`,
      forMinutes: frontend.alertForMinutes,
      summary: `Real users' p75 ${v.vital} is above the "good" limit of ${v.describe(target)}`,
      description: `p75 ${v.vital} of real page loads of page {{ $labels.page }} is ${v.template} over the last ${FRONTEND_WINDOW} (target ${v.describe(target)}, web.dev "good").`,
      dashboard: 'frontend',
      threshold: compare('>', target),
      // Page views mixed so the interpolated p75 is 10 % above (firing) or below (quiet) the target.
      firing: (samples) => ({ series: views(poor, samples), resultLabels: { page: FIXTURE_LABELS.page }, value: poor }),
      quiet: (samples) => views(good, samples),
    });
  });
}

export function frontendRuleFile(config: PerfstackConfig): RuleFile {
  return { name: 'frontend', dependsOn: [], groups: [{ name: 'perfstack-frontend', alerts: frontendAlerts(config) }] };
}
