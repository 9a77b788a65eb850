import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ChunkMemory } from '@storepack/layers';
import tar from 'tar-stream';
import { ImageError } from './errors.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { READ_CHUNK_SIZE } from './read-chunk-size.js';
import { relayWrites } from './write-relay.js';

/**
 * A tar archive streamed to an output as entries are added. Every step fails as soon as the output
 * fails (a full disk, a closed pipe) or `signal` aborts, instead of waiting for an entry that can
 * no longer be written. Entries get uid and gid 0, empty owner names and the given mtime.
 */
export class TarSink {
  readonly #pack = tar.pack();
  readonly #mtime: Date;
  readonly #streaming: Promise<void>;
  readonly #stopped: Promise<never>;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;
  /** Buffers that `readFile` reuses, with `reuseReadBuffers`. */
  readonly #buffers: ReadBufferPool | undefined;

  /**
   * `reuseReadBuffers` is for an output that is done with each chunk once the chunk's write
   * callback has run, as Node's own file streams and sockets are. Files read with `readFile`, and
   * layer streams given `chunkMemory`, then go through a few buffers that are refilled once the
   * output has written them. Each write passes through a relay that reports when.
   */
  constructor(
    output: Writable,
    mtime: Date,
    signal?: AbortSignal,
    options: { reuseReadBuffers?: boolean } = {},
  ) {
    this.#mtime = mtime;
    this.#signal = signal;
    if (options.reuseReadBuffers === true) {
      const buffers = new ReadBufferPool();
      this.#buffers = buffers;
      this.#streaming = pipeline(
        this.#pack,
        relayWrites(output, (chunk) => buffers.recycle(chunk)),
      );
    } else {
      this.#streaming = pipeline(this.#pack, output);
    }

    let stop: (reason: unknown) => void = () => undefined;
    this.#stopped = new Promise<never>((_resolve, reject) => {
      stop = reject;
    });
    // Handled here so that a stop no step is waiting on is not an unhandled rejection.
    this.#stopped.catch(() => undefined);
    this.#streaming.catch(stop);
    this.#onAbort = () => stop(signal?.reason);
    if (signal?.aborted) {
      stop(signal.reason);
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Adds a folder entry (`name` ends with `/`), mode 0755. */
  addDirectory(name: string): Promise<void> {
    return this.#untilStopped(
      () =>
        new Promise((resolve, reject) => {
          this.#pack.entry({ ...this.#header(name), type: 'directory', mode: 0o755 }, (error) =>
            error ? reject(error) : resolve(),
          );
        }),
    );
  }

  /** Adds a file entry with `content`, mode 0644, and waits until it is written. */
  addFile(name: string, content: string): Promise<void> {
    return this.#untilStopped(
      () =>
        new Promise((resolve, reject) => {
          this.#pack.entry(
            { ...this.#header(name), type: 'file', mode: 0o644 },
            content,
            (error) => (error ? reject(error) : resolve()),
          );
        }),
    );
  }

  /**
   * Adds a file entry whose `size` bytes come from `source`, and waits until it is written. A
   * failing source rejects with its own error, which names the file that could not be read.
   */
  addStream(name: string, size: number, source: Readable): Promise<void> {
    this.#stopped.catch(() => source.destroy());
    const write = () =>
      new Promise<void>((resolve, reject) => {
        const entry = this.#pack.entry(
          { ...this.#header(name), type: 'file', mode: 0o644, size },
          (error) => (error ? reject(entryError(name, error)) : resolve()),
        );
        // Once the source has failed, the entry's own error only repeats it; without a listener it
        // would be thrown as an uncaught 'error' event.
        entry.on('error', () => undefined);
        source.on('error', (error) => {
          reject(error);
          entry.destroy(error);
        });
        source.pipe(entry);
      });
    return this.#untilStopped(write);
  }

  /**
   * Memory for the chunks of a layer stream, for `addStream`, with `reuseReadBuffers`: buffers
   * that the sink takes back once the output has written them.
   */
  get chunkMemory(): ChunkMemory | undefined {
    return this.#buffers;
  }

  /**
   * Returns a stream of the bytes of the file at `path`, for `addStream`. With `reuseReadBuffers`,
   * its chunks are read into a few buffers that are filled again once the output has written
   * them. Otherwise every chunk is a new buffer.
   */
  readFile(path: string): Readable {
    return (
      this.#buffers?.readFile(path) ?? createReadStream(path, { highWaterMark: READ_CHUNK_SIZE })
    );
  }

  /** Writes the end of the archive and waits until the output has taken every byte. */
  async finish(): Promise<void> {
    this.#pack.finalize();
    await this.#untilStopped(() => this.#streaming);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  /** Abandons the archive after a failure and waits until the output is closed. */
  async destroy(error: Error): Promise<void> {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#pack.destroy(error);
    await this.#streaming.catch(() => undefined);
  }

  #header(name: string) {
    return { name, mtime: this.#mtime, uid: 0, gid: 0, uname: '', gname: '' };
  }

  /**
   * Starts a step with `start` and waits for it, or for the sink to stop. Once a failing output
   * has destroyed the pack, tar-stream would reject a new entry with its own "already finalized
   * or destroyed", so the step is not started and the sink's stop reason, the output's error, is
   * raised instead.
   */
  #untilStopped<T>(start: () => Promise<T>): Promise<T> {
    if (this.#pack.destroyed) {
      return this.#stopped;
    }
    return Promise.race([start(), this.#stopped]);
  }
}

/** Keeps a system error (a full disk) as it is, for the caller to name the output file. */
function entryError(name: string, error: Error): Error {
  if ('syscall' in error) {
    return error;
  }
  return new ImageError('LAYER_MISMATCH', `writing ${name}: ${error.message}`, { cause: error });
}
