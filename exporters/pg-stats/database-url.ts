// Where the connection string comes from: DATABASE_URL, or a file named by DATABASE_URL_FILE or
// the `file` option (a Docker or Kubernetes secret). The value is trimmed and never appears in
// an error message.

import { readFileSync } from 'node:fs';

export const DATABASE_URL_ENV = 'DATABASE_URL';
export const DATABASE_URL_FILE_ENV = 'DATABASE_URL_FILE';

export interface ResolveDatabaseUrlOptions {
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** A file holding the connection string; wins over both variables. */
  file?: string;
}

function fromFile(path: string, source: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(`${source}: cannot read the connection string file ${path}${code ? ` (${code})` : ''}`);
  }
  const value = text.trim();
  if (value === '') throw new Error(`${source}: the connection string file ${path} is empty`);
  return value;
}

/** Returns the PostgreSQL connection string, trimmed, or throws an error that names the variable to set. */
export function resolveDatabaseUrl(options: ResolveDatabaseUrlOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.file !== undefined && options.file !== '') return fromFile(options.file, 'database URL file');

  const direct = env[DATABASE_URL_ENV]?.trim() ?? '';
  const filePath = env[DATABASE_URL_FILE_ENV]?.trim() ?? '';
  if (direct !== '' && filePath !== '') {
    throw new Error(`${DATABASE_URL_ENV} and ${DATABASE_URL_FILE_ENV} are both set; set only one of them`);
  }
  if (filePath !== '') return fromFile(filePath, DATABASE_URL_FILE_ENV);
  if (direct !== '') return direct;
  if (env[DATABASE_URL_ENV] !== undefined) {
    throw new Error(`${DATABASE_URL_ENV} is set but empty; set it to a connection string such as postgres://user@host:5432/db, or use ${DATABASE_URL_FILE_ENV}`);
  }
  throw new Error(
    `No database connection string: set ${DATABASE_URL_ENV} (postgres://user:password@host:5432/db) or ${DATABASE_URL_FILE_ENV} (a file holding it)`,
  );
}
