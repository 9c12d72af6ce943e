// Prometheus text exposition (format 0.0.4), built by hand so that every scrape is one string
// assembled from the families the collectors return. Label values and help text are escaped as
// the format requires; a family with no samples is left out.

export type MetricType = 'counter' | 'gauge' | 'untyped';

export interface Sample {
  /** Label name → value, rendered in insertion order. Empty values are dropped (Prometheus treats them as absent). */
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** The content type Prometheus expects for the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function family(name: string, type: MetricType, help: string, samples: Sample[] = []): MetricFamily {
  return { name, type, help, samples };
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

const NEEDS_ESCAPE = /[\\"\n]/;
const checkedLabelNames = new Set<string>();
/** Label objects shared by several samples (the statement counters) are formatted once. */
const formatted = new WeakMap<Readonly<Record<string, string>>, string>();

function formatLabels(labels: Readonly<Record<string, string>>, metric: string): string {
  const cached = formatted.get(labels);
  if (cached !== undefined) return cached;
  const pairs: string[] = [];
  for (const key in labels) {
    const value = labels[key];
    if (!checkedLabelNames.has(key)) {
      if (!LABEL.test(key)) throw new Error(`invalid label name "${key}" on ${metric}`);
      checkedLabelNames.add(key);
    }
    if (value === undefined || value === '') continue;
    pairs.push(`${key}="${NEEDS_ESCAPE.test(value) ? escapeLabelValue(value) : value}"`);
  }
  const text = pairs.length > 0 ? `{${pairs.join(',')}}` : '';
  formatted.set(labels, text);
  return text;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Renders families in the order given. Families sharing a name are merged (the first one's help
 * and type win), so two collectors can never emit the same name twice, which the format forbids.
 * Names in `untyped` are declared untyped whatever their family says.
 */
export function renderExposition(families: readonly MetricFamily[], options: { untyped?: ReadonlySet<string> } = {}): string {
  const merged = new Map<string, MetricFamily[]>();
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name "${f.name}"`);
    const same = merged.get(f.name);
    if (same) same.push(f);
    else merged.set(f.name, [f]);
  }
  // One growing string: V8 appends to it without copying, cheaper than an array of lines joined.
  let out = '';
  for (const [name, parts] of merged) {
    const first = parts[0]!;
    if (!parts.some((f) => f.samples.length > 0)) continue;
    const type = options.untyped?.has(name) ? 'untyped' : first.type;
    out += `# HELP ${name} ${escapeHelp(first.help)}\n# TYPE ${name} ${type}\n`;
    for (const f of parts) {
      for (const sample of f.samples) {
        out += `${name}${sample.labels ? formatLabels(sample.labels, name) : ''} ${formatValue(sample.value)}\n`;
      }
    }
  }
  return out;
}
