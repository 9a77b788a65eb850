import { hashPartLength, nixBase32Alphabet } from './store-path.js';

// 1 for the bytes that are Nix base32 digits, 0 for all others.
const isBase32 = new Uint8Array(256);
for (const digit of nixBase32Alphabet) {
  isBase32[digit.charCodeAt(0)] = 1;
}

/**
 * Finds the hash parts of known store items in a byte stream, as Nix and Guix do when they
 * register an item's references: every 32-byte window of Nix base32 digits that equals a known
 * hash part is a reference. A stream may arrive in chunks of any size, because the scanner keeps
 * the last 31 bytes of each chunk to match windows that cross a chunk boundary.
 */
export class ReferenceScanner {
  /** Hash parts found so far. */
  readonly found = new Set<string>();
  private readonly hashParts: ReadonlySet<string>;
  // The first 4 bytes of each hash part as a little-endian integer. Checking them first avoids
  // building a string for most windows in long runs of digits, such as text.
  private readonly prefixes = new Set<number>();
  private carry: Buffer = Buffer.alloc(0);

  /** Creates a scanner that looks for the given hash parts. */
  constructor(hashParts: ReadonlySet<string>) {
    this.hashParts = hashParts;
    for (const hashPart of hashParts) {
      this.prefixes.add(Buffer.from(hashPart, 'latin1').readUInt32LE(0));
    }
  }

  /** Scans the next chunk of the current stream. The scanner keeps no reference to `chunk`. */
  update(chunk: Buffer): void {
    const tailLength = hashPartLength - 1;
    let joined: Buffer | undefined;
    if (this.carry.length > 0) {
      joined = Buffer.concat([this.carry, chunk.subarray(0, tailLength)]);
      this.scanBuffer(joined);
    }
    this.scanBuffer(chunk);

    // The carry is a copy of the last 31 bytes of the stream so far.
    const source = chunk.length >= tailLength || joined === undefined ? chunk : joined;
    this.carry = Buffer.from(source.subarray(Math.max(0, source.length - tailLength)));
  }

  /** Ends the current stream, so that the next update starts a new one. */
  reset(): void {
    this.carry = Buffer.alloc(0);
  }

  /** Scans one whole stream, such as a file name or a symlink target. */
  scanWhole(bytes: Buffer): void {
    this.reset();
    this.scanBuffer(bytes);
  }

  private scanBuffer(bytes: Buffer): void {
    const end = bytes.length;
    let start = 0;

    while (start + hashPartLength <= end) {
      // Check the window from its last byte back, so that a non-digit skips past itself.
      let index = hashPartLength - 1;
      while (index >= 0 && isBase32[bytes[start + index] as number] === 1) {
        index -= 1;
      }
      if (index >= 0) {
        start += index + 1;
        continue;
      }

      // The window is all digits: slide it one byte at a time while the next byte is a digit.
      for (;;) {
        if (this.prefixes.has(bytes.readUInt32LE(start))) {
          const candidate = bytes.toString('latin1', start, start + hashPartLength);
          if (this.hashParts.has(candidate)) {
            this.found.add(candidate);
          }
        }
        const next = start + hashPartLength;
        if (next < end && isBase32[bytes[next] as number] === 1) {
          start += 1;
        } else {
          start = next + 1;
          break;
        }
      }
    }
  }
}
