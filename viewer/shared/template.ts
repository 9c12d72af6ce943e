// Grafana's template machinery for Prometheus, as the viewer needs it: relative time ranges,
// $__interval / $__rate_interval / $__range, variable interpolation with Prometheus escaping and
// format specifiers, and the variable query functions (label_values, query_result, metrics).

// ---- time --------------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** A Prometheus/Grafana duration ("15s", "1m30s", "2h") in milliseconds; undefined when it is none. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let total = 0;
  let rest = trimmed;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

function roundDown(date: Date, unit: string): Date {
  const d = new Date(date);
  switch (unit) {
    case 'y':
      d.setMonth(0, 1);
      d.setHours(0, 0, 0, 0);
      break;
    case 'M':
      d.setDate(1);
      d.setHours(0, 0, 0, 0);
      break;
    case 'w':
      d.setDate(d.getDate() - d.getDay());
      d.setHours(0, 0, 0, 0);
      break;
    case 'd':
      d.setHours(0, 0, 0, 0);
      break;
    case 'h':
      d.setMinutes(0, 0, 0);
      break;
    case 'm':
      d.setSeconds(0, 0);
      break;
    case 's':
      d.setMilliseconds(0);
      break;
  }
  return d;
}

/**
 * A Grafana time expression in epoch milliseconds: `now`, `now-1h`, `now-7d/d`, epoch ms, or an
 * ISO date. Undefined when it cannot be read.
 */
export function parseTime(text: string, now = Date.now()): number | undefined {
  const value = text.trim();
  if (/^\d{10,}$/.test(value)) return Number(value);
  if (value.startsWith('now')) {
    let time = new Date(now);
    let rest = value.slice(3);
    const step = /^([+-])(\d+)(ms|s|m|h|d|w|M|y)|^\/(s|m|h|d|w|M|y)/;
    while (rest.length > 0) {
      const match = step.exec(rest);
      if (!match) return undefined;
      if (match[4]) time = roundDown(time, match[4]);
      else {
        const amount = Number(match[2]) * (match[1] === '-' ? -1 : 1);
        const unit = match[3]!;
        if (unit === 'M') time.setMonth(time.getMonth() + amount);
        else if (unit === 'y') time.setFullYear(time.getFullYear() + amount);
        else time = new Date(time.getTime() + amount * UNIT_MS[unit]!);
      }
      rest = rest.slice(match[0].length);
    }
    return time.getTime();
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

export interface TimeRange {
  /** Epoch milliseconds. */
  from: number;
  to: number;
  /** As given (e.g. now-1h), for links that keep the time. */
  raw: { from: string; to: string };
}

export function resolveRange(from: string, to: string, now = Date.now()): TimeRange | undefined {
  const f = parseTime(from, now);
  const t = parseTime(to, now);
  if (f === undefined || t === undefined || f >= t) return undefined;
  return { from: f, to: t, raw: { from, to } };
}

// ---- intervals ---------------------------------------------------------------------------------

/** Grafana's rounding of a raw interval (ms) to a readable one. */
export function roundInterval(ms: number): number {
  const table: [number, number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12_500, 10_000],
    [17_500, 15_000],
    [25_000, 20_000],
    [45_000, 30_000],
    [90_000, 60_000],
    [210_000, 120_000],
    [450_000, 300_000],
    [750_000, 600_000],
    [1_050_000, 900_000],
    [1_500_000, 1_200_000],
    [2_700_000, 1_800_000],
    [5_400_000, 3_600_000],
    [9_000_000, 7_200_000],
    [16_200_000, 10_800_000],
    [24_300_000, 21_600_000],
    [64_800_000, 43_200_000],
    [129_600_000, 86_400_000],
    [604_800_000, 86_400_000],
    [1_814_400_000, 604_800_000],
    [3_628_800_000, 2_592_000_000],
  ];
  for (const [limit, value] of table) if (ms < limit) return value;
  return 31_536_000_000;
}

/** A duration in PromQL form: whole seconds as "Ns", else milliseconds. */
export function formatDuration(ms: number): string {
  if (ms % 1000 === 0) {
    const s = ms / 1000;
    for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) if (s % size === 0 && s >= size) return `${s / size}${unit}`;
    return `${s}s`;
  }
  return `${Math.round(ms)}ms`;
}

