// Fault tests on the real binaries (issue 10): the alert path keeps its promises when a piece of it
// fails. Four stacks run side by side, one per fault, each with PostgreSQL, the reference service,
// the blackbox exporter probing its health endpoint, Prometheus, Alertmanager and the Slack capture
// (test/support/e2e-stack.ts), all on 127.0.0.1:
//
//   1. Slack answers 500 to the first posts, then 200: Alertmanager retries, the message arrives
//      once, with the same content as the failed posts (nothing lost).
//   2. Alertmanager is down while an alert fires: Prometheus fails to send, and the alert reaches
//      Slack once Alertmanager is back.
//   3. Prometheus is restarted (same flags, same data folder) mid-incident: the rules resume, the
//      alert fires again, and Slack gets no duplicate firing message and no false "resolved".
//   4. The service is killed: ServiceProbeFailed and TargetDown fire within `for` plus one scrape
//      interval (plus one rule-evaluation interval, see below), and the availability SLI's
//      recording rule counts the failed probes as errors.
//
// The incident in every test is the same: the reference service stops (its listener closes, so
// every scrape and probe is refused, as after a kill -9) and ServiceProbeFailed (critical) fires.
//
// Time is compressed for these tests only (test/support/e2e-time.ts): every range selector becomes
// [10s] and every `for:` 2s, Prometheus scrapes and evaluates every 1 s and re-sends firing alerts
// every 1 s (--rules.alert.resend-delay=1s), and Alertmanager's group_wait and group_interval are 1 s
// (fastRoutingConfig). repeat_interval keeps its generated value (critical: 1h), so a second firing
// message within a test is a duplicate, not a repeat. The promtool unit tests in alerts/ prove the
// rules with their real windows and `for:` (ServiceProbeFailed: 1m; TargetDown: 2m; scrape 15 s).
//
// Each test prints the figure it measured, as `fault: …`.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { parse } from 'yaml';
import { BLACKBOX_JOB, generateAlertmanager, generateRules, startSlackCapture } from '../alerts/index.js';
import type { RunningProcess } from '../stack/index.js';
import { compressRuleTime } from './support/e2e-time.js';
import { config, fastRoutingConfig, instantQuery, scalarOf, startE2eStack, waitUntil, type E2eStack } from './support/e2e-stack.js';
import { firingAlert, prometheusAlerts, restartProcess, scrapeCounter, seconds, sleep, startAgain, titled } from './support/e2e-faults.js';

// ---- what the compressed stack runs with -------------------------------------------------------------

const COMPRESSED_FOR_S = 2;
const SCRAPE_INTERVAL_S = 1;
const EVALUATION_INTERVAL_S = 1;

const SERVICE = 'api';
const APP_JOB = config.services.find((s) => s.name === SERVICE)!.job;
const FIRING = `[FIRING:1] ServiceProbeFailed (critical) on ${SERVICE}`;
const RESOLVED = `[RESOLVED:1] ServiceProbeFailed (critical) on ${SERVICE}`;
const isProbeFailedFiring = titled(FIRING);
const PROBE_ALERT = { alertname: 'ServiceProbeFailed', service: SERVICE };
const TARGET_DOWN_ALERT = { alertname: 'TargetDown', job: APP_JOB };

interface RuleYaml {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}
const rules = (transform: (text: string) => string = (text) => text): RuleYaml[] =>
  generateRules(config)
    .filter((file) => file.path.includes('/rules/'))
    .flatMap((file) => (parse(transform(file.content)) as { groups: { rules: RuleYaml[] }[] }).groups.flatMap((g) => g.rules));

/** The routing timings Alertmanager runs with in these tests, read from the generated config. */
function criticalRoute(): { group_wait: string; group_interval: string; repeat_interval: string } {
  const file = generateAlertmanager(fastRoutingConfig(), { slackApiUrlFile: '/dev/null' }).find((f) => f.path.endsWith('alertmanager.yml'))!;
  const routes = (parse(file.content) as { route: { routes: { matchers: string[]; group_wait: string; group_interval: string; repeat_interval: string }[] } }).route.routes;
  return routes.find((route) => route.matchers.length === 1 && route.matchers[0] === 'severity="critical"')!;
}

// ---- the four stacks ---------------------------------------------------------------------------------

type Fault = 'slack' | 'alertmanager' | 'prometheus' | 'kill';
const FAULTS: Fault[] = ['slack', 'alertmanager', 'prometheus', 'kill'];
const stacks = new Map<Fault, E2eStack>();
/** Processes a test started again after stopping the stack's own; stopped before the stack. */
const restarted = new Map<Fault, RunningProcess>();

