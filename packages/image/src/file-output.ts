import { Writable } from 'node:stream';
import { writeInPieces } from '@storepack/layers';

/** Settings for a `FileOutput`. */
export interface FileOutputOptions {
  /** Closes the file once the stream ends or is destroyed; without it the file stays open. */
  close?: () => Promise<void>;
}

/**
 * A writable stream over a regular file, open as the descriptor `fd`, that writes each chunk
 * synchronously with `writeInPieces`. A chunk's callback runs once its bytes are in the file, so
 * the writer may refill the chunk then. Not for pipes or terminals, because a synchronous write
 * there waits for the reader.
 */
export class FileOutput extends Writable {
  readonly #fd: number;
  readonly #close: (() => Promise<void>) | undefined;
  #closing: Promise<void> | undefined;

  constructor(fd: number, options: FileOutputOptions = {}) {
    super();
    this.#fd = fd;
    this.#close = options.close;
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    try {
      writeInPieces(this.#fd, chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#closeOnce().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#closeOnce().then(
      () => callback(error),
      (closeError: Error) => callback(error ?? closeError),
    );
  }

  #closeOnce(): Promise<void> {
    this.#closing ??= this.#close?.() ?? Promise.resolve();
    return this.#closing;
  }
}
