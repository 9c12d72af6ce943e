import { z } from 'zod';
import { HTTP_DURATION_BUCKETS } from '../metrics/index.js';

// One schema for the whole config. Units live in field names (seconds, ratios 0..1) so a
// reader never has to guess whether "500" means milliseconds.

const ratio = z.number().min(0, 'must be a ratio between 0 and 1').max(1, 'must be a ratio between 0 and 1 (99.9 % is 0.999)');
const seconds = z.number().positive('must be a positive number of seconds');
const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes, starting with a letter');
const promDuration = z.string().regex(/^[0-9]+(ms|s|m|h|d|w)$/, 'must be a Prometheus duration such as 30s, 5m or 4h');

/** Seconds in a Prometheus duration such as 30s, 5m or 30d (the forms promDuration accepts). */
export function durationSeconds(duration: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d|w)$/.exec(duration);
  if (!match) throw new Error(`not a Prometheus duration: ${duration}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/** Retention beyond the longest SLO window, so the window's first samples are never being deleted as it is read. */
export const RETENTION_MARGIN_DAYS = 2;

export const SEVERITIES = ['critical', 'warning', 'ticket'] as const;
export type Severity = (typeof SEVERITIES)[number];

const latencySla = z
  .object({
    p50Seconds: seconds.optional().describe('median request duration must stay below this (seconds)'),
    p95Seconds: seconds.optional().describe('95th-percentile request duration must stay below this (seconds)'),
    p99Seconds: seconds.optional().describe('99th-percentile request duration must stay below this (seconds)'),
  })
  .strict();

const errorRateSla = z
  .object({
    warning: ratio.describe('5xx ratio that raises a warning (0.001 = 0.1 %)'),
    critical: ratio.describe('5xx ratio that pages (0.01 = 1 %)'),
  })
  .strict()
  .refine((e) => e.warning < e.critical, { message: 'warning must be below critical', path: ['warning'] });

const serviceSchema = z
  .object({
    name: name.describe('short id used in labels, k6 tags and file names'),
    title: z.string().min(1).describe('human name shown on dashboards'),
    job: z.string().min(1).describe('Prometheus scrape job that exposes the HTTP metrics'),
    team: name.default('platform').describe('team label on its alerts, used for routing'),
    scrapeTarget: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:[0-9]+$/, 'must be host:port')
      .optional()
      .describe('host:port inside docker compose; defaults to <job>:8080'),
    routes: z
      .array(z.string().startsWith('/', 'must be a route template starting with /'))
      .default([])
      .describe('route templates that belong to this service; empty means every route of the job'),
    sla: z
      .object({
        latency: latencySla.default({}).describe('latency targets; each becomes an SLA line, an alert and a k6 threshold'),
        errorRate: errorRateSla.optional().describe('error-rate targets, warning and critical'),
        minThroughputRps: z.number().positive('must be a positive request rate').optional().describe('requests per second the service must sustain under load (checked only while a k6 test runs)'),
        availability: ratio.optional().describe('availability target shown on the service dashboard (0.999 = 99.9 %)'),
      })
      .strict()
      .describe('the service-level agreement: targets drawn on dashboards, alerted on and used as k6 thresholds'),
  })
  .strict();

const sloSchema = z
  .object({
    name: name.describe('SLO id, the slo label of its rules and alerts'),
    service: z.string().describe('name of the service it measures'),
    objective: z.number().gt(0, 'must be above 0').lt(1, 'must be below 1 (99.9 % is 0.999)').describe('share of good requests, e.g. 0.999'),
    window: promDuration.default('30d').describe('the error-budget window'),
    sli: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('availability') }).strict(),
      z.object({ kind: z.literal('latency'), thresholdSeconds: seconds.describe('a request slower than this is bad; must be a histogram bucket') }).strict(),
    ]).describe('availability: non-5xx requests are good; latency: requests faster than thresholdSeconds are good'),
  })
  .strict();

const databaseSchema = z
  .object({
    avgQuerySeconds: seconds.describe('average query duration must stay below this'),
    maxQuerySeconds: seconds.describe('no query may take longer than this'),
    poolUtilisation: ratio.describe('used connections / pool maximum must stay below this'),
    indexUsage: ratio.describe('index scans / all scans must stay above this'),
    cacheHit: ratio.describe('buffer cache hit ratio must stay above this'),
    maxPendingRequests: z.number().int().nonnegative().default(0).describe('requests waiting for a pool connection before alerting'),
    sizeLimitBytes: z.number().int().positive().default(10 * 1024 ** 3).describe('database size the capacity alert predicts against'),
    team: name.default('database').describe('team label on database alerts'),
  })
  .strict();

const hostSchema = z
  .object({
    cpu: ratio.describe('CPU busy ratio must stay below this'),
    memory: ratio.describe('memory used ratio must stay below this'),
    disk: ratio.describe('filesystem used ratio must stay below this'),
    team: name.default('platform').describe('team label on host alerts'),
  })
  .strict();

const routingSchema = z
  .object({
    channel: z.string().startsWith('#', 'must be a Slack channel such as #alerts').describe('Slack channel for this severity'),
    groupWait: promDuration.describe('how long Alertmanager waits to batch the first notification'),
    groupInterval: promDuration.describe('how long before notifying about new alerts in a group'),
    repeatInterval: promDuration.describe('how long before re-sending a still-firing alert'),
  })
  .strict();

const teamSchema = z
  .object({
    name: name.describe('matches the team label of alerts'),
    channels: z.partialRecord(z.enum(SEVERITIES), z.string().startsWith('#', 'must be a Slack channel such as #alerts')).describe('Slack channel per severity for this team; a missing severity uses the default channel'),
  })
  .strict();

const alertingSchema = z
  .object({
    severities: z
      .object({
        critical: routingSchema.describe('pages: SLA breaches and fast error-budget burn'),
        warning: routingSchema.describe('needs attention today'),
        ticket: routingSchema.describe('slow burn and capacity: open a ticket'),
      })
      .strict()
      .describe('default Slack channel and timing per severity'),
    teams: z.array(teamSchema).default([]).describe('team routes, matched before the severity routes'),
    groupBy: z.array(z.string()).default(['alertname', 'service', 'severity']).describe('labels Alertmanager groups notifications by'),
    slackApiUrlFile: z.string().min(1).default('/run/secrets/slack_api_url').describe('file holding the Slack webhook URL, read by Alertmanager; never commit the URL'),
    heartbeat: z
      .object({
        url: z
          .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' })
          .optional()
          .describe('dead man’s switch service (e.g. healthchecks.io) that the always-firing Watchdog alert is posted to; it alerts you when the posts stop. Without one the Watchdog goes to a receiver that notifies no one'),
        repeatInterval: promDuration.default('5m').describe('how often Alertmanager re-sends the Watchdog: the heartbeat service’s period must be longer'),
      })
      .strict()
      .default({ repeatInterval: '5m' })
      .describe('the dead man’s switch: where the Watchdog alert goes'),
    regressionVerdictMaxAge: promDuration.default('1d').describe('PerformanceRegression stops firing once its verdict is older than this'),
  })
  .strict();

const linksSchema = z
  .object({
    grafanaUrl: z
      .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' })
      .describe('Grafana as users reach it; alerts link to its dashboards')
      .transform((u) => u.replace(/\/+$/, '')),
    runbookUrl: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).describe('docs/runbooks.md as published; alerts link to <runbookUrl>#<alert anchor>'),
  })
  .strict();

const sensitivitySchema = z
  .object({
    minEffect: z.number().min(0, 'must be a relative change such as 0.05 (5 %)').max(10).optional().describe('smallest relative change that counts as a regression or improvement'),
    alpha: z.number().gt(0, 'must be a significance level above 0').lt(0.5, 'must be a significance level below 0.5').optional().describe('significance level of the statistical test'),
    noiseMultiple: z.number().min(0, 'must be a multiple of the run-to-run CV such as 2').max(20).optional().describe('the smallest change that counts is at least this multiple of the KPI’s measured run-to-run CV'),
  })
  .strict();

const regressionSchema = z
  .object({
    baselineRuns: z.number().int().min(2, 'needs at least 2 runs to compare across runs').default(5).describe('a baseline is the last N runs of the scenario on the baseline branch'),
    baselineBranch: z.string().min(1).default('main').describe('the branch whose runs form the default baseline'),
    minEffect: z.number().min(0).max(10).default(0.05).describe('default smallest relative change that counts (0.05 = 5 %), so noise pages no one'),
    alpha: z.number().gt(0).lt(0.5).default(0.01).describe('default significance level'),
    noiseMultiple: z
      .number()
      .min(0, 'must be a multiple of the run-to-run CV such as 2')
      .max(20)
      .default(2)
      .describe('noise-aware minimum: a change counts only when it can reach max(minEffect, noiseMultiple × the KPI’s run-to-run CV), the CV measured from the baseline runs (or the KPI’s history when the baseline has one run)'),
    kpis: z.record(z.string(), sensitivitySchema).default({}).describe('per-KPI overrides of minEffect, alpha and noiseMultiple, keyed by KPI name (e.g. latency_p95)'),
    team: name.default('platform').describe('team label on the PerformanceRegression alert'),
  })
  .strict();

const scrapeSchema = z
  .object({
    interval: promDuration.default('15s').describe('Prometheus scrape interval'),
    evaluationInterval: promDuration.default('15s').describe('Prometheus rule evaluation interval'),
  })
  .strict();

const loadgenSchema = z
  .object({
    instances: z
      .number()
      .int('must be a whole number of pods')
      .min(1, 'needs at least 1 instance')
      .max(100, 'at most 100 instances')
      .default(4)
      .describe('pods of the Kubernetes Indexed Job (provisioning/kubernetes/loadgen-indexed-job.yaml); pod i of N runs k6 execution segment i/N:(i+1)/N of one scenario'),
    image: z
      .string()
      .regex(/^[a-z0-9][A-Za-z0-9._/:@-]*$/, 'must be a container image reference such as registry.example.com/perfstack:0.1.0')
      .default('perfstack:local')
      .describe('the image built from this repository’s Dockerfile, as the cluster pulls it (docker-compose.yml tags it perfstack:local)'),
    activeDeadlineSeconds: z
      .number()
      .int('must be a whole number of seconds')
      .positive('must be a positive number of seconds')
      .default(1800)
      .describe('Kubernetes stops every pod of the Job after this many seconds, however long the scenario asks for'),
  })
  .strict();

/** A Kubernetes label key (optional DNS prefix/ then a name) and value, as the API server checks them. */
const k8sLabelKey = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'must be a Kubernetes label key such as release or app.kubernetes.io/part-of');
const k8sLabelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value: at most 63 letters, digits, dashes, dots or underscores');
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes name: lower-case letters, digits and dashes, at most 63');

const kubernetesSchema = z
  .object({
    namespace: k8sName.default('perfstack').describe('namespace of every object under provisioning/kubernetes/'),
    labels: z
      .record(k8sLabelKey, k8sLabelValue)
      .default({})
      .describe('extra labels on every generated Kubernetes object, e.g. { release: "kube-prometheus-stack" } for a Prometheus whose ruleSelector and serviceMonitorSelector ask for it'),
    grafanaInstanceSelector: z
      .record(k8sLabelKey, k8sLabelValue)
      .default({ dashboards: 'grafana' })
      .describe('matchLabels of the GrafanaDashboard objects: the labels of the Grafana resources grafana-operator imports them into'),
    slackSecret: z
      .object({
        name: k8sName.default('perfstack-alertmanager-slack').describe('the Secret holding the Slack webhook URL, in the same namespace'),
        key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key: letters, digits, dashes, dots or underscores').default('webhook-url').describe('its key'),
      })
      .strict()
      .default({ name: 'perfstack-alertmanager-slack', key: 'webhook-url' })
      .describe('where the AlertmanagerConfig reads the Slack webhook URL from: never inline'),
  })
  .strict();

const compressionSchema = z
  .object({
    enabled: z.boolean().default(true).describe('compress responses of the reference service (gzip or brotli, negotiated from Accept-Encoding); `perfstack app --no-compression` turns it off'),
    thresholdBytes: z.number().int('must be a whole number of bytes').min(0).max(10_000_000).default(1024).describe('bodies smaller than this are sent uncompressed (compressing them costs more than it saves)'),
    brotliQuality: z.number().int('must be a whole number').min(0, 'brotli quality is 0..11').max(11, 'brotli quality is 0..11').default(4).describe('brotli quality (0 fastest … 11 smallest); 4 keeps the CPU cost near gzip’s'),
    gzipLevel: z.number().int('must be a whole number').min(1, 'gzip level is 1..9').max(9, 'gzip level is 1..9').default(6).describe('gzip level (1 fastest … 9 smallest)'),
  })
  .strict();

const cacheSchema = z
  .object({
    timeoutMs: z
      .number()
      .int('must be a whole number of milliseconds')
      .min(1, 'must be at least 1 ms')
      .max(5000, 'must be at most 5000 ms: a slower cache is no cache')
      .default(50)
      .describe('a Redis command (or connection attempt) slower than this counts as a cache error and the read is answered from PostgreSQL'),
    search: z
      .object({
        ttlSeconds: z.number().int('must be a whole number of seconds').min(1).max(86_400).default(60).describe('how long a search result stays cached'),
        minHitRatio: ratio.default(0.5).describe('CacheHitRatioLow warns when the search cache’s hit ratio stays below this'),
      })
      .strict()
      .default({ ttlSeconds: 60, minHitRatio: 0.5 })
      .describe('the cache of GET /api/search results'),
    entity: z
      .object({
        ttlSeconds: z.number().int('must be a whole number of seconds').min(1).max(86_400).default(300).describe('how long an entity stays cached'),
        minHitRatio: ratio.default(0.5).describe('CacheHitRatioLow warns when the entity cache’s hit ratio stays below this'),
      })
      .strict()
      .default({ ttlSeconds: 300, minHitRatio: 0.5 })
      .describe('the cache of GET /api/entities/:id'),
    hitRatioForMinutes: z.number().int().min(1).max(1440).default(15).describe('how long the hit ratio must stay low before CacheHitRatioLow fires'),
    maxErrorRatio: ratio.default(0.01).describe('CacheErrorsHigh warns when Redis errors exceed this share of cached reads'),
    searchLatency: z
      .object({
        cachedP95Seconds: seconds.default(0.4).describe('p95 of searches answered from the cache must stay below this'),
        uncachedP95Seconds: seconds.default(3).describe('p95 of searches answered from PostgreSQL (miss or cache off) must stay below this'),
      })
      .strict()
      .default({ cachedP95Seconds: 0.4, uncachedP95Seconds: 3 })
      .describe('the search SLA split by cache result (app_search_duration_seconds{cache_result})'),
    team: name.default('platform').describe('team label on the cache alerts'),
  })
  .strict();

/** VictoriaMetrics' -retentionPeriod: h, d, w or y (a bare number would mean months, too easy to misread). */
const vmRetention = z.string().regex(/^[0-9]+(h|d|w|y)$/, 'must be a VictoriaMetrics retention such as 90d, 26w or 1y (h, d, w or y)');

/** Seconds in a VictoriaMetrics retention such as 1y (the forms vmRetention accepts; a year is 365 days). */
export function vmRetentionSeconds(retention: string): number {
  const match = /^([0-9]+)(h|d|w|y)$/.exec(retention);
  if (!match) throw new Error(`not a VictoriaMetrics retention: ${retention}`);
  return Number(match[1]) * { h: 3600, d: 86400, w: 604800, y: 365 * 86400 }[match[2] as 'h' | 'd' | 'w' | 'y'];
}

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' });

const longTermStoreSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Prometheus remote-writes everything to a long-term store (compose: prometheus.yml and the long-term-store profile; native: always started, as `perfstack start --long-term-store` does for one run)'),
    retention: vmRetention.default('1y').describe('-retentionPeriod of the VictoriaMetrics perfstack runs; at least the Prometheus retention'),
    remoteWriteUrl: httpUrl
      .optional()
      .describe('an external store’s remote-write URL (vminsert, Thanos Receive, Cortex/Mimir); perfstack then runs no VictoriaMetrics of its own'),
    queryUrl: httpUrl
      .optional()
      .describe('that store’s Prometheus-compatible query URL (vmselect, Thanos Query, Mimir’s /prometheus), the Grafana datasource; required with remoteWriteUrl'),
  })
  .strict();

const frontendAuditSchema = z
  .object({
    performanceScoreMin: ratio.default(0.9).describe('Lighthouse performance score (0..1) the audited page must reach (Lighthouse "good": 0.9)'),
    tbtSeconds: seconds.default(0.2).describe('Total Blocking Time must stay at or below this (Lighthouse "good": 200 ms)'),
    speedIndexSeconds: seconds.default(3.4).describe('Speed Index must stay at or below this (Lighthouse mobile "good": 3.4 s)'),
    runs: z.number().int('must be a whole number').min(1).max(20).default(3).describe('Lighthouse runs per audit; the median of each metric is judged and stored'),
  })
  .strict();

const frontendSchema = z
  .object({
    lcpSeconds: seconds.default(2.5).describe('p75 Largest Contentful Paint must stay at or below this (web.dev "good": 2.5 s)'),
    inpSeconds: seconds.default(0.2).describe('p75 Interaction to Next Paint must stay at or below this (web.dev "good": 200 ms)'),
    cls: z.number().positive('must be a positive layout-shift score such as 0.1').default(0.1).describe('p75 Cumulative Layout Shift must stay at or below this (web.dev "good": 0.1)'),
    fcpSeconds: seconds.default(1.8).describe('p75 First Contentful Paint target (web.dev "good": 1.8 s)'),
    ttfbSeconds: seconds.default(0.8).describe('p75 Time to First Byte target (web.dev "good": 0.8 s)'),
    ttiSeconds: seconds.default(3).describe('time to interactive target of the synthetic browser scenario'),
    javascriptBytes: z.number().int().positive('must be a positive number of bytes').default(1_000_000).describe('total JavaScript a page may load'),
    pages: z
      .array(name)
      .min(1, 'needs at least one page template')
      .refine((pages) => !pages.includes('other'), '"other" is reserved for pages the service does not know')
      .refine((pages) => new Set(pages).size === pages.length, 'lists a page template twice')
      .default(['search'])
      .describe('page templates the front end reports as (<meta name="perfstack-page">); anything else is counted as "other", so URLs never become labels'),
    alertForMinutes: z.number().int().positive().default(15).describe('how long a p75 Web Vital must stay out of "good" before it alerts'),
    team: name.default('platform').describe('team label on front-end alerts'),
    audit: frontendAuditSchema
      .default({ performanceScoreMin: 0.9, tbtSeconds: 0.2, speedIndexSeconds: 3.4, runs: 3 })
      .describe('`perfstack audit` (Lighthouse): budgets beyond the targets above, which it also checks (fcpSeconds, lcpSeconds, cls, javascriptBytes); docs/frontend-audits.md'),
  })
  .strict();

export const configSchema = z
  .object({
    services: z.array(serviceSchema).min(1, 'needs at least one service').describe('the services under test and their SLAs'),
    slos: z.array(sloSchema).default([]).describe('service-level objectives with multi-window burn-rate alerts'),
    database: databaseSchema.describe('database KPIs'),
    host: hostSchema.describe('host KPIs'),
    alerting: alertingSchema.describe('Alertmanager routing to Slack'),
    links: linksSchema.describe('where alerts link to'),
    scrape: scrapeSchema.default({ interval: '15s', evaluationInterval: '15s' }).describe('Prometheus timing'),
    retention: promDuration
      .default('35d')
      .describe(`how long Prometheus keeps samples (--storage.tsdb.retention.time in the native stack and docker-compose.yml); must cover the longest SLO window plus ${RETENTION_MARGIN_DAYS}d`),
    longTermStore: longTermStoreSchema
      .default({ enabled: false, retention: '1y' })
      .describe('the opt-in long-term store (VictoriaMetrics) Prometheus remote-writes to; docs/long-term-storage.md'),
    regression: regressionSchema
      .default({ baselineRuns: 5, baselineBranch: 'main', minEffect: 0.05, alpha: 0.01, noiseMultiple: 2, kpis: {}, team: 'platform' })
      .describe('how runs are compared with their baseline'),
    loadgen: loadgenSchema
      .default({ instances: 4, image: 'perfstack:local', activeDeadlineSeconds: 1800 })
      .describe('perfstack’s load engine scaled out over several pods (a Kubernetes Indexed Job)'),
    kubernetes: kubernetesSchema
      .default({ namespace: 'perfstack', labels: {}, grafanaInstanceSelector: { dashboards: 'grafana' }, slackSecret: { name: 'perfstack-alertmanager-slack', key: 'webhook-url' } })
      .describe('namespace and labels of the Kubernetes objects (provisioning/kubernetes/; docs/kubernetes.md)'),
    frontend: frontendSchema
      .default({ lcpSeconds: 2.5, inpSeconds: 0.2, cls: 0.1, fcpSeconds: 1.8, ttfbSeconds: 0.8, ttiSeconds: 3, javascriptBytes: 1_000_000, pages: ['search'], alertForMinutes: 15, team: 'platform', audit: { performanceScoreMin: 0.9, tbtSeconds: 0.2, speedIndexSeconds: 3.4, runs: 3 } })
      .describe('front-end targets (Core Web Vitals at p75, JavaScript size) and the page templates real-user monitoring knows'),
    compression: compressionSchema
      .default({ enabled: true, thresholdBytes: 1024, brotliQuality: 4, gzipLevel: 6 })
      .describe('response compression of the reference service'),
    cache: cacheSchema
      .default({
        timeoutMs: 50,
        search: { ttlSeconds: 60, minHitRatio: 0.5 },
        entity: { ttlSeconds: 300, minHitRatio: 0.5 },
        hitRatioForMinutes: 15,
        maxErrorRatio: 0.01,
        searchLatency: { cachedP95Seconds: 0.4, uncachedP95Seconds: 3 },
        team: 'platform',
      })
      .describe('the reference service’s Redis read cache (search results and entities): TTLs, alert thresholds, the cached/uncached search SLA'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.services.forEach((service, i) => {
      if (seen.has(service.name)) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service name "${service.name}"` });
      }
      seen.add(service.name);
    });
    const serviceNames = [...seen];
    const sloNames = new Set<string>();
    config.slos.forEach((slo, i) => {
      if (!seen.has(slo.service)) {
        ctx.addIssue({
          code: 'custom',
          path: ['slos', i, 'service'],
          message: `unknown service "${slo.service}" (known: ${serviceNames.join(', ')})`,
        });
      }
      if (sloNames.has(slo.name)) {
        ctx.addIssue({ code: 'custom', path: ['slos', i, 'name'], message: `duplicate SLO name "${slo.name}"` });
      }
      sloNames.add(slo.name);
      const needed = durationSeconds(slo.window) + RETENTION_MARGIN_DAYS * 86400;
      if (needed > durationSeconds(config.retention)) {
        ctx.addIssue({
          code: 'custom',
          path: ['slos', i, 'window'],
          message: `${slo.window} plus a ${RETENTION_MARGIN_DAYS}d margin exceeds retention (${config.retention}): shorten the window or raise retention to at least ${Math.ceil(needed / 86400)}d`,
        });
      }
      if (slo.sli.kind === 'latency' && !(HTTP_DURATION_BUCKETS as readonly number[]).includes(slo.sli.thresholdSeconds)) {
        ctx.addIssue({
          code: 'custom',
          path: ['slos', i, 'sli', 'thresholdSeconds'],
          message: `must be a histogram bucket boundary so the SLI is exact (one of ${HTTP_DURATION_BUCKETS.join(', ')})`,
        });
      }
    });
    const store = config.longTermStore;
    if (store.remoteWriteUrl && !store.queryUrl) {
      ctx.addIssue({ code: 'custom', path: ['longTermStore', 'queryUrl'], message: 'required with remoteWriteUrl: the store’s Prometheus-compatible query URL, for Grafana and rule evaluation' });
    }
    const retentionsValid = vmRetention.safeParse(store.retention).success && promDuration.safeParse(config.retention).success;
    if (retentionsValid && vmRetentionSeconds(store.retention) < Math.max(86400, durationSeconds(config.retention))) {
      ctx.addIssue({ code: 'custom', path: ['longTermStore', 'retention'], message: `${store.retention} is shorter than Prometheus's own retention (${config.retention}) or a day: a long-term store must keep at least as much` });
    }
    const teamNames = new Set<string>();
    config.alerting.teams.forEach((team, i) => {
      if (teamNames.has(team.name)) {
        ctx.addIssue({ code: 'custom', path: ['alerting', 'teams', i, 'name'], message: `duplicate team "${team.name}"` });
      }
      teamNames.add(team.name);
    });
  });

/** What a user writes: optional fields may be left out. */
export type PerfstackConfigInput = z.input<typeof configSchema>;
/** What every generator receives: validated, with defaults filled in. */
export type PerfstackConfig = z.output<typeof configSchema>;
export type ServiceConfig = PerfstackConfig['services'][number];
export type SloConfig = PerfstackConfig['slos'][number];
export type TeamConfig = PerfstackConfig['alerting']['teams'][number];
export type RegressionConfig = PerfstackConfig['regression'];
export type FrontendConfig = PerfstackConfig['frontend'];
export type CacheConfig = PerfstackConfig['cache'];
