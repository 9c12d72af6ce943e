// Text helpers for the run report: HTML escaping and locale-independent number, unit, date and
// duration formatting (no toLocaleString, so the output is the same on every machine).

import type { ThresholdUnit } from './types.js';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Inserts thousands separators into an integer string (optionally signed). */
function groupDigits(digits: string): string {
  const sign = digits.startsWith('-') ? '-' : '';
  const body = sign ? digits.slice(1) : digits;
  return sign + body.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Drops trailing zeros after a decimal point: "12.50" → "12.5", "3.00" → "3". */
function trimZeros(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

/** A plain number with precision that shrinks as the magnitude grows; "—" for NaN. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (Number.isInteger(v) || abs >= 1000) return groupDigits(Math.round(v).toFixed(0));
  if (abs >= 100) return trimZeros(v.toFixed(1));
  if (abs >= 1) return trimZeros(v.toFixed(2));
  return trimZeros(v.toPrecision(3));
}

/** Milliseconds: "0.42 ms", "245.3 ms", "1.25 s", "2m 05s". */
export function formatMs(v: number): string {
  if (!Number.isFinite(v)) return formatNumber(v);
  const abs = Math.abs(v);
  if (abs < 1000) return `${formatNumber(v)} ms`;
  if (abs < 120_000) return `${trimZeros((v / 1000).toFixed(2))} s`;
  return formatDuration(v);
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** Bytes in decimal units, as k6 prints them: "512 B", "1.5 MB". */
export function formatBytes(v: number): string {
  if (!Number.isFinite(v)) return formatNumber(v);
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < BYTE_UNITS.length - 1) {
    x /= 1000;
    i += 1;
  }
  return `${i === 0 ? formatNumber(Math.round(x)) : trimZeros(x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2))} ${BYTE_UNITS[i]}`;
}

/** A ratio (0..1) as a percentage: 0.0123 → "1.23%". */
export function formatRatio(v: number): string {
  if (!Number.isFinite(v)) return formatNumber(v);
  return `${formatNumber(v * 100)}%`;
}

export function formatUnit(unit: ThresholdUnit, v: number | undefined): string {
  if (v === undefined) return '—';
  switch (unit) {
    case 'ms':
      return formatMs(v);
    case 'bytes':
      return formatBytes(v);
    case 'ratio':
      return formatRatio(v);
    case 'count':
      return formatNumber(v);
  }
}

/** A run length: "850 ms", "42.5 s", "12m 30s", "1h 00m 00s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trimZeros((ms / 1000).toFixed(1))} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
}

/** An ISO timestamp as "2025-05-24 14:05:00 UTC"; anything unparsable is returned as given. */
export function formatDate(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '').replace(/Z$/, '')} UTC`;
}

/** The first 12 characters of a hex commit id; other strings unchanged. */
export function shortSha(sha: string): string {
  return /^[0-9a-f]{13,}$/i.test(sha) ? sha.slice(0, 12) : sha;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatNumber(n)} ${n === 1 ? word : many}`;
}
