import { ImageError } from './errors.js';
import { systemErrorCause } from './system-error.js';

/**
 * Wraps a system error (one with a `syscall`) so that its message names the output `path` rather
 * than a temporary file: `ENOENT: no such file or directory, open '…'` becomes `writing PATH: no
 * such file or directory`. Other errors are returned as they are.
 */
export function asWriteError(path: string, error: unknown): unknown {
  if (error instanceof Error && 'syscall' in error) {
    return new ImageError('WRITE', `writing ${path}: ${systemErrorCause(error)}`, {
      path,
      cause: error,
    });
  }
  return error;
}
