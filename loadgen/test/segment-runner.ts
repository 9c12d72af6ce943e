// A tiny runner for the execution-segment proof: one engine instance per process, as k6 runs
// one per machine. Usage: node --import tsx segment-runner.ts <script> <base-url> [segment] [sequence]
// Prints the run's result as one JSON line on stdout; the engine's log goes to stderr.

import { runLoad } from '../index.js';

const [script, baseUrl, segment, sequence] = process.argv.slice(2);
if (!script || !baseUrl) {
  console.error('usage: segment-runner.ts <script> <base-url> [segment] [sequence]');
  process.exit(2);
}
const result = await runLoad({
  script,
  env: { PERFSTACK_BASE_URL: baseUrl, SEGMENT: segment ?? 'full' },
  ...(segment ? { executionSegment: segment } : {}),
  ...(sequence ? { executionSegmentSequence: sequence } : {}),
  log: (line) => console.error(line),
  progress: false,
});
const metrics = result.summary?.metrics ?? {};
const counts = Object.fromEntries(Object.entries(metrics).filter(([key]) => /^(iterations|http_reqs|dropped_iterations)/.test(key)).map(([key, m]) => [key, m.values.count ?? 0]));
console.log(JSON.stringify({ exitCode: result.exitCode, error: result.error, iterations: result.iterations, counts, vusMax: metrics.vus_max?.values.max ?? 0 }));
