import { GENERATED_HEADER, renderYaml, type GeneratedFile, type PerfstackConfig } from '../config/index.js';

/** Every Kubernetes object perfstack generates lives under this folder (the loadgen Job too). */
export const KUBERNETES_DIR = 'provisioning/kubernetes';

/**
 * The API server's limit on a ConfigMap's data (keys plus values, in bytes), the same 1 MiB it
 * applies to Secrets.
 */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/** Labels on every object: perfstack's own, then the config's extra labels in key order. */
export function objectLabels(config: PerfstackConfig, component: string, extra: Record<string, string> = {}): Record<string, string> {
  const configured = Object.keys(config.kubernetes.labels)
    .sort()
    .map((key) => [key, config.kubernetes.labels[key]!] as const);
  return {
    'app.kubernetes.io/part-of': 'perfstack',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'perfstack-generate',
    ...extra,
    ...Object.fromEntries(configured),
  };
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export function objectMeta(config: PerfstackConfig, name: string, component: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): ObjectMeta {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    throw new Error(`"${name}" is not a valid Kubernetes object name (lower-case letters, digits and dashes, at most 63)`);
  }
  const meta: ObjectMeta = { name, namespace: config.kubernetes.namespace, labels: objectLabels(config, component, extra.labels) };
  if (extra.annotations) meta.annotations = extra.annotations;
  return meta;
}

/** One object per file; key order is the object's insertion order, so output is byte-stable. */
export function objectFile(path: string, object: Record<string, unknown>, comment?: string): GeneratedFile {
  return { path: `${KUBERNETES_DIR}/${path}`, content: renderYaml(object, comment ? `${GENERATED_HEADER}\n# ${comment}` : GENERATED_HEADER) };
}

/** The bytes the API server counts against a ConfigMap's 1 MiB: every key and value, UTF-8. */
export function configMapDataBytes(data: Record<string, string>): number {
  return Object.entries(data).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
}

/** A ConfigMap, refused here (not by the cluster at apply time) when its data passes 1 MiB. */
export function configMap(meta: ObjectMeta, data: Record<string, string>, what: string): Record<string, unknown> {
  const bytes = configMapDataBytes(data);
  if (bytes > CONFIGMAP_MAX_BYTES) {
    throw new Error(
      `${what} is ${bytes} bytes, over the ${CONFIGMAP_MAX_BYTES}-byte (1 MiB) limit of a Kubernetes ConfigMap (${meta.name}): make it smaller or split it`,
    );
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data };
}
