import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates the folder `path` and any missing parents, like `mkdir -p`. Node 20's recursive mkdir
 * reports ENOENT when a missing folder cannot be made for another reason, such as a read-only
 * file system. This one then makes the missing folders one by one, from the outermost, and throws
 * the error that the first failing one gives.
 */
export async function createFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
    const missing: string[] = [];
    for (let folder = path; dirname(folder) !== folder; folder = dirname(folder)) {
      missing.unshift(folder);
    }
    for (const folder of missing) {
      await mkdir(folder).catch((cause: NodeJS.ErrnoException) => {
        if (cause.code !== 'EEXIST') {
          throw cause;
        }
      });
    }
    // Every folder was made after all, by another process in the meantime.
  }
}
