/** Stable codes of the failures that `@storepack/layers` reports. */
export type LayerErrorCode =
  /** The source is malformed: a relative or duplicate store path, a symlink that clashes, a bad mtime. */
  | 'INVALID_SOURCE'
  /** A socket, FIFO or device file, which a store item cannot contain. */
  | 'UNSUPPORTED_FILE_TYPE'
  /** A regular file larger than 2^53 - 1 bytes, the largest size a JavaScript number represents exactly. */
  | 'FILE_TOO_LARGE'
  /** lstat, readdir, readlink, open or read failed. */
  | 'READ'
  /** A file's type or size differs from what `prepareLayer` recorded. */
  | 'CHANGED_WHILE_READING'
  /** The stream produced a byte count other than the size computed in advance. */
  | 'SIZE_MISMATCH'
  /** `createStream` was called a second time. */
  | 'ALREADY_STREAMED'
  /** `diffId` was asked for before the stream ended. */
  | 'NOT_FINISHED'
  /** A closure graph that is not closed: a duplicate item, or a reference or root outside it. */
  | 'INVALID_CLOSURE'
  /** An option outside its range, such as an unknown planner name or `maxLayers` below 1. */
  | 'INVALID_OPTIONS'
  /** Compressing a layer failed, for example because the zstd worker stopped. */
  | 'COMPRESSION'
  /** The layer cache folder cannot be created, read or written. */
  | 'CACHE'
  /** Hashing a layer on the hash thread failed, for example because the thread stopped. */
  | 'HASHING';

/** A failure while preparing or streaming a layer, with a stable `code` for callers. */
export class LayerError extends Error {
  /** Kind of failure. Callers branch on it, never on the message. */
  readonly code: LayerErrorCode;
  /** The file on disk or the image path the failure is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: LayerErrorCode, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LayerError';
    this.code = code;
    this.path = options?.path;
  }
}

/** Wraps a failed file system call as a READ error: `reading <path>: <cause>`. */
export function readError(path: string, cause: unknown): LayerError {
  return new LayerError('READ', `reading ${path}: ${describeCause(cause)}`, { path, cause });
}

/** Extracts the system's wording of a failure, without Node's `ENOENT: ` prefix and quoted path. */
export function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) {
    return String(cause);
  }
  const match = /^[A-Z]+: ([^,]+)/.exec(cause.message);
  return match?.[1] ?? cause.message;
}
