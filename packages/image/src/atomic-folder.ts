import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { asWriteError } from './write-error.js';

/**
 * Creates the folder `path`, which must not exist, by filling a temporary folder beside it through
 * `write` and renaming it once complete, so that `path` never contains half an image.
 */
export async function createFolderAtomically<T>(
  path: string,
  write: (folder: string) => Promise<T>,
): Promise<T> {
  const temporary = join(dirname(path), `.storepack-${randomBytes(6).toString('hex')}.partial`);
  try {
    await mkdir(temporary);
  } catch (error) {
    throw asWriteError(path, error);
  }

  try {
    const result = await write(temporary);
    await rename(temporary, path);
    return result;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw asWriteError(path, error);
  }
}
