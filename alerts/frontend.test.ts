// Front-end alerts beyond the generated promtool tests: the fixtures use the buckets the service
// really publishes, and a poor p75 over too few page views stays quiet (the MIN_PAGE_VIEWS guard).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vitalHistograms } from '../app/rum/index.js';
import { parseConfig } from '../config/index.js';
import rawConfig from '../perfstack.config.js';
import { expectedAlert, testAlertCases } from './promtool.js';
import { frontendAlerts, FRONTEND_WINDOW, MIN_PAGE_VIEWS } from './rules/frontend.js';
import { histogram, quantileMix } from './rules/fixtures.js';
import { generateRules, RULES_DIR } from './rules/index.js';

const config = parseConfig(rawConfig);
const root = mkdtempSync(join(tmpdir(), 'perfstack-frontend-rules-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('front-end alerts', () => {
  it('alert on LCP, INP and CLS, each against its configured target', () => {
    const alerts = frontendAlerts(config);
    expect(alerts.map((a) => [a.name, a.threshold?.value])).toEqual([
      ['FrontendLcpP75High', config.frontend.lcpSeconds],
      ['FrontendInpP75High', config.frontend.inpSeconds],
      ['FrontendClsP75High', config.frontend.cls],
    ]);
    for (const alert of alerts) {
      expect(alert.expr).toContain(`histogram_quantile(0.75, sum by (le, page)`);
      expect(alert.forMinutes).toBe(config.frontend.alertForMinutes);
    }
  });

  it('fixtures are built on the buckets the service publishes (targets included)', () => {
    const published = vitalHistograms(config.frontend);
    for (const [vital, spec] of Object.entries(published)) {
      expect(spec.buckets, vital).toContain(vital === 'CLS' ? config.frontend.cls : config.frontend[`${vital.toLowerCase()}Seconds` as 'lcpSeconds']);
    }
    const lcp = frontendAlerts(config)[0]!;
    const bounds = lcp.firing.series.filter((s) => s.series.startsWith('rum_web_vital_lcp_seconds_bucket')).map((s) => /le="([^"]+)"/.exec(s.series)![1]);
    expect(bounds).toEqual([...published.LCP.buckets.map(String), '+Inf']);
  });

  it(`a poor p75 over fewer than ${MIN_PAGE_VIEWS} page views in ${FRONTEND_WINDOW} stays quiet; with enough views it fires`, async () => {
    const buckets = vitalHistograms(config.frontend).LCP.buckets;
    const poorLcp = config.frontend.lcpSeconds * 2;
    const labels = { job: 'perfstack-app', instance: 'app:8080', page: 'search' };
    const evalMinutes = config.frontend.alertForMinutes + 15;
    // One view a minute: 10 in a 10m window, all poor.
    const few = histogram('rum_web_vital_lcp_seconds', labels, buckets, quantileMix(buckets, 0.75, poorLcp, 1, 'lcp'), evalMinutes + 1);
    const many = histogram('rum_web_vital_lcp_seconds', labels, buckets, quantileMix(buckets, 0.75, poorLcp, 5, 'lcp'), evalMinutes + 1);
    const rulesFile = generateRules(config).find((f) => f.path === `${RULES_DIR}/frontend.yml`)!;
    const alert = frontendAlerts(config)[0]!;
    const result = await testAlertCases({
      dir: root,
      ruleFiles: { 'frontend.yml': rulesFile.content },
      alertname: 'FrontendLcpP75High',
      evalMinutes,
      cases: [
        { name: 'few views', series: few, expAlerts: [] },
        { name: 'many views', series: many, expAlerts: [expectedAlert(alert, { page: 'search' }, poorLcp)] },
      ],
    });
    expect(result.code, result.output).toBe(0);
  });
});
