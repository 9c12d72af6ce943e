// Debian's Chromium, which the browser scenario drives (perfstack's engine through playwright-core,
// or a user's own k6 through its browser module).

import { existsSync } from 'node:fs';
import { TOOL_GROUPS } from './bootstrap.js';

const [chromium] = TOOL_GROUPS.browser;
/** Debian package that brings the Chromium the browser scenario drives (bootstrap.ts knows package names). */
export const BROWSER_APT_PACKAGE = chromium.aptPackage;
/** Where Debian's chromium package puts the browser. */
export const BROWSER_EXECUTABLE = chromium.provides;

/** Whether the browser scenario can run here (Chromium installed). */
export function browserAvailable(): boolean {
  return existsSync(BROWSER_EXECUTABLE);
}

/**
 * Chromium's flags on these machines: headless, and without the background services whose
 * connections a closed network refuses; no sandbox as root (Chromium refuses it).
 */
export function browserArgs(): string[] {
  const args = ['disable-gpu', 'disable-dev-shm-usage', 'no-first-run', 'no-default-browser-check', 'disable-background-networking', 'disable-component-update', 'disable-sync'];
  if (process.getuid?.() === 0) args.unshift('no-sandbox');
  return args;
}

/** The environment k6's browser module needs for Debian's Chromium (`--engine k6`). */
export function browserEnv(): Record<string, string> {
  return {
    K6_BROWSER_EXECUTABLE_PATH: BROWSER_EXECUTABLE,
    K6_BROWSER_HEADLESS: 'true',
    K6_BROWSER_ARGS: browserArgs().join(','),
  };
}
