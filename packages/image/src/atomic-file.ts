import { randomBytes } from 'node:crypto';
import type { WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { ImageError } from './errors.js';

/**
 * Writes a file through `write` under a temporary name in the target's folder and renames it to
 * `path` once complete, so that `path` never contains a partial file. On failure the temporary file is
 * removed and the target is left as it was.
 */
export async function writeFileAtomically<T>(
  path: string,
  write: (output: WriteStream) => Promise<T>,
): Promise<T> {
  const temporaryPath = join(
    dirname(path),
    `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`,
  );

  let output: WriteStream;
  try {
    output = (await open(temporaryPath, 'wx', 0o644)).createWriteStream();
  } catch (error) {
    throw asWriteError(path, error);
  }

  try {
    const result = await write(output);
    output.end();
    await finished(output);
    await rename(temporaryPath, path);
    return result;
  } catch (error) {
    output.destroy();
    await rm(temporaryPath, { force: true });
    throw asWriteError(path, error);
  }
}

/**
 * Wraps a system error (one with a `syscall`) so that its message names the target rather than the
 * temporary file: `ENOENT: no such file or directory, open '…'` becomes `no such file or directory`.
 */
function asWriteError(path: string, error: unknown): unknown {
  if (error instanceof Error && 'syscall' in error) {
    const cause = error.message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    return new ImageError('WRITE', `writing ${path}: ${cause}`, { path, cause: error });
  }
  return error;
}
