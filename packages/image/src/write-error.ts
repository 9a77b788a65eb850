import { ImageError } from './errors.js';

/**
 * Wraps a system error (one with a `syscall`) so that its message names the output `path` rather
 * than a temporary file: `ENOENT: no such file or directory, open '…'` becomes `writing PATH: no
 * such file or directory`. Other errors are returned as they are.
 */
export function asWriteError(path: string, error: unknown): unknown {
  if (error instanceof Error && 'syscall' in error) {
    const cause = error.message.replace(/^E[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
    return new ImageError('WRITE', `writing ${path}: ${cause}`, { path, cause: error });
  }
  return error;
}
