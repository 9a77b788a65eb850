import { ImageError } from './errors.js';
import { systemErrorCause } from './system-error.js';

/**
 * Wraps a failure to read `path` in an `ImageError`: a system error (one with a `syscall`)
 * becomes `READ`, such as `reading x.tar: no such file or directory`, and anything else, such as
 * the tar parser's complaint, becomes `NOT_IMAGE`, naming the `expected` kind of file.
 */
export function asReadError(path: string, error: unknown, expected: string): ImageError {
  if (error instanceof ImageError) {
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && 'syscall' in error) {
    return new ImageError('READ', `reading ${path}: ${systemErrorCause(error)}`, {
      path,
      cause: error,
    });
  }

  // tar-stream's messages read "Invalid tar header. Maybe the tar is corrupted or …".
  const cause = message.split('. ')[0]?.replace(/\.$/, '') ?? message;
  return new ImageError(
    'NOT_IMAGE',
    `reading ${path}: not ${expected}: ${cause.charAt(0).toLowerCase()}${cause.slice(1)}`,
    { path, cause: error },
  );
}
