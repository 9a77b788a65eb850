import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OCI_LAYOUT_FILE } from '@storepack/image-spec';
import { ImageError } from './errors.js';

/**
 * Fills a temporary folder beside `path` through `write` and moves it to `path` once complete, so
 * that `path` never holds half an image. An existing OCI layout or empty folder at `path` is
 * replaced; anything else there is an error before anything is written.
 */
export async function writeFolderAtomically<T>(
  path: string,
  write: (folder: string) => Promise<T>,
): Promise<T> {
  const existing = await describeExisting(path);
  const suffix = randomBytes(6).toString('hex');
  const temporary = join(dirname(path), `.storepack-${suffix}.partial`);
  try {
    await mkdir(temporary);
  } catch (error) {
    throw new ImageError('WRITE', `writing ${path}: ${(error as Error).message}`, {
      path,
      cause: error,
    });
  }

  try {
    const result = await write(temporary);
    if (existing === 'replaceable') {
      // The old layout moves aside first, so a failure between the renames leaves it recoverable.
      const old = join(dirname(path), `.storepack-${suffix}.old`);
      await rename(path, old);
      await rename(temporary, path);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temporary, path);
    }
    return result;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

async function describeExisting(path: string): Promise<'missing' | 'replaceable'> {
  const stats = await stat(path).catch(() => undefined);
  if (stats === undefined) {
    return 'missing';
  }
  if (stats.isDirectory()) {
    const names = await readdir(path);
    if (names.length === 0 || names.includes(OCI_LAYOUT_FILE)) {
      return 'replaceable';
    }
  }
  throw new ImageError(
    'WRITE',
    `writing ${path}: it exists and is not an OCI image layout: remove it or choose another path`,
    { path },
  );
}
