// Progress while a run lasts: elapsed time, VUs, requests, errors and iterations. A bar that
// redraws on a terminal (cli-progress), a line every few seconds in a log.

import cliProgress from 'cli-progress';
import { formatDuration } from '../durations.js';

export interface ProgressState {
  elapsedMs: number;
  plannedMs: number;
  vus: number;
  vusMax: number;
  requests: number;
  failedRequests: number;
  iterations: number;
  dropped: number;
}

export interface Progress {
  stop(): void;
}

function line(s: ProgressState): string {
  const errors = s.requests ? ((100 * s.failedRequests) / s.requests).toFixed(2) : '0.00';
  const rate = s.elapsedMs > 0 ? (s.requests / (s.elapsedMs / 1000)).toFixed(1) : '0.0';
  return `${formatDuration(s.elapsedMs)}/${formatDuration(s.plannedMs)}  VUs ${s.vus}/${s.vusMax}  requests ${s.requests} (${rate}/s)  errors ${errors}%  iterations ${s.iterations}${s.dropped ? `  dropped ${s.dropped}` : ''}`;
}

export function startProgress(read: () => ProgressState, log: (line: string) => void, options: { tty: boolean; everyMs?: number }): Progress {
  if (options.tty) {
    const bar = new cliProgress.SingleBar({ format: 'running [{bar}] {percentage}%  {detail}', hideCursor: true, clearOnComplete: true, barsize: 24 }, cliProgress.Presets.shades_classic);
    const first = read();
    bar.start(100, 0, { detail: line(first) });
    const timer = setInterval(() => {
      const s = read();
      bar.update(Math.min(100, Math.round((100 * s.elapsedMs) / Math.max(1, s.plannedMs))), { detail: line(s) });
    }, 500);
    timer.unref();
    return {
      stop() {
        clearInterval(timer);
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => log(`running ${line(read())}`), options.everyMs ?? 5000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
