import type { GeneratedFile, PerfstackConfig } from '../config/index.js';
import { GENERATED_HEADER, renderYaml } from '../config/index.js';

// perfstack's load engine scaled out as a Kubernetes Indexed Job. Kubernetes gives every pod of an
// Indexed Job its index in JOB_COMPLETION_INDEX (0..N-1); a small POSIX shell turns it into k6's
// --execution-segment i/N:(i+1)/N, with the whole sequence 0,1/N,…,1 on every pod, so the N pods
// run disjoint parts of one test that together make exactly the whole. Every pod carries the same
// testid, so their series add up in Prometheus under one testid (the engine tags each pod's series
// with its segment, so they never collide).
//
// kubectl is not available where perfstack is built and tested: the manifest is checked by
// structure (loadgen-deploy/kubernetes-job.test.ts) and strictly decoded into k8s.io/api's batch/v1
// Job with the other generated objects (kubernetes/kubernetes.test.ts), not by an API server.

export const KUBERNETES_JOB_PATH = 'provisioning/kubernetes/loadgen-indexed-job.yaml';
export const KUBERNETES_JOB_NAME = 'perfstack-loadgen';

/**
 * The scenario the pods run unless SCENARIO is changed. stress, not load: every pod judges its
 * thresholds on its own share, and a throughput threshold (load, soak, mixed…) cannot pass on 1/N
 * of the requests.
 */
export const DEFAULT_SCENARIO = 'stress';
/** The testid every pod shares unless TESTID is changed; give each run its own. */
export const DEFAULT_TESTID = 'kubernetes';

/** Services the pods reach by name in the Job's namespace, as inside docker compose. */
export const SERVICE_UNDER_TEST_URL = 'http://perfstack-app:8080';
export const PROMETHEUS_URL = 'http://prometheus:9090';

/** Each pod's summary, report and log; /tmp is an emptyDir, the rest of the filesystem is read-only. */
const OUT_DIR = '/tmp/perfstack-run';

/** The boundary k/N as k6 writes it: 0 and 1 at the ends, k/N in between. */
function boundary(k: number, n: number): string {
  return k === 0 ? '0' : k === n ? '1' : `${k}/${n}`;
}

/** k6's --execution-segment-sequence for N equal segments: 0,1/N,2/N,…,1. */
export function segmentSequence(n: number): string {
  return Array.from({ length: n + 1 }, (_, k) => boundary(k, n)).join(',');
}

/** The segment pod i of N runs, as the shell computes it (for tests and logs). */
export function segmentOf(index: number, n: number): string {
  return `${boundary(index, n)}:${boundary(index + 1, n)}`;
}

/**
 * The container's `sh -c` script (POSIX sh: the image's /bin/sh is dash): checks
 * JOB_COMPLETION_INDEX, derives the pod's segment from it and execs perfstack's engine (the
 * image's entry point is `node bin/perfstack.js`, which `command` replaces). Kubernetes expands
 * `$(NAME)` in a command only when NAME is one of the container's env variables and leaves any
 * other reference as written, so the shell's `$((…))` arithmetic reaches the shell untouched.
 */
export function segmentScript(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error(`instances must be a whole number from 1, got ${n}`);
  return [
    'set -eu',
    ': "${SCENARIO:?set SCENARIO to a scenario name or the path of a k6 script in the image}" "${TESTID:?set TESTID, the testid every pod shares}"',
    `n=${n}`,
    'i="${JOB_COMPLETION_INDEX:-}"',
    'case "$i" in',
    `  ''|*[!0-9]*|0?*) echo "perfstack loadgen: JOB_COMPLETION_INDEX must be 0..$((n - 1)) (Kubernetes sets it in an Indexed Job), got '$i'" >&2; exit 2 ;;`,
    'esac',
    'if [ "$i" -ge "$n" ]; then',
    `  echo "perfstack loadgen: JOB_COMPLETION_INDEX must be 0..$((n - 1)), got $i" >&2; exit 2`,
    'fi',
    'if [ "$i" -eq 0 ]; then from=0; else from="$i/$n"; fi',
    'if [ "$((i + 1))" -eq "$n" ]; then to=1; else to="$((i + 1))/$n"; fi',
    'echo "perfstack loadgen: pod $i of $n runs segment $from:$to of ${SCENARIO}, testid ${TESTID}"',
    [
      'exec node bin/perfstack.js run "${SCENARIO}"',
      '--execution-segment "$from:$to"',
      `--execution-segment-sequence ${segmentSequence(n)}`,
      `--base-url ${SERVICE_UNDER_TEST_URL}`,
      `--prometheus-url ${PROMETHEUS_URL}`,
      '--testid "${TESTID}"',
      `--out-dir ${OUT_DIR}`,
      '--no-store',
    ].join(' '),
    '',
  ].join('\n');
}

