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
 * until each has written `trialBytes`. The one whose writes took the least time per byte, by the
 * median of its writes, is then kept for the next `keepBytes`, after which the turns start again.
 * With the median, one write that stalled, as when the kernel throttles a writer while it writes
 * dirty pages to disk, cannot decide the trial. How long the kernel takes to copy a write into
 * the page cache depends on the size of the write, and which size is the cheapest differs from
 * machine to machine. Only the writes passed to `record` count, towards the trial and the keep.
 */
export class PieceSizeChooser {
  readonly #sizes: readonly number[];
  readonly #options: PieceSizeChooserOptions;
  /** Bytes written in each size in the current trial. */
  #bytes: number[];
  /** Nanoseconds per byte of each write in each size in the current trial. */
  #rates: number[][];
  #turn = 0;
  /** The size kept after a trial, and the bytes it has written since. */
  #kept: number | undefined;
  #keptBytes = 0;

  constructor(sizes: readonly number[], options: PieceSizeChooserOptions = DEFAULT_OPTIONS) {
    if (
      sizes.length === 0 ||
      new Set(sizes).size !== sizes.length ||
      !sizes.every(isPositiveInteger)
    ) {
      throw new RangeError(
        `invalid piece sizes [${sizes.join(', ')}]: expected at least one size, each a whole number of 1 or more, none repeated`,
      );
    }
    if (!isPositiveInteger(options.trialBytes) || !isPositiveInteger(options.keepBytes)) {
      throw new RangeError(
        `invalid trial of ${options.trialBytes} bytes or keep of ${options.keepBytes} bytes: expected whole numbers of 1 or more`,
      );
    }
    this.#sizes = sizes;
    this.#options = options;
    this.#bytes = sizes.map(() => 0);
    this.#rates = sizes.map(() => []);
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
    if (index < 0 || bytes < 1) {
      return;
    }
    this.#bytes[index] = (this.#bytes[index] as number) + bytes;
    this.#rates[index]?.push(Number(nanoseconds) / bytes);
    this.#turn = (this.#turn + 1) % this.#sizes.length;
    if (this.#bytes.every((written) => written >= this.#options.trialBytes)) {
      this.#kept = this.#fastest();
      this.#keptBytes = 0;
    }
  }

  #fastest(): number {
    const medians = this.#rates.map(median);
    let best = 0;
    for (let index = 1; index < medians.length; index += 1) {
      if ((medians[index] as number) < (medians[best] as number)) {
        best = index;
      }
    }
    return this.#sizes[best] as number;
  }

  #startTrial(): void {
    this.#kept = undefined;
    this.#bytes = this.#sizes.map(() => 0);
    this.#rates = this.#sizes.map(() => []);
    this.#turn = 0;
  }
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

/** Returns the median of `values`, the lower middle one of an even count. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}
