// Number formatting for evidence and recommendations.

export function fmtSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const abs = Math.abs(seconds);
  if (abs === 0) return '0 s';
  if (abs < 0.001) return `${round(seconds * 1e6, 3)} µs`;
  if (abs < 1) return `${round(seconds * 1000, 3)} ms`;
  return `${round(seconds, 3)} s`;
}

export function fmtPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return String(ratio);
  const percent = ratio * 100;
  return `${Math.abs(percent) >= 10 ? round(percent, 3) : round(percent, 2)} %`;
}

export function fmtNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString('en-US');
  return String(round(value, 3));
}

export function fmtRate(perSecond: number, unit = '/s'): string {
  return `${fmtNumber(round(perSecond, 3))}${unit}`;
}

export function fmtBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : round(value, 3)} ${units[unit]}`;
}

/** `seconds` as Prometheus writes a duration: 900 → 15m, 5400 → 1h30m, 61 → 1m1s. */
export function fmtDuration(seconds: number): string {
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/** Three significant digits at most, no trailing zeros. */
export function round(value: number, digits = 3): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/** Labels as PromQL writes them, for naming a series in evidence. */
export function fmtLabels(labels: Record<string, string>, keys?: string[]): string {
  const entries = Object.entries(labels)
    .filter(([key]) => key !== '__name__' && (!keys || keys.includes(key)))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}
