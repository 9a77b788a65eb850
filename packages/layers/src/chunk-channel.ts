/** Raised inside a producer whose consumer stopped asking for chunks. */
export const CONSUMER_STOPPED = Symbol('consumer stopped');

/**
 * Hands chunks from a producer to a consumer one at a time, as an async iterable. `put` waits until
 * the consumer has finished with the chunk, that is until it asks for the next one, so that the
 * producer may then fill the chunk's memory again. A consumer that stops early (a `break` in
 * `for await`) makes the pending and later `put` calls reject with {@link CONSUMER_STOPPED}.
 */
export class ChunkChannel implements AsyncIterable<Buffer> {
  #chunk: Buffer | undefined;
  #taken: (() => void) | undefined;
  #stop: ((reason: unknown) => void) | undefined;
  #consumer: ((result: IteratorResult<Buffer>) => void) | undefined;
  #failConsumer: ((error: unknown) => void) | undefined;
  #ended = false;
  #error: { cause: unknown } | undefined;
  #stopped = false;

  /** Offers `chunk` and resolves once the consumer has finished with it. */
  put(chunk: Buffer): Promise<void> {
    if (this.#stopped) {
      return Promise.reject(CONSUMER_STOPPED);
    }
    return new Promise((resolve, reject) => {
      this.#chunk = chunk;
      this.#taken = resolve;
      this.#stop = reject;
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
        // Asking for the next chunk means the consumer is done with the one it holds.
        const taken = this.#taken;
        this.#taken = undefined;
        this.#stop = undefined;
        taken?.();
        return new Promise((resolve, reject) => {
          this.#consumer = resolve;
          this.#failConsumer = reject;
          this.#deliver();
        });
      },
      return: () => {
        this.#stopped = true;
        const stop = this.#stop;
        this.#taken = undefined;
        this.#stop = undefined;
        this.#chunk = undefined;
        stop?.(CONSUMER_STOPPED);
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #deliver(): void {
    const consumer = this.#consumer;
    const failConsumer = this.#failConsumer;
    if (consumer === undefined || failConsumer === undefined) {
      return;
    }
    if (this.#chunk !== undefined) {
      const chunk = this.#chunk;
      this.#chunk = undefined;
      this.#consumer = undefined;
      this.#failConsumer = undefined;
      consumer({ done: false, value: chunk });
    } else if (this.#error !== undefined) {
      this.#consumer = undefined;
      this.#failConsumer = undefined;
      failConsumer(this.#error.cause);
    } else if (this.#ended) {
      this.#consumer = undefined;
      this.#failConsumer = undefined;
      consumer({ done: true, value: undefined });
    }
  }
}
