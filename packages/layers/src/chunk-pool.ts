import { LayerError } from './errors.js';
import type { ChunkMemory } from './stream-layer.js';

/**
 * A fixed number of buffers that chunks are written into and that come back once the consumer is
 * done with each chunk (see `recycle`), so that streaming hundreds of MiB leaves no garbage. With
 * a new buffer for every chunk, the dead chunks took tens of MiB until the garbage collector ran.
 */
export class ChunkPool implements ChunkMemory {
  readonly #count: number;
  readonly #size: number;
  readonly #free: Buffer[] = [];
  /** Buffers handed out, by their memory, which the chunks cut from them share. */
  readonly #lent = new Map<ArrayBufferLike, Buffer>();
  readonly #waiting: ((buffer: Buffer) => void)[] = [];
  readonly #spares: Buffer[] | undefined;
  #created = 0;

  /**
   * Creates a pool of at most `count` buffers of `size` bytes, allocated as they are first needed.
   * With `spares`, a list of buffers of that size that pools share, new buffers are taken from the
   * list first, and `retire` puts them back.
   */
  constructor(count: number, size: number, spares?: Buffer[]) {
    if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(size) || size < 1) {
      throw new LayerError(
        'INVALID_OPTIONS',
        `invalid chunk pool of ${String(count)} buffers of ${String(size)} bytes: expected whole numbers, 1 or more`,
      );
    }
    this.#count = count;
    this.#size = size;
    this.#spares = spares;
  }

  /** Resolves to a buffer of the pool's size, waiting while every buffer is out. */
  take(): Promise<Buffer> {
    const free = this.#free.pop();
    if (free !== undefined) {
      return Promise.resolve(this.#lend(free));
    }
    if (this.#created < this.#count) {
      this.#created++;
      const spare = this.#spares?.pop();
      return Promise.resolve(this.#lend(spare ?? Buffer.allocUnsafeSlow(this.#size)));
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /**
   * Takes back the buffer that `chunk` was cut from, once the consumer is done with it. A chunk
   * of memory the pool did not lend is ignored.
   */
  recycle(chunk: Uint8Array): void {
    const buffer = this.#lent.get(chunk.buffer);
    if (buffer !== undefined) {
      this.giveBack(buffer);
    }
  }

  /** Takes back a buffer from `take`. A buffer given back twice counts once. */
  giveBack(buffer: Buffer): void {
    if (!this.#lent.delete(buffer.buffer)) {
      return;
    }
    const waiting = this.#waiting.shift();
    if (waiting !== undefined) {
      waiting(this.#lend(buffer));
    } else {
      this.#free.push(buffer);
    }
  }

  /**
   * Puts the buffers that are back into the pool's list of spares, up to `maxSpares` in the list,
   * for the next pool. The pool allocates no buffer after this. Buffers of chunks not yet
   * recycled stay with their consumer.
   */
  retire(maxSpares: number): void {
    for (const buffer of this.#free.splice(0)) {
      if (this.#spares !== undefined && this.#spares.length < maxSpares) {
        this.#spares.push(buffer);
      }
    }
    this.#created = this.#count;
  }

  #lend(buffer: Buffer): Buffer {
    this.#lent.set(buffer.buffer, buffer);
    return buffer;
  }
}
