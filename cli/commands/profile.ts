import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SCENARIOS, newTestId, runScenario } from '../../k6/index.js';
import { formatTopFunctions, ProfilerError, recordProfile } from '../../profiler/index.js';
import { parsePositive, stateDirOption, nativeComponentUrl } from '../options.js';

interface ProfileCliOptions {
  inspect: string;
  duration: string;
  scenario?: string;
  vus?: number;
  baseUrl?: string;
  prometheusUrl?: string;
  outDir?: string;
  samplingInterval: number;
  stateDir: string;
}

const DURATION = /^(\d+)(ms|s|m)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function parseWindow(value: string): string {
  const match = DURATION.exec(value);
  if (!match || Number(match[1]) <= 0) throw new InvalidArgumentError('--duration must be a duration such as 10s, 500ms or 2m');
  if (Number(match[1]) * UNIT_MS[match[2]!]! > 30 * 60_000) throw new InvalidArgumentError('--duration must be at most 30m (a profile that long is too big to read)');
  return value;
}


/** perfstack profile: a CPU profile of the running service, optionally while a scenario loads it. */
export function registerProfileCommand(program: Command): void {
  program
    .command('profile')
    .description('Record a CPU profile of the running service through its inspector (start it with `perfstack app --inspect-port <port>`), optionally while a scenario runs; writes profile.cpuprofile, flamegraph.html and the top functions by self time')
    .addOption(new Option('--inspect <address>', 'the service’s inspector: 127.0.0.1:<port> or the ws:// URL `perfstack app` printed').makeOptionMandatory())
    .addOption(new Option('--duration <d>', 'how long to profile (and to run --scenario)').default('10s').argParser(parseWindow))
    .addOption(new Option('--scenario <name>', `run this scenario on perfstack’s engine meanwhile: ${SCENARIOS.map((s) => s.name).join(', ')}, or a k6 script`))
    .addOption(new Option('--vus <n>', 'virtual users of --scenario').argParser(parsePositive('--vus')))
    .addOption(new Option('--base-url <url>', 'the service --scenario loads (default: the native stack’s app, else http://127.0.0.1:8080)').env('PERFSTACK_BASE_URL'))
    .addOption(new Option('--prometheus-url <url>', 'push the scenario’s results here (default: the native stack’s Prometheus, if any)').env('PERFSTACK_PROMETHEUS_URL'))
    .addOption(new Option('--sampling-interval <µs>', 'V8’s sampling interval in microseconds').default(1000).argParser(parsePositive('--sampling-interval')))
    .addOption(new Option('--out-dir <dir>', 'where the files go (default: <state-dir>/profiles/<UTC time>)'))
    .addOption(stateDirOption())
    .action(async (options: ProfileCliOptions) => {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const outputDir = options.outDir ?? join(options.stateDir, 'profiles', stamp);
      const match = DURATION.exec(options.duration)!;
      const durationMs = Number(match[1]) * UNIT_MS[match[2]!]!;
      const scenario = options.scenario;
      const during = scenario
        ? async () => {
            const baseUrl = options.baseUrl ?? nativeComponentUrl(options.stateDir, 'app') ?? 'http://127.0.0.1:8080';
            const testid = newTestId(scenario.replace(/^.*\//, '').replace(/\.[jt]s$/, ''));
            const result = await runScenario({
              scenario,
              baseUrl,
              prometheusUrl: options.prometheusUrl ?? nativeComponentUrl(options.stateDir, 'prometheus'),
              testid,
              outputDir: join(outputDir, 'run'),
              duration: `${Math.max(1, Math.round(durationMs / 1000))}s`,
              vus: options.vus,
              progress: false,
              log: () => undefined,
            });
            console.log(`scenario ${scenario} (testid ${result.testid}) exited ${result.exitCode}${result.error ? `: ${result.error}` : ''}`);
          }
        : undefined;
      try {
        const recorded = await recordProfile({ inspect: options.inspect, durationMs, outputDir, samplingIntervalUs: options.samplingInterval, ...(during ? { during } : {}) });
        const busy = recorded.totalMs > 0 ? 100 * (1 - recorded.idleMs / recorded.totalMs) : 0;
        console.log(`profiled ${(recorded.durationMs / 1000).toFixed(1)} s: ${recorded.samples} samples, ${busy.toFixed(0)} % on the CPU`);
        console.log('top functions by self time:');
        console.log(formatTopFunctions(recorded.top));
        console.log(`profile     ${recorded.files.profile} (open in Chrome DevTools or speedscope)`);
        console.log(`flame graph ${recorded.files.flameGraph}`);
      } catch (error) {
        if (error instanceof ProfilerError) throw new InvalidArgumentError(error.message);
        throw error;
      }
    });
}
