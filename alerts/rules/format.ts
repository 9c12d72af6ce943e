// Text helpers shared by every rule builder: PromQL literals, durations, and the Go-template
// functions Prometheus applies to annotations (so tests can predict the exact annotation text).

export type Labels = Record<string, string>;

/** A number as PromQL and promtool series notation accept it: no exponent, no float noise. */
export function promNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  const rounded = Number(value.toPrecision(12));
  const text = String(rounded);
  if (!text.includes('e')) return text;
  return rounded.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** Whole minutes as a Prometheus duration: 90 -> "1h30m". */
export function promDuration(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 0) throw new Error(`duration must be whole minutes, got ${minutes}`);
  if (minutes === 0) return '0s';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return `${days ? `${days}d` : ''}${hours ? `${hours}h` : ''}${rest ? `${rest}m` : ''}`;
}

/** A PromQL double-quoted string literal. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Escapes RE2 metacharacters so a literal (a route template) matches only itself. */
export function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `{a="x",b=~"y"}` from matcher strings; empty list gives an empty string. */
export function selector(matchers: readonly string[]): string {
  return matchers.length === 0 ? '' : `{${matchers.join(',')}}`;
}

/** `name="value"` with the value quoted for PromQL. */
export function equals(name: string, value: string): string {
  return `${name}=${promString(value)}`;
}

/** Go's fmt "%.4g", which every Prometheus humanize function ends with. */
function goFloat4(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return '0';
  const [mantissa = '', exponentText = '0'] = value.toExponential(3).split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 4) {
    const trimmed = mantissa.replace(/\.?0+$/, '');
    return `${trimmed}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(Number(value.toPrecision(4)));
}

function scaled(value: number, prefixes: readonly string[], base: number, limit: (v: number) => boolean): string {
  let prefix = '';
  let v = value;
  for (const p of prefixes) {
    if (limit(v)) break;
    prefix = p;
    v = base > 1 ? v / base : v * 1000;
  }
  return `${goFloat4(v)}${prefix}`;
}

/** Prometheus's template functions, same output as Prometheus 2.x. */
export const humanizers = {
  humanize(value: number): string {
    if (value === 0 || !Number.isFinite(value)) return goFloat4(value);
    if (Math.abs(value) >= 1) return scaled(value, ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'], 1000, (v) => Math.abs(v) < 1000);
    return scaled(value, ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'], 0, (v) => Math.abs(v) >= 1);
  },
  humanize1024(value: number): string {
    if (Math.abs(value) <= 1 || !Number.isFinite(value)) return goFloat4(value);
    return scaled(value, ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'], 1024, (v) => Math.abs(v) < 1024);
  },
  humanizePercentage(value: number): string {
    return `${goFloat4(value * 100)}%`;
  },
  humanizeDuration(value: number): string {
    if (!Number.isFinite(value)) return goFloat4(value);
    if (value === 0) return '0s';
    if (Math.abs(value) >= 1) {
      const sign = value < 0 ? '-' : '';
      const v = Math.abs(value);
      const whole = Math.trunc(v);
      const [days, hours, minutes, seconds] = [Math.floor(whole / 86400), Math.floor(whole / 3600) % 24, Math.floor(whole / 60) % 60, whole % 60];
      if (days) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
      if (hours) return `${sign}${hours}h ${minutes}m ${seconds}s`;
      if (minutes) return `${sign}${minutes}m ${seconds}s`;
      return `${sign}${goFloat4(v)}s`;
    }
    return `${scaled(value, ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'], 0, (v) => Math.abs(v) >= 1)}s`;
  },
} as const;

export type Humanizer = keyof typeof humanizers;

/**
 * Expands the small template subset alert annotations use — `{{ $labels.x }}` and
 * `{{ $value | humanizer }}` — the way Prometheus would, so promtool tests can expect exact text.
 */
export function expandTemplate(text: string, labels: Labels, value: number | undefined): string {
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_match, body: string) => {
    const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(body);
    if (label) {
      const name = label[1] ?? '';
      const found = labels[name];
      if (found === undefined) throw new Error(`template uses $labels.${name}, which the alert expression does not produce`);
      return found;
    }
    const piped = /^\$value\s*\|\s*(\w+)$/.exec(body);
    if (piped) {
      const name = piped[1] ?? '';
      if (!(name in humanizers)) throw new Error(`unsupported template function ${name}`);
      if (value === undefined) throw new Error(`template uses $value but the firing fixture gives no expected value`);
      return humanizers[name as Humanizer](value);
    }
    throw new Error(`unsupported template action {{ ${body} }}; use $labels.<name> or $value | <humanizer>`);
  });
}
