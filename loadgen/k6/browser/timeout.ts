import { clearTimeout, setTimeout } from 'node:timers';

/** Resolves with the promise, or with undefined once `ms` have passed (the timer never holds the process). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, ms, undefined).unref(); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
