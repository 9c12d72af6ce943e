// pg-pool exporter: instrument any pg.Pool with the db_client_* metrics of the contract.
export {
  DB_SYSTEM_NAME,
  POOL_TIMEOUT_MESSAGES,
  QUERY_SUMMARY,
  errorType,
  instrumentPool,
  withQuerySummary,
} from './instrument.js';
export type { InstrumentPoolOptions, InstrumentedPool } from './instrument.js';
export { DEFAULT_MAX_SUMMARY_LENGTH, describeStatement, normaliseStatement } from './summary.js';
export type { StatementInfo, TransactionControl } from './summary.js';
