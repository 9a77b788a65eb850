/** Settings of a {@link PieceSizeChooser}. */
export interface PieceSizeChooserOptions {
  /** Bytes each size writes, taking turns with the others, before one is chosen. */
  trialBytes: number;
  /** Bytes written in the chosen size before the sizes are tried again. */
  keepBytes: number;
}

const DEFAULT_OPTIONS: PieceSizeChooserOptions = {
  trialBytes: 16 * 1024 * 1024,
  keepBytes: 512 * 1024 * 1024,
};

/**
 * Chooses among sizes of write(2) calls by timing them. The sizes take turns, write by write,
 * until each has written `trialBytes`. The one that took the least time per byte is then kept for
 * the next `keepBytes`, after which the turns start again. How long the kernel takes to copy a
 * write into the page cache depends on the size of the write, and which size is the cheapest
 * differs from machine to machine.
 */
export class PieceSizeChooser {
  readonly #sizes: readonly number[];
  readonly #options: PieceSizeChooserOptions;
  /** Bytes and nanoseconds of each size in the current trial. */
  #bytes: number[];
  #nanoseconds: bigint[];
  #turn = 0;
  /** The size kept after a trial, and the bytes it has written since. */
  #kept: number | undefined;
  #keptBytes = 0;

  constructor(sizes: readonly number[], options: PieceSizeChooserOptions = DEFAULT_OPTIONS) {
    if (sizes.length === 0 || sizes.some((size) => !Number.isSafeInteger(size) || size < 1)) {
      throw new RangeError(
        `invalid piece sizes [${sizes.join(', ')}]: expected one or more whole numbers of 1 or more`,
      );
    }
    this.#sizes = sizes;
    this.#options = options;
    this.#bytes = sizes.map(() => 0);
    this.#nanoseconds = sizes.map(() => 0n);
  }

  /** Returns the size of the pieces of the next write. */
  next(): number {
    if (this.#kept !== undefined) {
      return this.#kept;
    }
    return this.#sizes[this.#turn] as number;
  }

  /** Records that `bytes` were written in pieces of `size` in `nanoseconds`. */
  record(size: number, bytes: number, nanoseconds: bigint): void {
    if (this.#kept !== undefined) {
      this.#keptBytes += bytes;
      if (this.#keptBytes >= this.#options.keepBytes) {
        this.#startTrial();
      }
      return;
    }
    const index = this.#sizes.indexOf(size);
    if (index < 0) {
      return;
    }
    this.#bytes[index] = (this.#bytes[index] as number) + bytes;
    this.#nanoseconds[index] = (this.#nanoseconds[index] as bigint) + nanoseconds;
    this.#turn = (this.#turn + 1) % this.#sizes.length;
    if (this.#bytes.every((written) => written >= this.#options.trialBytes)) {
      this.#kept = this.#fastest();
      this.#keptBytes = 0;
    }
  }

  #fastest(): number {
    let best = 0;
    for (let index = 1; index < this.#sizes.length; index += 1) {
      // Compares nanoseconds per byte without dividing: a/b < c/d as a·d < c·b.
      const candidate = (this.#nanoseconds[index] as bigint) * BigInt(this.#bytes[best] as number);
      const current = (this.#nanoseconds[best] as bigint) * BigInt(this.#bytes[index] as number);
      if (candidate < current) {
        best = index;
      }
    }
    return this.#sizes[best] as number;
  }

  #startTrial(): void {
    this.#kept = undefined;
    this.#bytes = this.#sizes.map(() => 0);
    this.#nanoseconds = this.#sizes.map(() => 0n);
    this.#turn = 0;
  }
}
