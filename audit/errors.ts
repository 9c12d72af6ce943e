// What can stop an audit, each with its own exit code so scripts can tell them apart.

export type AuditErrorReason = 'invalid-url' | 'chromium-missing' | 'chromium-failed' | 'page-did-not-load' | 'lighthouse-failed';

/** Exit codes of `perfstack audit` (1 is kept for broken budgets, 2 for bad flags). */
export const AUDIT_EXIT_CODES = {
  ok: 0,
  budgetsBroken: 1,
  invalidInput: 2,
  chromiumMissing: 3,
  pageDidNotLoad: 4,
  lighthouseFailed: 5,
} as const;

export class AuditError extends Error {
  constructor(
    readonly reason: AuditErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuditError';
  }

  get exitCode(): number {
    switch (this.reason) {
      case 'invalid-url':
        return AUDIT_EXIT_CODES.invalidInput;
      case 'chromium-missing':
      case 'chromium-failed':
        return AUDIT_EXIT_CODES.chromiumMissing;
      case 'page-did-not-load':
        return AUDIT_EXIT_CODES.pageDidNotLoad;
      default:
        return AUDIT_EXIT_CODES.lighthouseFailed;
    }
  }
}
