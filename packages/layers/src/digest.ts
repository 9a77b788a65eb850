import { createHash, type Hash } from 'node:crypto';

// NOTE: this alias repeats the `Digest` type of `@storepack/image-spec`; import it from there once
// that package exports it.
/** A content digest in OCI form, `<algorithm>:<lowercase hex>`. */
export type Digest = `sha256:${string}` | `sha512:${string}`;

/** Starts a SHA-256 hash whose result `sha256Digest` formats as a digest. */
export function createSha256(): Hash {
  return createHash('sha256');
}

/** Formats a finished SHA-256 hash as `sha256:<hex>`. */
export function sha256Digest(hash: Hash): Digest {
  return `sha256:${hash.digest('hex')}`;
}