export interface QueryTiming {
  /** $__interval in ms (also the range query's step). */
  intervalMs: number;
  /** $__rate_interval in ms. */
  rateIntervalMs: number;
  /** Aligned start and end of a range query, in seconds. */
  start: number;
  end: number;
  /** Step of the range query, in seconds. */
  step: number;
  /** $__range in seconds. */
  rangeSeconds: number;
}

/**
 * What Grafana's Prometheus datasource computes for one panel: the interval from the range and the
 * panel's width (max data points), limited below by the panel's min interval or the datasource's
 * scrape interval; the rate interval max(interval + scrape, 4 × scrape); start and end aligned to
 * the step (both rounded down); never more than 11 000 points.
 */
export function queryTiming(range: { from: number; to: number }, maxDataPoints: number, scrapeIntervalMs: number, minIntervalMs?: number): QueryTiming {
  const span = range.to - range.from;
  const raw = roundInterval(span / Math.max(1, maxDataPoints));
  const lowLimit = minIntervalMs ?? scrapeIntervalMs;
  let intervalMs = Math.max(raw, lowLimit);
  const safe = Math.ceil(span / 11_000);
  intervalMs = Math.max(intervalMs, safe);
  const step = intervalMs / 1000;
  const rateIntervalMs = Math.max(intervalMs + scrapeIntervalMs, 4 * scrapeIntervalMs);
  const start = Math.floor(range.from / 1000 / step) * step;
  const end = Math.floor(range.to / 1000 / step) * step;
  return { intervalMs, rateIntervalMs, start, end: Math.max(end, start + step), step, rangeSeconds: Math.round(span / 1000) };
}

/** The built-in variables for a panel query. */
export function builtInVariables(range: { from: number; to: number }, timing: QueryTiming, dashboard?: { uid: string; title: string }): Record<string, string> {
  return {
    __interval: formatDuration(timing.intervalMs),
    __interval_ms: String(timing.intervalMs),
    __rate_interval: formatDuration(timing.rateIntervalMs),
    __rate_interval_ms: String(timing.rateIntervalMs),
    __range: `${timing.rangeSeconds}s`,
    __range_s: String(timing.rangeSeconds),
    __range_ms: String(timing.rangeSeconds * 1000),
    __from: String(range.from),
    __to: String(range.to),
    ...(dashboard ? { __dashboard: dashboard.title } : {}),
  };
}

// ---- variables ---------------------------------------------------------------------------------

/** The value of a template variable as the viewer holds it. */
export interface VariableValue {
  /** Selected values (one unless multi); for All, the option values. */
  values: string[];
  /** Display text of the selection. */
  texts?: string[];
  isAll: boolean;
  /** Used verbatim for All when set (e.g. ".*"). */
  allValue?: string | null;
  multi: boolean;
  includeAll: boolean;
}

/** Grafana's escaping of a single value that is not a regex (only backslashes and single quotes). */
export function prometheusRegularEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

/** Grafana's escaping of a value inside a PromQL regex string: regex metacharacters, double-escaped for the string literal. */
export function prometheusSpecialRegexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** Formats one variable for a PromQL expression, as Grafana's Prometheus datasource does; `format` is ${var:format}. */
export function formatVariable(variable: VariableValue, format?: string): string {
  if (variable.isAll && variable.allValue !== undefined && variable.allValue !== null && variable.allValue !== '' && format !== 'text') return variable.allValue;
  const values = variable.values;
  switch (format) {
    case undefined:
    case '':
      if (!variable.multi && !variable.includeAll) return prometheusRegularEscape(values[0] ?? '');
      if (values.length === 1 && !variable.isAll) return prometheusSpecialRegexEscape(values[0]!);
      return `(${values.map(prometheusSpecialRegexEscape).join('|')})`;
    case 'raw':
      return values.join(',');
    case 'regex':
      return values.length === 1 ? escapeRegex(values[0]!) : `(${values.map(escapeRegex).join('|')})`;
    case 'pipe':
      return values.join('|');
    case 'csv':
      return values.join(',');
    case 'json':
      return JSON.stringify(values.length === 1 ? values[0] : values);
    case 'glob':
      return values.length === 1 ? values[0]! : `{${values.join(',')}}`;
    case 'doublequote':
      return values.map((v) => `"${v}"`).join(',');
    case 'singlequote':
      return values.map((v) => `'${v}'`).join(',');
    case 'queryparam':
      return values.map((v) => `var-${encodeURIComponent(v)}`).join('&');
    case 'text':
      return (variable.isAll ? ['All'] : (variable.texts ?? values)).join(' + ');
    default:
      throw new Error(`unsupported variable format :${format}`);
  }
}

