import { createHash, type Hash } from 'node:crypto';
import { ImageSpecError, quoteShort } from './errors.js';

/** Hash algorithm named in the algorithm part of a content digest. */
export type DigestAlgorithm = 'sha256' | 'sha512';

/** Content digest: an algorithm, a colon and the lower-case hex encoding of the hash. */
export type Digest = `${DigestAlgorithm}:${string}`;

/** Hex length of the encoded part for each supported algorithm. */
const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

const LOWER_HEX = /^[0-9a-f]+$/;

/** Computes the digest of `bytes`, hashing a string as its UTF-8 encoding. */
export function computeDigest(
  bytes: Uint8Array | string,
  algorithm: DigestAlgorithm = 'sha256',
): Digest {
  const hex = createHash(algorithm).update(bytes).digest('hex');
  return `${algorithm}:${hex}`;
}

/** Splits a digest into its algorithm and encoded hash, raising `INVALID_DIGEST` when malformed. */
export function parseDigest(text: string): { algorithm: DigestAlgorithm; encoded: string } {
  const problem = digestProblem(text);
  if (problem !== undefined) {
    throw new ImageSpecError(
      'INVALID_DIGEST',
      `invalid digest ${quoteShort(text)}: expected "sha256:" followed by 64 lower-case hex digits (or "sha512:" and 128), ${problem}`,
    );
  }

  const colon = text.indexOf(':');
  return { algorithm: text.slice(0, colon) as DigestAlgorithm, encoded: text.slice(colon + 1) };
}

/** Checks whether `text` is a well-formed sha256 or sha512 digest. */
export function isDigest(text: string): text is Digest {
  return digestProblem(text) === undefined;
}

/** Checks whether two digests use the same algorithm, so that comparing them is meaningful. */
export function sameAlgorithm(a: Digest, b: Digest): boolean {
  return a.slice(0, a.indexOf(':')) === b.slice(0, b.indexOf(':'));
}

/** Describes what is wrong with a digest string, or returns undefined when it is valid. */
function digestProblem(text: string): string | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) {
    return 'found no ":" between algorithm and hash';
  }

  const algorithm = text.slice(0, colon);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    return `found unsupported algorithm ${quoteShort(algorithm, 20)}`;
  }

  const encoded = text.slice(colon + 1);
  const expected = ENCODED_LENGTH[algorithm];
  if (encoded.length !== expected) {
    return `found ${encoded.length} characters after "${algorithm}:"`;
  }
  if (!LOWER_HEX.test(encoded)) {
    return 'found characters other than 0-9 and a-f';
  }
  return undefined;
}

/** Incremental digest computation over a stream of chunks. */
export interface Digester {
  /** Adds the next chunk. Raises `DIGEST_FINISHED` once {@link Digester.digest} has been called. */
  update(chunk: Uint8Array): void;
  /** Finishes the hash and returns the digest. A second call raises `DIGEST_FINISHED`. */
  digest(): Digest;
}

/** Starts an incremental digest, for hashing a layer while it is written. */
export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Digester {
  let hash: Hash | undefined = createHash(algorithm);

  return {
    update(chunk) {
      if (hash === undefined) {
        throw new ImageSpecError(
          'DIGEST_FINISHED',
          `updating ${algorithm} digester: digest() was already called, so no more bytes can be added`,
        );
      }
      hash.update(chunk);
    },
    digest() {
      if (hash === undefined) {
        throw new ImageSpecError(
          'DIGEST_FINISHED',
          `finishing ${algorithm} digester: digest() was already called once`,
        );
      }
      const hex = hash.digest('hex');
      hash = undefined;
      return `${algorithm}:${hex}`;
    },
  };
}