/** The Job as a plain object; key order is the output order. */
export function kubernetesIndexedJob(config: PerfstackConfig): Record<string, unknown> {
  const { instances, image, activeDeadlineSeconds } = config.loadgen;
  // kubernetes.labels last, in key order, as on every object under provisioning/kubernetes/.
  const extraLabels = Object.keys(config.kubernetes.labels)
    .sort()
    .map((key) => [key, config.kubernetes.labels[key]!] as const);
  const labels = {
    'app.kubernetes.io/name': KUBERNETES_JOB_NAME,
    'app.kubernetes.io/component': 'loadgen',
    'app.kubernetes.io/part-of': 'perfstack',
    ...Object.fromEntries(extraLabels),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: KUBERNETES_JOB_NAME, namespace: config.kubernetes.namespace, labels },
    spec: {
      completionMode: 'Indexed',
      completions: instances,
      parallelism: instances,
      // A load test is never retried: a second attempt would add load under the same testid.
      backoffLimit: 0,
      activeDeadlineSeconds,
      // The finished Job (and its pods' logs) stay a day, then Kubernetes removes them.
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // The image's `node` user (uid 1000); numeric so Kubernetes can check it is not root.
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'loadgen',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', segmentScript(instances)],
              env: [
                { name: 'SCENARIO', value: DEFAULT_SCENARIO },
                { name: 'TESTID', value: DEFAULT_TESTID },
              ],
              // requests = limits: a throttled load generator reports its own stalls as latency.
              resources: {
                requests: { cpu: '1', memory: '1Gi' },
                limits: { cpu: '1', memory: '1Gi' },
              },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '512Mi' } }],
        },
      },
    },
  };
}

function header(config: PerfstackConfig): string {
  const n = config.loadgen.instances;
  return [
    GENERATED_HEADER,
    `perfstack's load engine on ${n} pod${n === 1 ? '' : 's'} (loadgen.instances): pod i runs k6 execution segment i/${n}:(i+1)/${n} of one scenario,`,
    `i from JOB_COMPLETION_INDEX. PERFSTACK_VUS and arrival rates are totals: each pod runs its share.`,
    `Needs, in the Job's namespace: Service perfstack-app (port 8080, the service under test) and Service`,
    `prometheus (port 9090, started with --web.enable-remote-write-receiver). Every pod pushes there under one testid.`,
    `Image: build this repository's Dockerfile (docker compose build tags it perfstack:local), make it pullable by the`,
    `cluster (push it and set loadgen.image, or kind load docker-image perfstack:local). It has no Chromium: the browser`,
    `scenario needs the native stack.`,
    `Run: kubectl apply -f ${KUBERNETES_JOB_PATH}; kubectl logs -n ${config.kubernetes.namespace} -l job-name=${KUBERNETES_JOB_NAME} --prefix`,
    `(namespace ${config.kubernetes.namespace}: kubernetes.namespace in the config; docs/kubernetes.md)`,
    `SCENARIO (default ${DEFAULT_SCENARIO}) and TESTID (default ${DEFAULT_TESTID}) are the pods' env; give every run its own TESTID`,
    `and delete the finished Job (kubectl delete job -n ${config.kubernetes.namespace} ${KUBERNETES_JOB_NAME}) before the next.`,
  ].join('\n# ');
}

export function generateKubernetesJob(config: PerfstackConfig): GeneratedFile[] {
  return [{ path: KUBERNETES_JOB_PATH, content: renderYaml(kubernetesIndexedJob(config), header(config)) }];
}
