import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import defaults from '../perfstack.config.js';
import { parseConfig, type GeneratedFile } from '../config/index.js';
import { ALERTMANAGER_CONFIG_PATH, RULES_DIR, generateAlertmanager, generateRules, routeTestCases, scrapeJobs, BLACKBOX_JOB } from '../alerts/index.js';
import { generateDashboards } from '../dashboards/index.js';
import { generateAll } from '../cli/generate.js';
import {
  CONFIGMAP_MAX_BYTES,
  KUBERNETES_DIR,
  SIDECAR_LABEL,
  configMapDataBytes,
  dashboardConfigMap,
  generateKubernetes,
  parseMatcher,
  type DashboardSource,
} from './index.js';

const projectRoot = resolve(import.meta.dirname, '..');
const config = parseConfig(defaults);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const objectsOf = (files: GeneratedFile[]) => files.map((file) => ({ path: file.path, object: parse(file.content) as K8sObject }));
const files = generateKubernetes(config);
const objects = objectsOf(files);
const ofKind = (kind: string) => objects.filter(({ object }) => object.kind === kind).map(({ object }) => object);

function writeTree(root: string, generated: GeneratedFile[]): void {
  for (const file of generated) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), file.content);
  }
}

describe('Kubernetes objects', () => {
  it('all live under provisioning/kubernetes/, are part of `perfstack generate`, and are byte-stable', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(file.path.startsWith(`${KUBERNETES_DIR}/`), file.path).toBe(true);
    const all = new Map(generateAll(config).map((file) => [file.path, file.content]));
    for (const file of files) expect(all.get(file.path), file.path).toBe(file.content);
    expect(generateKubernetes(parseConfig(defaults))).toEqual(files);
    expect(new Set(objects.map(({ object }) => `${object.kind}/${object.metadata.name}`)).size, 'kind/name pairs are unique').toBe(objects.length);
  });

  it('carry the configured namespace and labels, perfstack’s own labels first', () => {
    for (const { path, object } of objects) {
      expect(object.metadata.namespace, path).toBe(config.kubernetes.namespace);
      expect(object.metadata.labels['app.kubernetes.io/part-of'], path).toBe('perfstack');
    }
    const input = structuredClone(defaults);
    input.kubernetes = { ...input.kubernetes, namespace: 'observability', labels: { release: 'kube-prometheus-stack', 'example.com/team': 'perf' } };
    for (const { path, object } of objectsOf(generateKubernetes(parseConfig(input)))) {
      expect(object.metadata.namespace, path).toBe('observability');
      expect(object.metadata.labels, path).toMatchObject({ release: 'kube-prometheus-stack', 'example.com/team': 'perf' });
    }
    const bad = structuredClone(defaults);
    bad.kubernetes = { ...bad.kubernetes, namespace: 'Not_A_Namespace' };
    expect(() => parseConfig(bad)).toThrow(/kubernetes\.namespace/);
  });

  it('have one PrometheusRule per rule file whose groups equal that file’s groups', () => {
    const ruleFiles = generateRules(config).filter((file) => file.path.startsWith(`${RULES_DIR}/`));
    const rules = ofKind('PrometheusRule');
    expect(rules).toHaveLength(ruleFiles.length);
    for (const file of ruleFiles) {
      const name = `perfstack-${file.path.slice(RULES_DIR.length + 1).replace(/\.yml$/, '')}`;
      const rule = rules.find((r) => r.metadata.name === name);
      expect(rule, name).toBeDefined();
      expect(rule!.spec).toEqual({ groups: (parse(file.content) as { groups: unknown[] }).groups });
    }
  });

  it('scrape every job the alerts expect under prometheus.yml’s job name', () => {
    const jobsCovered = new Map<string, number>();
    for (const object of [...ofKind('ServiceMonitor'), ...ofKind('PodMonitor')]) {
      const endpoints = (object.spec!.endpoints ?? object.spec!.podMetricsEndpoints) as { port: string; relabelings: { targetLabel: string; replacement: string }[] }[];
      expect(endpoints, object.metadata.name).toHaveLength(1);
      const job = endpoints[0]!.relabelings.find((r) => r.targetLabel === 'job')?.replacement;
      expect(job, object.metadata.name).toBeDefined();
      jobsCovered.set(job!, (jobsCovered.get(job!) ?? 0) + 1);
    }
    const probes = ofKind('Probe');
    for (const probe of probes) expect(probe.spec!.jobName).toBe(BLACKBOX_JOB);
    expect(probes.map((p) => (p.spec!.targets as { staticConfig: { labels: { service: string } } }).staticConfig.labels.service).sort()).toEqual(
      config.services.map((s) => s.name).sort(),
    );
    if (probes.length > 0) jobsCovered.set(BLACKBOX_JOB, 1);
    expect([...jobsCovered.keys()].sort()).toEqual(scrapeJobs(config).map((j) => j.job).sort());
    for (const [job, count] of jobsCovered) expect(count, job).toBe(1);
  });

  describe('AlertmanagerConfig', () => {
    const [amc] = ofKind('AlertmanagerConfig') as (K8sObject & { spec: { route: Route; receivers: { name: string; slackConfigs?: Record<string, unknown>[] }[]; inhibitRules: unknown[] } })[];
    const generated = parse(generateAlertmanager(config).find((f) => f.path === ALERTMANAGER_CONFIG_PATH)!.content) as {
      receivers: { name: string }[];
      inhibit_rules: unknown[];
    };

    it('has the generated receivers, each Slack URL a Secret key reference and never inline', () => {
      expect(amc!.spec.receivers.map((r) => r.name)).toEqual(generated.receivers.map((r) => r.name));
      const slack = amc!.spec.receivers.flatMap((r) => r.slackConfigs ?? []);
      expect(slack.length).toBeGreaterThan(0);
      for (const c of slack) expect(c.apiURL).toEqual({ name: config.kubernetes.slackSecret.name, key: config.kubernetes.slackSecret.key });
      expect(JSON.stringify(amc)).not.toMatch(/hooks\.slack\.com|slack_api_url/);
      expect(amc!.spec.inhibitRules).toHaveLength(generated.inhibit_rules.length);
    });

    // Alertmanager's routing: depth first, the first matching child wins unless it says continue.
    interface Route { receiver?: string; matchers?: { name: string; value: string; matchType: string }[]; routes?: Route[]; continue?: boolean }
    const matches = (route: Route, labels: Record<string, string>) =>
      (route.matchers ?? []).every(({ name, value, matchType }) => {
        const actual = labels[name] ?? '';
        const regex = new RegExp(`^(?:${value})$`);
        return { '=': actual === value, '!=': actual !== value, '=~': regex.test(actual), '!~': !regex.test(actual) }[matchType];
      });
    const receiverFor = (route: Route, labels: Record<string, string>, inherited: string): string => {
      const own = route.receiver ?? inherited;
      for (const child of route.routes ?? []) if (matches(child, labels)) return receiverFor(child, labels, own);
      return own;
    };

    it('routes every case alerts/ tests for to the same receiver alertmanager.yml does', () => {
      const cases = routeTestCases(config);
      expect(cases.length).toBeGreaterThan(5);
      for (const { labels, receiver } of cases) expect(receiverFor(amc!.spec.route, labels, ''), JSON.stringify(labels)).toBe(receiver);
    });

    it('translates matchers, and refuses one it cannot', () => {
      expect(parseMatcher('slo=~".+"')).toEqual({ name: 'slo', value: '.+', matchType: '=~' });
      expect(parseMatcher('team!="a \\"b\\""')).toEqual({ name: 'team', value: 'a "b"', matchType: '!=' });
      expect(() => parseMatcher('severity')).toThrow(/cannot translate matcher "severity"/);
    });
  });

  describe('dashboards', () => {
    const dashboards = generateDashboards(config);

    it('are GrafanaDashboard objects and sidecar ConfigMaps holding the generated JSON unchanged', () => {
      const grafanaDashboards = ofKind('GrafanaDashboard');
      const configMaps = ofKind('ConfigMap').filter((cm) => cm.metadata.labels.grafana_dashboard !== undefined);
      expect(grafanaDashboards).toHaveLength(dashboards.length);
      expect(configMaps).toHaveLength(dashboards.length);
      for (const file of dashboards) {
        const fileName = file.path.split('/').at(-1)!;
        const gd = grafanaDashboards.find((d) => d.spec!.json === file.content);
        expect(gd, file.path).toBeDefined();
        expect(gd!.spec!.instanceSelector).toEqual({ matchLabels: config.kubernetes.grafanaInstanceSelector });
        const cm = configMaps.find((c) => c.data?.[fileName] === file.content);
        expect(cm, file.path).toBeDefined();
        expect(cm!.metadata.labels).toMatchObject(SIDECAR_LABEL);
        expect(cm!.metadata.annotations?.grafana_folder).toBe(file.path.split('/').at(-2));
        expect(configMapDataBytes(cm!.data!)).toBeLessThanOrEqual(CONFIGMAP_MAX_BYTES);
      }
    });

    it('fail clearly when a dashboard would not fit a ConfigMap’s 1 MiB', () => {
      const source = (bytes: number): DashboardSource => ({ name: 'perfstack-huge', folder: 'services', file: 'huge.json', json: 'x'.repeat(bytes) });
      const fits = CONFIGMAP_MAX_BYTES - 'huge.json'.length;
      expect(() => dashboardConfigMap(config, source(fits))).not.toThrow();
      expect(() => dashboardConfigMap(config, source(fits + 1))).toThrow(/dashboard services\/huge\.json is 1048577 bytes, over the 1048576-byte \(1 MiB\) limit/);
      // Multi-byte characters count as bytes, as the API server counts them.
      expect(() => dashboardConfigMap(config, { ...source(0), json: 'é'.repeat(Math.ceil(fits / 2) + 1) })).toThrow(/1 MiB/);
    });
  });
});

