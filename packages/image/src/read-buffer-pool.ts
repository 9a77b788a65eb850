import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { READ_CHUNK_SIZE } from './read-chunk-size.js';

/** Buffers of a pool: enough for reads to run ahead of the output's writes. */
const POOL_SIZE = 4;

/**
 * A few read buffers that files are streamed through and that are filled again once the output
 * has written them (see `recycle`), so that copying blobs of hundreds of MiB leaves no garbage.
 * With a new buffer for every read, the garbage collector ran every few MiB. Each new buffer also
 * needed memory pages that the system had not handed out yet, which was slow on the 2-core
 * virtual machine the benchmarks ran on.
 */
export class ReadBufferPool {
  readonly #free: Buffer[] = [];
  /** Chunks handed out, with the buffer each one is a view of. */
  readonly #lent = new Map<Buffer, Buffer>();
  readonly #waiting: ((buffer: Buffer) => void)[] = [];
  #created = 0;

  /**
   * Returns a stream of the bytes of the file at `path`, each chunk read into one of the pool's
   * buffers, which is refilled only after `recycle` has been called with that chunk.
   */
  readFile(path: string): Readable {
    let file: FileHandle | undefined;
    const take = () => this.#take();
    const lend = (chunk: Buffer, buffer: Buffer) => this.#lent.set(chunk, buffer);
    const giveBack = (buffer: Buffer) => this.#giveBack(buffer);
    return new Readable({
      highWaterMark: 2 * READ_CHUNK_SIZE,
      construct(callback) {
        open(path).then(
          (handle) => {
            file = handle;
            callback();
          },
          (error: Error) => callback(error),
        );
      },
      read() {
        const handle = file as FileHandle;
        take()
          .then(async (buffer) => {
            const { bytesRead } = await handle
              .read(buffer, 0, buffer.length, null)
              .catch((error: Error) => {
                giveBack(buffer);
                throw Object.assign(error, { path });
              });
            if (bytesRead === 0) {
              giveBack(buffer);
              this.push(null);
              return;
            }
            const chunk = buffer.subarray(0, bytesRead);
            lend(chunk, buffer);
            this.push(chunk);
          })
          .catch((error: Error) => this.destroy(error));
      },
      destroy(error, callback) {
        if (file === undefined) {
          callback(error);
          return;
        }
        file.close().then(
          () => callback(error),
          (closeError: Error) => callback(error ?? closeError),
        );
      },
    });
  }

  /** Takes back the buffer of `chunk` once the output has written it. Other chunks are ignored. */
  recycle(chunk: Buffer): void {
    const buffer = this.#lent.get(chunk);
    if (buffer !== undefined) {
      this.#lent.delete(chunk);
      this.#giveBack(buffer);
    }
  }

  #take(): Promise<Buffer> {
    const free = this.#free.pop();
    if (free !== undefined) {
      return Promise.resolve(free);
    }
    if (this.#created < POOL_SIZE) {
      this.#created++;
      return Promise.resolve(Buffer.allocUnsafeSlow(READ_CHUNK_SIZE));
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #giveBack(buffer: Buffer): void {
    const waiting = this.#waiting.shift();
    if (waiting !== undefined) {
      waiting(buffer);
    } else {
      this.#free.push(buffer);
    }
  }
}
