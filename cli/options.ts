import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/index.js';
import { readStackState } from '../stack/index.js';

// Options several commands share, so each flag reads and fails the same way everywhere.

export const configOption = () => new Option('-c, --config <file>', 'the perfstack config module').default(DEFAULT_CONFIG_FILE);

export const stateDirOption = () =>
  new Option('--state-dir <dir>', 'where the native stack keeps data, logs and PIDs').env('PERFSTACK_STATE_DIR').default('.state');

export function parsePort(flag: string) {
  return (value: string): number => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`${flag} must be an integer from 0 to 65535`);
    return port;
  };
}

export function parsePositive(flag: string, integer = true) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
      throw new InvalidArgumentError(`${flag} must be a positive ${integer ? 'whole ' : ''}number`);
    }
    return number;
  };
}

export const hostOption = () => new Option('--host <address>', 'address to bind (loopback unless you mean otherwise)').default('127.0.0.1');

/** The database URL from --database-url, $DATABASE_URL or the file $DATABASE_URL_FILE names; never printed. */
export const databaseUrlOption = () =>
  new Option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL, or the file named by $DATABASE_URL_FILE)').env('DATABASE_URL');

export function requireDatabaseUrl(given: string | undefined): string {
  if (given) return given;
  const file = process.env.DATABASE_URL_FILE;
  if (file) {
    const url = readFileSync(file, 'utf8').trim();
    if (!url) throw new InvalidArgumentError(`DATABASE_URL_FILE ${file} is empty`);
    return url;
  }
  throw new InvalidArgumentError('no database: pass --database-url, or set DATABASE_URL or DATABASE_URL_FILE');
}

/** Resolves once SIGTERM or SIGINT arrives, so a server command can stop cleanly. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** The URL of a component of the running native stack (`perfstack start`), or undefined when there is none. */
export function nativeComponentUrl(stateDir: string, name: string): string | undefined {
  try {
    return readStackState(stateDir).components.find((c) => c.name === name)?.url;
  } catch {
    return undefined; // no native stack, or its state is unreadable
  }
}

/**
 * The baseline store's URL: --store-url, $PERFSTACK_STORE_URL, $DATABASE_URL, $DATABASE_URL_FILE, or
 * the native stack's (its perfstack_store role, else its database URL); undefined when none is known.
 */
export function findStoreUrl(given: string | undefined, stateDir: string): string | undefined {
  if (given) return given;
  for (const name of ['PERFSTACK_STORE_URL', 'DATABASE_URL']) {
    const value = process.env[name];
    if (value) return value;
  }
  const files = process.env.DATABASE_URL_FILE ? [process.env.DATABASE_URL_FILE] : [join(stateDir, 'secrets', 'store_url'), join(stateDir, 'secrets', 'database_url')];
  for (const file of files) {
    try {
      const url = readFileSync(file, 'utf8').trim();
      if (url) return url;
    } catch {
      // the next candidate
    }
  }
  return undefined;
}
