// Settings from the environment (k6 -e KEY=VALUE or the process environment), checked at init
// so a bad value stops the run before any load is sent.

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
// Loopback, or the reference service's name inside docker compose's private network.
const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]|perfstack-app)(:\d{1,5})?$/;

function raw(name: string): string | undefined {
  const value = __ENV[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The service under test, without a trailing slash; loopback only (load never leaves the machine). */
export function baseUrl(): string {
  const url = (raw('PERFSTACK_BASE_URL') ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!LOOPBACK.test(url)) {
    throw new Error(`PERFSTACK_BASE_URL must be http://127.0.0.1:PORT (loopback only; http://perfstack-app:8080 inside docker compose), got "${url}"`);
  }
  return url;
}

export function envInt(name: string, fallback: number, min = 1, max = 100_000): number {
  const value = raw(name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

export function envNumber(name: string, fallback: number, min = 0, max = 1_000_000): number {
  const value = raw(name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

export function envDuration(name: string, fallback: string): string {
  const value = raw(name) ?? fallback;
  if (!DURATION.test(value)) throw new Error(`${name} must be a k6 duration such as 30s, 5m or 1h30m, got "${value}"`);
  return value;
}

/** A duration in seconds (for splitting a run into stages). */
export function seconds(duration: string): number {
  let total = 0;
  for (const part of duration.match(/\d+(\.\d+)?(ms|s|m|h)/g) ?? []) {
    const value = parseFloat(part);
    if (part.endsWith('ms')) total += value / 1000;
    else if (part.endsWith('h')) total += value * 3600;
    else if (part.endsWith('m')) total += value * 60;
    else total += value;
  }
  return total;
}

/** A whole number of seconds as a k6 duration, at least 1 s. */
export function secondsToDuration(value: number): string {
  return `${Math.max(1, Math.round(value))}s`;
}

/** Virtual users: PERFSTACK_VUS, else the scenario's default. */
export const vus = (fallback: number): number => envInt('PERFSTACK_VUS', fallback, 1, 1000);

/** Run length: PERFSTACK_DURATION, else the scenario's default. */
export const duration = (fallback: string): string => envDuration('PERFSTACK_DURATION', fallback);

/** Seconds a virtual user pauses between actions (PERFSTACK_THINK_TIME, default 0.1 s). */
export const thinkTimeSeconds = (): number => envNumber('PERFSTACK_THINK_TIME', 0.1, 0, 60);