const VARIABLE_REFERENCE = /\$\{(\w+)(?::([\w-]+))?\}|\$(\w+)|\[\[(\w+)(?::([\w-]+))?\]\]/g;

/** The variable names an expression refers to. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(VARIABLE_REFERENCE)) names.add(match[1] ?? match[3] ?? match[4]!);
  return [...names];
}

/**
 * Replaces $name, ${name}, ${name:format} and [[name]] with the variables' values (built-ins are
 * plain strings). Unknown names are left as they are, for the caller to report.
 */
export function interpolate(text: string, variables: Record<string, VariableValue | string>): string {
  return text.replace(VARIABLE_REFERENCE, (whole, a?: string, formatA?: string, b?: string, c?: string, formatC?: string) => {
    const name = a ?? b ?? c ?? '';
    const variable = variables[name];
    if (variable === undefined) return whole;
    if (typeof variable === 'string') return variable;
    return formatVariable(variable, formatA ?? formatC);
  });
}

/** Names still unresolved after interpolation ($name left in the text). */
export function unresolvedVariables(text: string): string[] {
  return referencedVariables(text);
}

export type VariableQuery =
  | { kind: 'label_values'; label: string; match?: string }
  | { kind: 'query_result'; expr: string }
  | { kind: 'metrics'; regex: string }
  | { kind: 'label_names'; match?: string };

/** Reads a Prometheus variable query (a string, or {query} in newer Grafana); undefined when it is none of the known functions. */
export function parseVariableQuery(query: unknown): VariableQuery | undefined {
  const text = (typeof query === 'string' ? query : typeof query === 'object' && query !== null && typeof (query as { query?: unknown }).query === 'string' ? (query as { query: string }).query : '').trim();
  let match = /^label_values\(\s*([\s\S]*?)\s*,\s*([a-zA-Z_]\w*)\s*\)$/.exec(text);
  if (match) return { kind: 'label_values', match: match[1]!, label: match[2]! };
  match = /^label_values\(\s*([a-zA-Z_]\w*)\s*\)$/.exec(text);
  if (match) return { kind: 'label_values', label: match[1]! };
  match = /^query_result\(([\s\S]*)\)$/.exec(text);
  if (match) return { kind: 'query_result', expr: match[1]!.trim() };
  match = /^metrics\(([\s\S]*)\)$/.exec(text);
  if (match) return { kind: 'metrics', regex: match[1]!.trim() };
  match = /^label_names\(([\s\S]*)\)$/.exec(text);
  if (match) return { kind: 'label_names', ...(match[1]!.trim() ? { match: match[1]!.trim() } : {}) };
  return undefined;
}

/** Applies a variable's regex (Grafana's /.../flags form; a capture group picks the value) and sort. */
export function shapeOptions(values: string[], regex?: string, sort?: number): string[] {
  let out = [...new Set(values)];
  if (regex) {
    const literal = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
    const re = literal ? new RegExp(literal[1]!, literal[2]!.replace('g', '')) : new RegExp(regex);
    out = out.flatMap((value) => {
      const match = re.exec(value);
      if (!match) return [];
      return [match.groups?.value ?? match[1] ?? value];
    });
    out = [...new Set(out)];
  }
  switch (sort ?? 0) {
    case 1:
      out.sort((a, b) => a.localeCompare(b));
      break;
    case 2:
      out.sort((a, b) => b.localeCompare(a));
      break;
    case 3:
      out.sort((a, b) => Number(a) - Number(b));
      break;
    case 4:
      out.sort((a, b) => Number(b) - Number(a));
      break;
    case 5:
      out.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
      break;
    case 6:
      out.sort((a, b) => b.toLowerCase().localeCompare(a.toLowerCase()));
      break;
  }
  return out;
}

/** Grafana's legend template: {{label}} replaced by the series' label value. */
export function legendName(format: string | undefined, metric: Record<string, string>): string {
  if (format && format !== '__auto') return format.replace(/\{\{\s*(.+?)\s*\}\}/g, (_whole, label: string) => metric[label] ?? '');
  const { __name__: name, ...labels } = metric;
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  if (!name) return inner ? `{${inner}}` : 'Value';
  return inner ? `${name}{${inner}}` : name;
}
