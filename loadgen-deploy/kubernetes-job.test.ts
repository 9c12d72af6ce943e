import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import defaults from '../perfstack.config.js';
import { parseConfig, type PerfstackConfig } from '../config/index.js';
import { parseExecutionSegment } from '../loadgen/index.js';
import { DEFAULT_TESTID, KUBERNETES_JOB_PATH, PROMETHEUS_URL, SERVICE_UNDER_TEST_URL, generateKubernetesJob, segmentSequence } from './index.js';

// kubectl is not installed where perfstack is tested, so the manifest is validated by structure
// only: these tests parse the YAML and check the fields a batch/v1 Indexed Job needs, and run the
// pod's shell script with sh for every index. No API server or OpenAPI schema checks it.

const projectRoot = resolve(import.meta.dirname, '..');

interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command: string[];
  args?: string[];
  env: { name: string; value: string }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}

interface Job {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    backoffLimit: number;
    activeDeadlineSeconds: number;
    template: { spec: { restartPolicy: string; containers: Container[]; initContainers?: Container[] } };
  };
}

function configWith(instances?: number): PerfstackConfig {
  const input = structuredClone(defaults);
  if (instances !== undefined) input.loadgen = { instances };
  return parseConfig(input);
}

function jobOf(config: PerfstackConfig): { job: Job; content: string } {
  const files = generateKubernetesJob(config);
  expect(files.map((f) => f.path)).toEqual([KUBERNETES_JOB_PATH]);
  const content = files[0]!.content;
  return { job: parse(content) as Job, content };
}

// A stand-in for `node` on PATH: records the arguments the script execs it with.
const stubDir = mkdtempSync(join(tmpdir(), 'perfstack-k8s-job-'));
writeFileSync(join(stubDir, 'node'), '#!/bin/sh\nprintf \'%s\\n\' "$@" > "$STUB_ARGS"\n');
chmodSync(join(stubDir, 'node'), 0o755);
afterAll(() => rmSync(stubDir, { recursive: true, force: true }));

/** Runs the container's command with sh as a pod with this JOB_COMPLETION_INDEX would. */
function runPod(container: Container, index: string, env: Record<string, string> = {}) {
  const argsFile = join(stubDir, `args-${index || 'empty'}-${Math.random().toString(16).slice(2)}`);
  const podEnv = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  const [shell, ...shellArgs] = container.command;
  const result = spawnSync(shell!, [...shellArgs, ...(container.args ?? [])], {
    env: { PATH: `${stubDir}:${process.env.PATH}`, STUB_ARGS: argsFile, ...podEnv, JOB_COMPLETION_INDEX: index, ...env },
    encoding: 'utf8',
  });
  const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').split('\n').slice(0, -1) : undefined;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, args };
}

function flag(args: string[], name: string): string {
  const at = args.indexOf(name);
  expect(at, name).toBeGreaterThanOrEqual(0);
  return args[at + 1]!;
}

/** A k6 fraction ("0", "1", "p/q") as [p, q]. */
function fraction(text: string): [number, number] {
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text);
  expect(match, `"${text}" is a fraction`).not.toBeNull();
  return [Number(match![1]), Number(match![2] ?? 1)];
}

const equal = (a: [number, number], b: [number, number]) => a[0] * b[1] === b[0] * a[1];

