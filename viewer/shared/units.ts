// Grafana's value formatting for the units perfstack's dashboards use (and the common others):
// a unit id in, a display string out. Unknown units are reported by support.ts and shown as `short`.

type Formatter = (value: number, decimals: number | undefined) => string;

function fixed(value: number, decimals: number | undefined): string {
  if (!Number.isFinite(value)) return String(value);
  if (decimals !== undefined) return value.toFixed(Math.max(0, Math.min(20, decimals)));
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  // About three significant digits, never more than 4 decimals for small values.
  const auto = Math.max(0, Math.min(magnitude >= 2 ? 0 : 2 - magnitude, 6));
  const text = value.toFixed(auto);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Scales by `factor` steps through `suffixes` (index 0 = no scaling). */
function scaled(suffixes: string[], factor: number): Formatter {
  return (value, decimals) => {
    if (!Number.isFinite(value)) return String(value);
    let index = 0;
    let v = value;
    while (Math.abs(v) >= factor && index < suffixes.length - 1) {
      v /= factor;
      index++;
    }
    return `${fixed(v, decimals)}${suffixes[index]}`;
  };
}

const short = scaled(['', ' K', ' Mil', ' Bil', ' Tri', ' Quadr', ' Quint', ' Sext', ' Sept'], 1000);
const suffixed = (suffix: string): Formatter => (value, decimals) => `${short(value, decimals)}${suffix}`;
const plain = (suffix: string): Formatter => (value, decimals) => `${fixed(value, decimals)}${suffix}`;

/** Seconds, shown in the unit that reads best (ns … years), as Grafana's `s` does. */
function duration(value: number, decimals: number | undefined, baseSeconds: number): string {
  if (!Number.isFinite(value)) return String(value);
  const seconds = value * baseSeconds;
  const abs = Math.abs(seconds);
  if (abs === 0) return '0 s';
  const steps: [number, string][] = [
    [1e-9, 'ns'],
    [1e-6, 'µs'],
    [1e-3, 'ms'],
    [1, 's'],
    [60, 'min'],
    [3600, 'hour'],
    [86_400, 'day'],
    [604_800, 'week'],
    [31_536_000, 'year'],
  ];
  let chosen = steps[0]!;
  for (const step of steps) if (abs >= step[0]) chosen = step;
  // Grafana keeps seconds up to a minute, minutes up to an hour, and so on.
  return `${fixed(seconds / chosen[0], decimals)} ${chosen[1]}`;
}

const FORMATTERS: Record<string, Formatter> = {
  none: (v, d) => fixed(v, d),
  short,
  percent: plain('%'),
  percentunit: (v, d) => `${fixed(v * 100, d)}%`,
  s: (v, d) => duration(v, d, 1),
  ms: (v, d) => duration(v, d, 1e-3),
  µs: (v, d) => duration(v, d, 1e-6),
  us: (v, d) => duration(v, d, 1e-6),
  ns: (v, d) => duration(v, d, 1e-9),
  m: (v, d) => duration(v, d, 60),
  h: (v, d) => duration(v, d, 3600),
  d: (v, d) => duration(v, d, 86_400),
  dtdurations: (v, d) => duration(v, d, 1),
  bytes: scaled([' B', ' KiB', ' MiB', ' GiB', ' TiB', ' PiB', ' EiB'], 1024),
  decbytes: scaled([' B', ' kB', ' MB', ' GB', ' TB', ' PB', ' EB'], 1000),
  bits: scaled([' b', ' Kib', ' Mib', ' Gib', ' Tib', ' Pib'], 1024),
  decbits: scaled([' b', ' kb', ' Mb', ' Gb', ' Tb', ' Pb'], 1000),
  kbytes: scaled([' KiB', ' MiB', ' GiB', ' TiB', ' PiB'], 1024),
  mbytes: scaled([' MiB', ' GiB', ' TiB', ' PiB'], 1024),
  Bps: scaled([' B/s', ' KiB/s', ' MiB/s', ' GiB/s', ' TiB/s'], 1024),
  binBps: scaled([' B/s', ' KiB/s', ' MiB/s', ' GiB/s', ' TiB/s'], 1024),
  decBps: scaled([' B/s', ' kB/s', ' MB/s', ' GB/s', ' TB/s'], 1000),
  bps: scaled([' b/s', ' kb/s', ' Mb/s', ' Gb/s', ' Tb/s'], 1000),
  reqps: suffixed(' req/s'),
  rps: suffixed(' rd/s'),
  wps: suffixed(' wr/s'),
  iops: suffixed(' io/s'),
  ops: suffixed(' ops/s'),
  opm: suffixed(' ops/min'),
  cps: suffixed(' c/s'),
  hertz: scaled([' Hz', ' kHz', ' MHz', ' GHz', ' THz'], 1000),
  celsius: plain('°C'),
  bool: (v) => (v === 0 ? 'False' : 'True'),
  dateTimeAsIso: (v) => new Date(v).toISOString().replace('T', ' ').slice(0, 19),
  dateTimeFromNow: (v) => relativeTime(v),
};

function relativeTime(ms: number): string {
  const seconds = Math.round((Date.now() - ms) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 60 ? `${abs} seconds` : abs < 3600 ? `${Math.round(abs / 60)} minutes` : abs < 86_400 ? `${Math.round(abs / 3600)} hours` : `${Math.round(abs / 86_400)} days`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** Whether the viewer formats this unit itself (else it falls back to `short`). */
export function isKnownUnit(unit: string | undefined): boolean {
  if (unit === undefined || unit === '') return true;
  return unit in FORMATTERS || /^(suffix|prefix|si|count):/.test(unit);
}

/** A value as Grafana would display it for `unit` and `decimals`. */
export function formatValue(value: number | null | undefined, unit?: string, decimals?: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'No data';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  const id = unit ?? '';
  if (id.startsWith('suffix:')) return `${fixed(value, decimals)}${id.slice('suffix:'.length)}`;
  if (id.startsWith('prefix:')) return `${id.slice('prefix:'.length)}${fixed(value, decimals)}`;
  if (id.startsWith('count:')) return `${short(value, decimals)} ${id.slice('count:'.length)}`;
  if (id.startsWith('si:')) return `${short(value, decimals)}${id.slice('si:'.length)}`;
  const formatter = FORMATTERS[id] ?? short;
  return formatter(value, decimals);
}