beforeAll(async () => {
  const started = await Promise.allSettled(
    FAULTS.map((fault) => startE2eStack({ name: `e2e-faults-${fault}`, alerting: true, blackbox: true, transformRules: (text) => compressRuleTime(text) })),
  );
  started.forEach((result, i) => result.status === 'fulfilled' && stacks.set(FAULTS[i]!, result.value));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}, 120_000);

afterAll(async () => {
  await Promise.all(
    FAULTS.map(async (fault) => {
      await restarted.get(fault)?.stop();
      await stacks.get(fault)?.stop();
    }),
  );
}, 60_000);

function stackFor(fault: Fault): E2eStack {
  const stack = stacks.get(fault);
  if (!stack) throw new Error(`the ${fault} stack did not start`);
  return stack;
}

/** Stops the reference service and returns when it did (ms since the epoch). */
async function killService(stack: E2eStack): Promise<number> {
  await stack.app.stop();
  const at = Date.now();
  const refused = await fetch(`${stack.app.url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
    () => false,
    () => true,
  );
  if (!refused) throw new Error('the service still answers after it was stopped');
  return at;
}

describe('the Slack capture’s failure mode (test helper)', () => {
  it('fails the first N matching posts with the given status, accepts the rest, and records every attempt', async ({ expect }) => {
    const capture = await startSlackCapture({ log: () => undefined, failFirst: { count: 1, status: 503 } });
    try {
      const post = (title: string) =>
        fetch(capture.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: '#c', attachments: [{ title }] }) }).then((r) => r.status);
      expect(await post('a')).toBe(503);
      expect(await post('a')).toBe(200);
      capture.failNext({ count: 2, status: 500, match: (payload) => payload.attachments?.[0]?.title === 'b' });
      expect([await post('a'), await post('b'), await post('a'), await post('b'), await post('b')]).toEqual([200, 500, 200, 500, 200]);
      expect(capture.attempts.map((a) => `${a.payload.attachments![0]!.title}:${a.status}`)).toEqual(['a:503', 'a:200', 'a:200', 'b:500', 'a:200', 'b:500', 'b:200']);
      expect(capture.messages.map((m) => m.payload.attachments![0]!.title)).toEqual(['a', 'a', 'a', 'b']);
      expect(() => capture.failNext({ count: 1, status: 42 })).toThrow(/failure status must be an HTTP status, got 42/);
      expect(() => capture.failNext({ count: -1, status: 500 })).toThrow(/failure count must be a whole number >= 0, got -1/);
    } finally {
      await capture.stop();
    }
  });
});

describe('faults on the alert path (real Prometheus, Alertmanager, blackbox exporter)', () => {
  it('the test stack compresses time as this file assumes; the generated values are the real ones', ({ expect }) => {
    const real = rules();
    const fast = rules((text) => compressRuleTime(text));
    expect(real.find((r) => r.alert === 'ServiceProbeFailed' && r.labels?.service === SERVICE)?.for).toBe('1m');
    expect(real.find((r) => r.alert === 'TargetDown' && r.labels?.job === APP_JOB)?.for).toBe('2m');
    expect(fast.find((r) => r.alert === 'ServiceProbeFailed' && r.labels?.service === SERVICE)?.for).toBe(`${COMPRESSED_FOR_S}s`);
    expect(fast.find((r) => r.alert === 'TargetDown' && r.labels?.job === APP_JOB)?.for).toBe(`${COMPRESSED_FOR_S}s`);
    expect(config.scrape).toEqual({ interval: '15s', evaluationInterval: '15s' });
    // Alertmanager: a critical group waits 1 s, re-checks every 1 s, and repeats only after 1h.
    expect(criticalRoute()).toMatchObject({ group_wait: '1s', group_interval: '1s', repeat_interval: config.alerting.severities.critical.repeatInterval });
    expect(config.alerting.severities.critical.repeatInterval).toBe('1h');
  });

  it.concurrent('Slack answers 500 three times, then 200: Alertmanager retries and the message arrives once, complete', async ({ expect }) => {
    const stack = stackFor('slack');
    const capture = stack.capture!;
    const failures = 3;
    capture.failNext({ count: failures, status: 500, match: (payload) => isProbeFailedFiring({ payload }) });
    const failedBefore = await scrapeCounter(`${stack.alertmanagerUrl}/metrics`, 'alertmanager_notification_requests_failed_total', { integration: 'slack' });

    const killedAt = await killService(stack);
    const delivered = await capture.waitFor(isProbeFailedFiring, 45_000);
    // Several group intervals more: a late retry or a second flush would show up as a second message.
    await sleep(5_000);

    const attempts = capture.attempts.filter(isProbeFailedFiring);
    const accepted = capture.messages.filter(isProbeFailedFiring);
    const firstAttempt = attempts[0]!;
    const failedRequests = (await scrapeCounter(`${stack.alertmanagerUrl}/metrics`, 'alertmanager_notification_requests_failed_total', { integration: 'slack' })) - failedBefore;
    const failedNotifications = await scrapeCounter(`${stack.alertmanagerUrl}/metrics`, 'alertmanager_notifications_failed_total', { integration: 'slack' });
    console.log(
      `fault: slack 500→200: delivered once after ${attempts.length} attempts (${failures} × 500), ` +
        `${seconds(delivered.receivedAt.getTime() - firstAttempt.receivedAt.getTime())} s after the first attempt, ` +
        `${seconds(delivered.receivedAt.getTime() - killedAt)} s after the service died; ` +
        `Alertmanager counted ${failedRequests} failed Slack requests and ${failedNotifications} failed notifications`,
    );

    expect(attempts.map((attempt) => attempt.status)).toEqual([...Array<number>(failures).fill(500), 200]);
    expect(accepted).toHaveLength(1);
    // Nothing lost: what finally arrived is what Slack refused, channel, title, text and links.
    for (const attempt of attempts) expect(attempt.payload).toEqual(delivered.payload);
    expect(delivered.payload.channel).toBe(config.alerting.severities.critical.channel);
    expect(delivered.payload.attachments![0]!.text).toContain('#serviceprobefailed|Runbook>');
    // Alertmanager saw each refusal as a failed request and retried within the same notification.
    expect(failedRequests).toBeGreaterThanOrEqual(failures);
    expect(failedNotifications).toBe(0);
  });

  it.concurrent('Alertmanager is down while the alert fires: it reaches Slack once Alertmanager is back', async ({ expect }) => {
    const stack = stackFor('alertmanager');
    const { prometheusUrl, capture } = stack;
    const alertmanager = stack.alertmanager!;
    const notificationErrors = () => scrapeCounter(`${prometheusUrl}/metrics`, 'prometheus_notifications_errors_total');

    await alertmanager.stop();
    const amDownAt = Date.now();
    const errorsBefore = await notificationErrors();
    const killedAt = await killService(stack);
    const firing = await waitUntil('ServiceProbeFailed fires in Prometheus', () => firingAlert(prometheusUrl, PROBE_ALERT), 30_000, 100);
    const firedAt = Date.now();
    // Prometheus tries, and fails, to hand the alert over.
    await waitUntil('Prometheus fails to send alerts', async () => (await notificationErrors()) > errorsBefore, 20_000, 200);
    await sleep(3_000);
    const sendErrors = (await notificationErrors()) - errorsBefore;
    expect(capture!.messages.filter(isProbeFailedFiring)).toEqual([]);

    const again = await startAgain(alertmanager, `${stack.alertmanagerUrl}/-/ready`);
    restarted.set('alertmanager', again);
    const backAt = Date.now();
    const delivered = await capture!.waitFor(isProbeFailedFiring, 30_000);
    await sleep(4_000);
    console.log(
      `fault: alertmanager down ${seconds(backAt - amDownAt)} s (alert firing ${seconds(backAt - firedAt)} s of it, ${sendErrors} failed sends by Prometheus): ` +
        `delivered once, ${seconds(delivered.receivedAt.getTime() - backAt)} s after Alertmanager was back, ${seconds(delivered.receivedAt.getTime() - killedAt)} s after the service died`,
    );

    expect(sendErrors).toBeGreaterThan(0);
    expect(delivered.receivedAt.getTime()).toBeGreaterThan(backAt);
    expect(capture!.messages.filter(isProbeFailedFiring)).toHaveLength(1);
    // The alert Alertmanager holds is the one that fired while it was away: it started (Prometheus
    // sends the moment it fired, activeAt + for) before Alertmanager came back.
    const inAlertmanager = (await (await fetch(`${stack.alertmanagerUrl}/api/v2/alerts?filter=alertname%3D%22ServiceProbeFailed%22&filter=service%3D%22${SERVICE}%22`)).json()) as {
      startsAt: string;
    }[];
    expect(inAlertmanager.map((alert) => Date.parse(alert.startsAt))).toEqual([Date.parse(firing.activeAt) + COMPRESSED_FOR_S * 1000]);
    expect(Date.parse(inAlertmanager[0]!.startsAt)).toBeLessThan(backAt);
  });

  it.concurrent('Prometheus restarted mid-incident: the rules resume and Slack gets no duplicate page', async ({ expect }) => {
    const stack = stackFor('prometheus');
    const { prometheusUrl, capture } = stack;
    // How long Alertmanager trusts a firing alert without hearing from Prometheus again: Prometheus
    // stamps each alert it sends with endsAt = now + 4 × max(resend-delay, evaluation interval), and
    // re-sends once resend-delay has passed. In production that is 4 × 1m (resend-delay's default,
    // with 15 s evaluations) = 16 evaluation intervals. The test stack's --rules.alert.resend-delay=1s
    // would make it 4 intervals: any restart plus a 2 s `for` outlasts that, Alertmanager declares the
    // alert resolved and pages again once it re-fires (measured: 1 resolved + 2 firing messages). So
    // this stack's Prometheus first restarts with production's ratio, resend-delay = 4 evaluation
    // intervals (4 s): endsAt 16 s ahead, re-sent every 5 s (production: 4m, every 75 s).
    // The same arithmetic in production: Alertmanager resolves an alert 2m45s–4m after Prometheus
    // stops; after a restart an alert re-fires only after its whole `for` again (the state in
    // ALERTS_FOR_STATE is restored only for `for` >= --rules.alert.for-grace-period, default 10m).
    // So 1m and 2m alerts survive a short restart, but 5m ones (ServiceErrorRateHigh critical,
    // ServiceThroughputLow, …) would send a "resolved" and then page again.
    const resendDelay = `${4 * EVALUATION_INTERVAL_S}s`;
    const validityS = 4 * 4 * EVALUATION_INTERVAL_S;
    const scaled = await restartProcess(stack.prometheus, `${prometheusUrl}/-/ready`, (args) => {
      if (!args.some((arg) => arg.startsWith('--rules.alert.resend-delay='))) throw new Error(`no --rules.alert.resend-delay in ${args.join(' ')}`);
      return args.map((arg) => (arg.startsWith('--rules.alert.resend-delay=') ? `--rules.alert.resend-delay=${resendDelay}` : arg));
    });
    restarted.set('prometheus', scaled.process);
    await waitUntil('Prometheus scrapes the service again', async () => (await scalarOf(prometheusUrl, `up{job="${APP_JOB}"}`)) === 1, 20_000, 200);

    const killedAt = await killService(stack);
    const paged = await capture!.waitFor(isProbeFailedFiring, 30_000);
    const before = (await firingAlert(prometheusUrl, PROBE_ALERT))!;
    // Restart late in the re-send cycle (every 5 s), so the last endsAt Alertmanager holds is old.
    await sleep(4_000);

    const restart = await restartProcess(scaled.process, `${prometheusUrl}/-/ready`);
    restarted.set('prometheus', restart.process);
    const again = await waitUntil('ServiceProbeFailed fires again after the restart', () => firingAlert(prometheusUrl, PROBE_ALERT), 30_000, 100);
    const refiredAt = Date.now();
    // Watch past the validity of the last alert sent before the restart: a false "resolved" and a
    // second "firing" would arrive by then. Far shorter than repeat_interval (1h), so any second
    // firing message is a duplicate page.
    await sleep(Math.max(0, restart.stoppedAt + validityS * 1000 + 3_000 - Date.now()));
    const firingMessages = capture!.messages.filter(isProbeFailedFiring);
    const resolvedMessages = capture!.messages.filter(titled(RESOLVED));
    console.log(
      `fault: prometheus restart: paged ${seconds(paged.receivedAt.getTime() - killedAt)} s after the kill; restarted (same flags and data) ` +
        `${seconds(restart.stoppedAt - paged.receivedAt.getTime())} s later, down ${seconds(restart.readyAt - restart.stoppedAt)} s (stop → ready), ` +
        `alert firing again ${seconds(refiredAt - restart.stoppedAt)} s after the stop (activeAt ${before.activeAt} → ${again.activeAt}; alert valid ${validityS} s); ` +
        `Slack: ${firingMessages.length} firing, ${resolvedMessages.length} resolved message(s) in ${seconds(Date.now() - paged.receivedAt.getTime())} s`,
    );

    expect(restart.process.pid).not.toBe(scaled.process.pid);
    expect((await prometheusAlerts(prometheusUrl, PROBE_ALERT)).map((alert) => alert.state)).toEqual(['firing']);
    expect(resolvedMessages).toEqual([]);
    expect(firingMessages).toHaveLength(1);
  });

  it.concurrent('the service killed: ServiceProbeFailed and TargetDown fire within for + one scrape interval, and the availability SLI burns', async ({ expect }) => {
    const stack = stackFor('kill');
    const { prometheusUrl, capture } = stack;
    const slo = config.slos.find((s) => s.service === SERVICE && s.sli.kind === 'availability')!;
    const sliErrors = `slo:sli_errors:rate5m{slo="${slo.name}"}`;
    const sliRatio = `slo:sli_error:ratio_rate5m{slo="${slo.name}"}`;
    // Healthy first: probes succeed and no error is counted.
    expect(await scalarOf(prometheusUrl, sliErrors)).toBe(0);

    const killedAt = await killService(stack);
    const firedAt: Partial<Record<'probe' | 'target', { ms: number; activeAt: number }>> = {};
    await waitUntil(
      'ServiceProbeFailed and TargetDown fire',
      async () => {
        for (const [key, labels] of [['probe', PROBE_ALERT], ['target', TARGET_DOWN_ALERT]] as const) {
          const alert = firedAt[key] ? undefined : await firingAlert(prometheusUrl, labels);
          if (alert) firedAt[key] = { ms: Date.now() - killedAt, activeAt: Date.parse(alert.activeAt) - killedAt };
        }
        return firedAt.probe && firedAt.target;
      },
      30_000,
      100,
    );
    const delivered = await capture!.waitFor(isProbeFailedFiring, 30_000);

    // The errors the SLI counts are failed probes: the dead service answers nothing, so no 5xx.
    const probes = `probe_success{job="${BLACKBOX_JOB}",service="${SERVICE}"}`;
    const probeErrors = `sum(count_over_time(${probes}[10s]) - sum_over_time(${probes}[10s]))`;
    const burn = await waitUntil(
      'the availability SLI counts errors',
      async () => {
        const [errors, ratio, failed] = await Promise.all([scalarOf(prometheusUrl, sliErrors), scalarOf(prometheusUrl, sliRatio), scalarOf(prometheusUrl, probeErrors)]);
        return errors !== undefined && errors > 0 && ratio !== undefined && ratio > 0 && failed !== undefined && failed > 0 ? { errors, ratio, failed } : undefined;
      },
      20_000,
      250,
    );
    const served5xx = await instantQuery(prometheusUrl, `sum(rate(http_server_request_duration_seconds_count{job="${APP_JOB}",http_response_status_code=~"5.."}[10s]))`);

    const bound = (COMPRESSED_FOR_S + SCRAPE_INTERVAL_S + EVALUATION_INTERVAL_S) * 1000;
    console.log(
      `fault: service killed: ServiceProbeFailed firing ${seconds(firedAt.probe!.ms)} s (pending after ${seconds(firedAt.probe!.activeAt)} s), ` +
        `TargetDown firing ${seconds(firedAt.target!.ms)} s (pending after ${seconds(firedAt.target!.activeAt)} s) after the kill, ` +
        `bound for ${COMPRESSED_FOR_S} s + scrape ${SCRAPE_INTERVAL_S} s + evaluation ${EVALUATION_INTERVAL_S} s = ${seconds(bound)} s (compressed; real: 1m/2m + 15 s + 15 s); ` +
        `Slack ${seconds(delivered.receivedAt.getTime() - killedAt)} s; availability SLI: ${burn.failed} failed probes in 10 s, ` +
        `recorded errors ${burn.errors.toFixed(3)}/s (the rule divides by the uncompressed 300 s, so only the ratio is meaningful), ` +
        `error ratio ${burn.ratio.toFixed(3)} (${(burn.ratio / (1 - slo.objective)).toFixed(0)}× the budget rate)`,
    );

    // Detection: the first failed scrape/probe is at most one scrape interval after the kill, and the
    // rule sees it at its next evaluation (its own 1 s clock, at most one more interval); then `for`.
    for (const fired of [firedAt.probe!, firedAt.target!]) {
      expect(fired.activeAt).toBeLessThanOrEqual((SCRAPE_INTERVAL_S + EVALUATION_INTERVAL_S) * 1000);
      expect(fired.ms).toBeLessThanOrEqual(bound + 500); // 500 ms: this test's polling and the API round trip
    }
    expect(delivered.payload.channel).toBe(config.alerting.severities.critical.channel);
    expect(burn.failed).toBeGreaterThan(0);
    expect(served5xx.map((s) => Number(s.value[1])).filter((v) => v > 0)).toEqual([]);
  });
});
