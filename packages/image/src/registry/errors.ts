/** Stable codes of the failures that pushing an image to a registry reports. */
export type RegistryErrorCode =
  /** The reference names no registry host, or breaks the reference grammar. */
  | 'INVALID_REFERENCE'
  /** An option of the push is invalid, such as a malformed insecure registry entry. */
  | 'INVALID_OPTION'
  /** The image on disk cannot be pushed as it is, such as an archive with several images. */
  | 'UNSUPPORTED_IMAGE'
  /** A credentials file exists but cannot be read or parsed. */
  | 'CREDENTIALS'
  /** The registry rejected the credentials, or asked for credentials that were not found. */
  | 'AUTHENTICATION'
  /** The registry could not be reached, or the connection failed after every retry. */
  | 'CONNECTION'
  /** The registry responded with an unexpected status or a malformed body. */
  | 'REGISTRY';

/** A failure while pushing an image to a registry, with a stable `code` for callers. */
export class RegistryError extends Error {
  /** Kind of failure, for callers to branch on instead of the message. */
  readonly code: RegistryErrorCode;
  /** HTTP status of the response that failed, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = options?.status;
  }
}
