// Helpers for the fault tests (test/e2e-faults.test.ts): restart a child binary by its PID with the
// very same command line, read Prometheus's view of an alert, and read a counter from a /metrics page.

import { startProcess, type RunningProcess } from '../../stack/index.js';
import type { CapturedSlackMessage } from '../../alerts/index.js';

/**
 * Stops `running` (SIGTERM to its PID, SIGKILL after the grace period) and starts the same binary
 * again with the same arguments (same config, data folder and port), or with `editArgs(args)`,
 * waiting until `readyUrl` answers 2xx. The caller owns the new process and must stop it.
 */
export async function restartProcess(
  running: RunningProcess,
  readyUrl: string,
  editArgs: (args: string[]) => string[] = (args) => args,
): Promise<{ process: RunningProcess; stoppedAt: number; readyAt: number }> {
  const [command, ...args] = running.child.spawnargs;
  if (!command) throw new Error(`${running.name}: no command line to restart from`);
  await running.stop();
  const stoppedAt = Date.now();
  const restarted = await startProcess({ name: running.name, command, args: editArgs(args), readyUrl });
  return { process: restarted, stoppedAt, readyAt: Date.now() };
}

/** Starts a stopped binary again with the command line it had (for a process stopped earlier on purpose). */
export async function startAgain(stopped: RunningProcess, readyUrl: string): Promise<RunningProcess> {
  const [command, ...args] = stopped.child.spawnargs;
  if (!command) throw new Error(`${stopped.name}: no command line to start from`);
  if (stopped.child.exitCode === null && stopped.child.signalCode === null) throw new Error(`${stopped.name} (PID ${stopped.pid}) is still running`);
  return startProcess({ name: stopped.name, command, args, readyUrl });
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** The alerts Prometheus holds right now (GET /api/v1/alerts) whose labels include `labels`. */
export async function prometheusAlerts(prometheusUrl: string, labels: Record<string, string>): Promise<PrometheusAlert[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: { alerts: PrometheusAlert[] } };
  if (body.status !== 'success') throw new Error(`/api/v1/alerts: ${JSON.stringify(body)}`);
  return body.data.alerts.filter((alert) => Object.entries(labels).every(([name, value]) => alert.labels[name] === value));
}

/** The firing alert matching `labels`, or undefined while it is pending or absent. */
export async function firingAlert(prometheusUrl: string, labels: Record<string, string>): Promise<PrometheusAlert | undefined> {
  return (await prometheusAlerts(prometheusUrl, labels)).find((alert) => alert.state === 'firing');
}

/**
 * The sum of every sample of `metric` on a Prometheus-format /metrics page whose labels include
 * `labels` (0 when there is none).
 */
export async function scrapeCounter(metricsUrl: string, metric: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== metric) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([name, value]) => found[name] === value)) sum += Number(match[3]);
  }
  return sum;
}

/** A Slack message whose first attachment has exactly this title. */
export const titled = (title: string) => (message: Pick<CapturedSlackMessage, 'payload'>) => (message.payload.attachments ?? []).some((a) => a.title === title);

export const seconds = (ms: number) => (ms / 1000).toFixed(1);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
