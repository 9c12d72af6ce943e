// One error type for everything that stops a run before or during load, with the exit code the
// CLI returns (k6's codes where k6 has one) and, when known, where in the script it happened.

/** Exit codes of `perfstack run` (k6's numbering where the two overlap; docs/load-engine.md lists them). */
export const EXIT_CODES = {
  ok: 0,
  /** A bad command-line flag or an unreachable target (perfstack's CLI convention). */
  badInput: 2,
  /** One or more thresholds failed (k6: ThresholdsHaveFailed). */
  thresholdsFailed: 99,
  /** setup() ran longer than setupTimeout (k6: SetupTimeout). */
  setupTimeout: 100,
  /** teardown() ran longer than teardownTimeout (k6: TeardownTimeout). */
  teardownTimeout: 101,
  /** The engine itself failed (k6: GenericEngine). */
  engine: 103,
  /** Invalid options: unknown executor, malformed threshold, bad scenario field (k6: InvalidConfig). */
  invalidConfig: 104,
  /** Stopped from outside, e.g. SIGINT (k6: ExternalAbort). */
  externalAbort: 105,
  /** The script could not be loaded: syntax error, unsupported k6 API, exception in init or setup (k6: ScriptException). */
  scriptException: 107,
  /** A threshold with abortOnFail failed and stopped the run (k6: ThresholdHaveFailed with abort, 99 as well). */
  abortedByThreshold: 99,
  /** The script called exec.test.abort() (k6: ScriptAborted). */
  scriptAborted: 108,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export interface Where {
  file: string;
  line: number;
  column?: number;
}

export class LoadgenError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly where?: Where,
    options?: { cause?: unknown },
  ) {
    super(where ? `${where.file}:${where.line}${where.column ? `:${where.column}` : ''}: ${message}` : message, options);
    this.name = 'LoadgenError';
  }
}
