import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Writes `data` as pretty JSON through a temporary file in the target's folder and a rename, so a
 * reader never sees a half-written file; the temporary file is removed if anything fails.
 * Returns the absolute path written.
 */
export async function writeJsonAtomic(path: string, data: unknown): Promise<string> {
  const target = resolve(path);
  const folder = dirname(target);
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`, 'utf8');
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return target;
}
