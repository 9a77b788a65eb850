/** Raised inside a producer whose consumer stopped asking for chunks. */
export const CONSUMER_STOPPED = Symbol('consumer stopped');

/** A chunk offered by `put`, with the functions that settle the producer's wait. */
interface Offer {
  chunk: Buffer;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/**
 * Hands chunks from a producer to a consumer one at a time, as an async iterable. `put` waits until
 * the consumer has received the chunk and requested the next one, so that the producer may then
 * fill the chunk's memory again. A consumer that stops early (a `break` in `for await`) makes the
 * pending and later `put` calls reject with {@link CONSUMER_STOPPED}.
 */
export class ChunkChannel implements AsyncIterable<Buffer> {
  /** The chunk offered and not yet received. */
  #offered: Offer | undefined;
  /** The chunk the consumer received and may still read. */
  #received: Offer | undefined;
  #consumer:
    | { resolve: (result: IteratorResult<Buffer>) => void; reject: (error: unknown) => void }
    | undefined;
  #ended = false;
  #error: { cause: unknown } | undefined;
  #stopped = false;

  /** Offers `chunk` and resolves once the consumer has finished with it. */
  put(chunk: Buffer): Promise<void> {
    if (this.#stopped) {
      return Promise.reject(CONSUMER_STOPPED);
    }
    return new Promise((resolve, reject) => {
      this.#offered = { chunk, resolve, reject };
      this.#deliver();
    });
  }

  /** Tells the consumer that no chunk follows. */
  end(): void {
    this.#ended = true;
    this.#deliver();
  }

  /** Makes the consumer's next request fail with `cause`. */
  fail(cause: unknown): void {
    this.#error = { cause };
    this.#deliver();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => {
        if (this.#stopped) {
          return Promise.resolve({ done: true, value: undefined });
        }
        if (this.#consumer !== undefined) {
          return Promise.reject(
            new Error('reading layer chunks: next() called before the previous call settled'),
          );
        }
        // Asking for the next chunk means the consumer is done with the one it holds.
        const received = this.#received;
        this.#received = undefined;
        received?.resolve();
        return new Promise((resolve, reject) => {
          this.#consumer = { resolve, reject };
          this.#deliver();
        });
      },
      return: () => {
        this.#stopped = true;
        for (const offer of [this.#received, this.#offered]) {
          offer?.reject(CONSUMER_STOPPED);
        }
        this.#received = undefined;
        this.#offered = undefined;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #deliver(): void {
    const consumer = this.#consumer;
    if (consumer === undefined) {
      return;
    }
    if (this.#offered !== undefined) {
      this.#consumer = undefined;
      this.#received = this.#offered;
      this.#offered = undefined;
      consumer.resolve({ done: false, value: this.#received.chunk });
    } else if (this.#error !== undefined) {
      this.#consumer = undefined;
      consumer.reject(this.#error.cause);
    } else if (this.#ended) {
      this.#consumer = undefined;
      consumer.resolve({ done: true, value: undefined });
    }
  }
}