describe('perfstack generate --target kubernetes', () => {
  it('writes provisioning/kubernetes/ only and removes orphans there alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'perfstack-k8s-target-'));
    try {
      mkdirSync(join(root, KUBERNETES_DIR), { recursive: true });
      writeFileSync(join(root, KUBERNETES_DIR, 'removed-object.yaml'), 'kind: Old\n');
      mkdirSync(join(root, RULES_DIR), { recursive: true });
      writeFileSync(join(root, RULES_DIR, 'someone-elses.yml'), 'groups: []\n');
      const run = spawnSync(process.execPath, [join(projectRoot, 'bin/perfstack.js'), 'generate', '--target', 'kubernetes', '--config', join(projectRoot, 'perfstack.config.ts')], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`removed ${KUBERNETES_DIR}/removed-object.yaml`);
      expect(existsSync(join(root, KUBERNETES_DIR, 'removed-object.yaml'))).toBe(false);
      expect(existsSync(join(root, RULES_DIR, 'someone-elses.yml'))).toBe(true);
      expect(readdirSync(root).sort()).toEqual(['provisioning']);
      expect(readdirSync(join(root, 'provisioning')).sort()).toEqual(['kubernetes', 'prometheus']);
      for (const file of files) expect(readFileSync(join(root, file.path), 'utf8'), file.path).toBe(file.content);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

// --- validation with the operators' own Go types --------------------------------------------

function findGo(): string | undefined {
  for (const candidate of [process.env.GO_BINARY, 'go', '/usr/local/go/bin/go']) {
    if (candidate && spawnSync(candidate, ['version'], { encoding: 'utf8' }).status === 0) return candidate;
  }
  return undefined;
}

const go = findGo();
const validatorDir = join(projectRoot, 'kubernetes/validate');

describe.skipIf(!go)(`strict decoding into prometheus-operator’s and k8s.io/api’s Go types${go ? '' : ' (skipped: no go binary on PATH or at /usr/local/go/bin/go)'}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'perfstack-k8s-validate-'));
  const validator = join(work, 'validate');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(() => {
    // -mod=readonly: go.mod and go.sum are committed; the build must not rewrite them.
    const build = spawnSync(go!, ['build', '-mod=readonly', '-o', validator, '.'], { cwd: validatorDir, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`go build kubernetes/validate failed:\n${build.stdout}${build.stderr}`);
  }, 600_000);

  const validate = (dir: string) => spawnSync(validator, [dir], { encoding: 'utf8' });

  it('accepts every generated object, and runs Prometheus’s rule parser on every PrometheusRule', () => {
    const tree = join(work, 'generated');
    writeTree(tree, files);
    const run = validate(join(tree, KUBERNETES_DIR));
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`${files.length} objects, 0 failed`);
    for (const kind of ['PrometheusRule', 'ServiceMonitor', 'PodMonitor', 'Probe', 'AlertmanagerConfig', 'GrafanaDashboard', 'Job', 'ConfigMap']) {
      expect(run.stdout, kind).toMatch(new RegExp(`^ok .*/${kind} `, 'm'));
    }
  });

  it('accepts the committed provisioning/kubernetes/ too', () => {
    const run = validate(join(projectRoot, KUBERNETES_DIR));
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  // Each edit breaks one object in one way; the validator must name what is wrong.
  const breakages: { what: string; file: RegExp; edit: (object: Record<string, any>) => void; error: RegExp }[] = [
    { what: 'a misspelt field of a ServiceMonitor endpoint', file: /servicemonitor-pg-stats/, edit: (o) => { o.spec.endpoints[0].intervall = o.spec.endpoints[0].interval; delete o.spec.endpoints[0].interval; }, error: /unknown field "intervall"/ },
    { what: 'an unknown field in a child route', file: /alertmanagerconfig/, edit: (o) => { o.spec.route.routes[0].groupWiat = '1s'; }, error: /unknown field "groupWiat"/ },
    { what: 'an inline Slack webhook URL', file: /alertmanagerconfig/, edit: (o) => { o.spec.receivers[0].slackConfigs[0].apiURL = 'https://hooks.slack.invalid/T000'; }, error: /apiURL|SecretKeySelector|cannot unmarshal/ },
    { what: 'a route to a receiver that does not exist', file: /alertmanagerconfig/, edit: (o) => { o.spec.route.routes[0].receiver = 'nobody'; }, error: /"nobody" is not among spec.receivers/ },
    { what: 'a rule expression that does not parse', file: /prometheusrule-host/, edit: (o) => { o.spec.groups[0].rules[0].expr = 'rate(up[5m]'; }, error: /HostCpuHigh.*parse error/ },
    { what: 'a misspelt GrafanaDashboard field', file: /grafanadashboard-/, edit: (o) => { o.spec.instanceSelectr = o.spec.instanceSelector; delete o.spec.instanceSelector; }, error: /unknown field "instanceSelectr"/ },
    { what: 'a misspelt Job field', file: /loadgen-indexed-job/, edit: (o) => { o.spec.paralelism = 2; }, error: /unknown field "paralelism"/ },
    { what: 'a ConfigMap over 1 MiB', file: /grafana-sidecar\/configmap-/, edit: (o) => { o.data.padding = 'x'.repeat(CONFIGMAP_MAX_BYTES); }, error: /over a ConfigMap's 1048576/ },
    { what: 'a misspelt Probe field', file: /probe-/, edit: (o) => { o.spec.prober.uri = o.spec.prober.url; delete o.spec.prober.url; }, error: /unknown field "uri"/ },
  ];

  it.each(breakages.map((b) => [b.what, b] as const))('refuses %s', (_what, breakage) => {
    const file = files.find((f) => breakage.file.test(f.path));
    expect(file, String(breakage.file)).toBeDefined();
    const object = parse(file!.content) as Record<string, any>;
    breakage.edit(object);
    const dir = mkdtempSync(join(work, 'broken-'));
    writeFileSync(join(dir, 'object.yaml'), stringify(object, { lineWidth: 0 }));
    const run = validate(dir);
    expect(run.status, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/^FAIL /m);
    expect(run.stdout).toMatch(breakage.error);
  });
});

function findPromtool(): string | undefined {
  const candidate = process.env.PROMTOOL ?? 'promtool';
  return spawnSync(candidate, ['--version'], { encoding: 'utf8' }).status === 0 ? candidate : undefined;
}
const promtool = findPromtool();

describe.skipIf(!promtool)(`promtool${promtool ? '' : ' (skipped: no promtool on PATH)'}`, () => {
  it('accepts the groups of every PrometheusRule as a rule file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'perfstack-k8s-promtool-'));
    try {
      const paths = ofKind('PrometheusRule').map((rule) => {
        const path = join(dir, `${rule.metadata.name}.yml`);
        writeFileSync(path, stringify(rule.spec, { lineWidth: 0 }));
        return path;
      });
      expect(paths.length).toBeGreaterThan(0);
      const run = spawnSync(promtool!, ['check', 'rules', ...paths], { encoding: 'utf8' });
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout.match(/SUCCESS/g)).toHaveLength(paths.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

