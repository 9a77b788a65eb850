/** Stable machine-readable reasons for an {@link ImageSpecError}. */
export type ImageSpecErrorCode =
  | 'INVALID_DIGEST'
  | 'DIGEST_FINISHED'
  | 'UNKNOWN_SYSTEM'
  | 'INVALID_PLATFORM'
  | 'INVALID_REFERENCE'
  | 'INVALID_LAYER_ID'
  | 'INVALID_DATE'
  | 'INVALID_IMAGE_CONFIG'
  | 'INVALID_JSON_VALUE';

/** Error raised by the parsers and builders of this package, with a stable `code`. */
export class ImageSpecError extends Error {
  /** Machine-readable reason that callers can branch on, while the message is for people. */
  readonly code: ImageSpecErrorCode;

  constructor(code: ImageSpecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageSpecError';
    this.code = code;
  }
}

/** Quotes a value for an error message, cut to `max` characters so that huge inputs stay readable. */
export function quoteShort(value: string, max = 80): string {
  const truncated = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(truncated);
}
