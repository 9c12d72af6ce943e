// A real page load: Debian's Chromium (playwright-core) opens the service's page, types a search and
// leaves; the page's RUM bundle sends one beacon with all five Web Vitals, and the service counts them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, rum } from '../../metrics/index.js';
import type { TestPostgres } from '../../test/support/postgres.js';
import { startSeededPostgres } from '../../test/support/seeded-postgres.js';
import { startApp, type RunningApp } from '../index.js';
import { testConfig } from '../testing.js';
import { RUM_PATH } from './index.js';
import { browserAvailable, loadPageAsUser, rumCounts } from './testing.js';

const reason = browserAvailable() ? false : 'Chromium is not installed (apt-get install chromium)';

describe.skipIf(reason)('the page reports its Web Vitals from real Chromium', () => {
  let db: TestPostgres;
  let app: RunningApp;

  beforeAll(async () => {
    db = await startSeededPostgres();
    app = await startApp({ databaseUrl: db.url, config: testConfig(), log: () => undefined });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await db?.stop();
  });

  /** Requests POST /rum answered with `status`, from the service's own HTTP metrics. */
  async function rumRequests(status: number): Promise<number> {
    const values = (await app.registry.getSingleMetric(http.requestDuration)!.get()).values;
    return values
      .filter((v) => (v as { metricName?: string }).metricName === `${http.requestDuration}_count` && v.labels[http.labels.route] === RUM_PATH && Number(v.labels[http.labels.statusCode]) === status)
      .reduce((sum, v) => sum + v.value, 0);
  }

  async function rejections(): Promise<number> {
    return (await app.registry.getSingleMetric(rum.beaconsRejected)!.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  it('each page load sends one accepted beacon with LCP, FCP, INP, CLS and TTFB, counted under its page template', async () => {
    const before = await rumCounts(app.url);
    const acceptedBefore = await rumRequests(204);
    const rejectedBefore = await rejections();
    await loadPageAsUser(app.url, { search: 'acme', loads: 2 });
    const after = await rumCounts(app.url);
    // Both loads counted for every vital (INP too: each load typed a search), under page="search".
    for (const metric of [rum.lcp, rum.fcp, rum.inp, rum.ttfb, rum.cls]) {
      expect((after.get(`${metric}{search}`) ?? 0) - (before.get(`${metric}{search}`) ?? 0), metric).toBe(2);
      expect(after.get(`${metric}{other}`) ?? 0, metric).toBe(before.get(`${metric}{other}`) ?? 0);
    }
    // One batched beacon per load, each answered 204; none refused.
    expect((await rumRequests(204)) - acceptedBefore).toBe(2);
    expect(await rejections()).toBe(rejectedBefore);
  }, 90_000);
});
