// The one error type of the baseline store: what went wrong (reason) and where (field), so the CLI
// can print it and tests can assert on it without matching message text.

export type BaselineStoreErrorReason =
  /** The text is not JSON (truncated, or not a summary file at all). */
  | 'invalid-json'
  /** The JSON does not have the shape of a k6 summary, or a value has the wrong type. */
  | 'invalid-summary'
  /** A metric or statistic the KPIs are derived from is not in the summary. */
  | 'missing-metric'
  /** Run metadata is missing or contradicts itself (testid, scenario, times…). */
  | 'invalid-metadata'
  /** A run with this testid is already stored. */
  | 'duplicate-testid'
  /** Prometheus holds no k6 series for the testid in the range. */
  | 'no-k6-data'
  /** Prometheus could not be reached or answered with an error. */
  | 'prometheus-error'
  /** A run or baseline that was asked for does not exist. */
  | 'not-found'
  /** An argument is out of range or malformed. */
  | 'invalid-argument'
  /** The schema is older or newer than this code, or a migration file changed after it was applied. */
  | 'migration';

export class BaselineStoreError extends Error {
  constructor(
    readonly reason: BaselineStoreErrorReason,
    /** What the problem is about: a JSON path (metrics.http_req_duration), an option name, a testid field. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BaselineStoreError';
  }
}
