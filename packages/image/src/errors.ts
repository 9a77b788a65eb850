/** Stable codes of the failures that `@storepack/image` reports. */
export type ImageErrorCode = 'INVALID_OPTION' | 'WRITE' | 'LAYER_MISMATCH' | 'READ' | 'NOT_IMAGE';

/** A failure while assembling or writing an image, with a stable `code` for callers. */
export class ImageError extends Error {
  /** Kind of failure, for callers to branch on instead of the message. */
  readonly code: ImageErrorCode;
  /** The file or store path the failure is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: ImageErrorCode, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImageError';
    this.code = code;
    this.path = options?.path;
  }
}
