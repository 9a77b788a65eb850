/** Stable codes of the failures that `@storepack/closure` reports. */
export type ClosureErrorCode =
  | 'NOT_A_STORE_PATH'
  | 'NOT_FOUND'
  | 'NOT_IN_DATABASE'
  | 'NOT_IN_FILE'
  | 'DATABASE'
  | 'COMMAND'
  | 'INVALID_FILE'
  | 'MISSING_REFERENCE'
  | 'READ'
  | 'INVALID_OPTION';

/** A failure while parsing store paths or resolving a closure, with a stable `code` for callers. */
export class ClosureError extends Error {
  /** Kind of failure, for callers to branch on instead of the message. */
  readonly code: ClosureErrorCode;
  /** Store path or file the failure is about, when there is one. */
  readonly path?: string;

  constructor(
    code: ClosureErrorCode,
    message: string,
    options?: { path?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClosureError';
    this.code = code;
    if (options?.path !== undefined) {
      this.path = options.path;
    }
  }
}

/**
 * Extracts the cause of a failed system call in lower case without the code and the file name,
 * e.g. `permission denied` for `EACCES: permission denied, open '/x'`.
 */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const match = /^E[A-Z]+: ([^,]+)/.exec(error.message);
  return match?.[1] ?? error.message;
}