describe('Kubernetes Indexed Job for perfstack’s engine', () => {
  const config = configWith();
  const { job, content } = jobOf(config);
  const container = job.spec.template.spec.containers[0]!;

  it('is a batch/v1 Job in Indexed completion mode with one pod per instance, all at once', () => {
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.kind).toBe('Job');
    expect(job.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(job.spec.completionMode).toBe('Indexed');
    expect(config.loadgen.instances).toBe(4);
    expect(job.spec.completions).toBe(config.loadgen.instances);
    expect(job.spec.parallelism).toBe(config.loadgen.instances);
  });

  it('lives in the configured namespace and carries the configured labels on the Job and its pods', () => {
    expect(job.metadata.namespace).toBe(config.kubernetes.namespace);
    const input = structuredClone(defaults);
    input.kubernetes = { ...input.kubernetes, namespace: 'load-tests', labels: { release: 'kube-prometheus-stack' } };
    const custom = jobOf(parseConfig(input)).job as Job & { spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(custom.metadata.namespace).toBe('load-tests');
    expect(custom.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(custom.spec.template.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(custom.metadata.labels['app.kubernetes.io/name']).toBe(job.metadata.name);
  });

  it('is bounded: no retries, a deadline, resource requests and limits, pods that never restart', () => {
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(config.loadgen.activeDeadlineSeconds);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers).toHaveLength(1);
    for (const kind of ['requests', 'limits'] as const) {
      expect(Object.keys(container.resources[kind]).sort(), kind).toEqual(['cpu', 'memory']);
    }
  });

  it('runs the repository image (the one docker-compose.yml builds), and no k6 image', () => {
    expect(container.image).toBe(config.loadgen.image);
    const compose = parse(readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string }> };
    expect(compose.services['perfstack-app']?.image).toBe(container.image);
    const images = [...job.spec.template.spec.containers, ...(job.spec.template.spec.initContainers ?? [])].map((c) => c.image);
    for (const image of images) expect(image).not.toMatch(/k6/i);
    expect(content).not.toMatch(/grafana\/k6/);
    // The image's entry point (node bin/perfstack.js) is replaced by a shell that execs it.
    expect(container.command.slice(0, 2)).toEqual(['sh', '-c']);
  });

  it.each([1, 3, 4, 7])('gives %i pods segments that tile [0, 1) exactly, with one shared testid', (n) => {
    const { job: sized } = jobOf(configWith(n));
    expect(sized.spec.completions).toBe(n);
    expect(sized.spec.parallelism).toBe(n);
    const pod = sized.spec.template.spec.containers[0]!;
    let covered: [number, number] = [0, 1];
    let share = 0;
    const testids = new Set<string>();
    for (let i = 0; i < n; i++) {
      const { status, stderr, args } = runPod(pod, String(i));
      expect(stderr, `pod ${i}`).toBe('');
      expect(status, `pod ${i}`).toBe(0);
      expect(args?.slice(0, 3), `pod ${i}`).toEqual(['bin/perfstack.js', 'run', 'stress']);
      const [from, to] = flag(args!, '--execution-segment').split(':').map(fraction) as [[number, number], [number, number]];
      // Segment i is exactly i/N:(i+1)/N, and starts where the one before ended.
      expect(equal(from, [i, n]), `pod ${i} starts at ${i}/${n}`).toBe(true);
      expect(equal(to, [i + 1, n]), `pod ${i} ends at ${i + 1}/${n}`).toBe(true);
      expect(equal(from, covered), `pod ${i} continues the previous segment`).toBe(true);
      covered = to;
      const sequence = flag(args!, '--execution-segment-sequence');
      expect(sequence).toBe(segmentSequence(n));
      expect(sequence.split(',').map(fraction).every((f, k) => equal(f, [k, n]))).toBe(true);
      // perfstack's engine accepts the pair, and gives this pod its share.
      share += parseExecutionSegment(flag(args!, '--execution-segment'), sequence).share;
      expect(flag(args!, '--base-url')).toBe(SERVICE_UNDER_TEST_URL);
      expect(flag(args!, '--prometheus-url')).toBe(PROMETHEUS_URL);
      expect(args).not.toContain('--no-remote-write');
      expect(args).toContain('--no-store');
      testids.add(flag(args!, '--testid'));
    }
    expect(equal(covered, [1, 1]), 'the last segment ends at 1').toBe(true);
    expect(share).toBeCloseTo(1, 12);
    expect([...testids]).toEqual([DEFAULT_TESTID]);
  });

  it('takes the scenario and the shared testid from the pod’s SCENARIO and TESTID', () => {
    const { status, args } = runPod(container, '2', { SCENARIO: 'load', TESTID: 'k8s-run-7' });
    expect(status).toBe(0);
    expect(args?.[2]).toBe('load');
    expect(flag(args!, '--testid')).toBe('k8s-run-7');
    expect(flag(args!, '--execution-segment')).toBe('2/4:3/4');
  });

  it.each(['', '4', '-1', 'x', '01', '1 '])('refuses JOB_COMPLETION_INDEX "%s" without starting the engine', (index) => {
    const { status, stderr, args } = runPod(container, index);
    expect(status).toBe(2);
    expect(stderr).toContain('JOB_COMPLETION_INDEX must be 0..3');
    expect(args).toBeUndefined();
  });

  it('refuses to start without a TESTID rather than give each pod its own', () => {
    const { status, stderr, args } = runPod(container, '0', { TESTID: '' });
    expect(status).not.toBe(0);
    expect(stderr).toContain('TESTID');
    expect(args).toBeUndefined();
  });

  it('leaves the shell’s $((…)) alone: no $(NAME) that Kubernetes would expand from the env', () => {
    const script = container.command[2]!;
    for (const { name } of container.env) expect(script, name).not.toContain(`$(${name})`);
    expect(script).not.toContain('$$');
  });

  it('takes N from loadgen.instances, whose bad values the config check names', () => {
    for (const instances of [0, 2.5, 101]) {
      const input = structuredClone(defaults);
      input.loadgen = { instances };
      expect(() => parseConfig(input, 'test.config.ts'), String(instances)).toThrow(/loadgen\.instances/);
    }
  });

  it('is byte-identical when generated twice', () => {
    expect(generateKubernetesJob(configWith())).toEqual(generateKubernetesJob(configWith()));
    expect(jobOf(configWith()).content).toBe(content);
  });
});
