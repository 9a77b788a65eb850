import { Readable } from 'node:stream';
import { createDigester, type Digest, type Digester } from '@storepack/image-spec';
import { ChunkChannel, CONSUMER_STOPPED } from './chunk-channel.js';
import { LayerError } from './errors.js';
import { type HashSession, sharedHashThread } from './hash-thread.js';
import { type LayerEntry, paddedSize } from './layer-entry.js';
import { END_OF_ARCHIVE_SIZE } from './measure-layer.js';
import { openFile, readWholeFileInto } from './read-file.js';
import { entryHeader } from './tar-header.js';

/** A finished stream: its byte count, and its diff ID once it has been hashed. */
export interface StreamResult {
  /** Returns the diff ID, waiting for the hash thread to reach the end of the stream if need be. */
  diffId(): Digest;
  bytes: number;
}

/** Bytes of tar gathered before they are hashed and pushed as one chunk. */
const BATCH_SIZE = 512 * 1024;

/** Files up to this size are read whole, with synchronous calls, straight into the batch. */
const WHOLE_FILE_MAX_SIZE = 256 * 1024;

/**
 * The destination of the writer's chunks. `put` resolves when the writer may go on. With `reuse`,
 * the chunk's memory is then free again, and the writer fills it with later bytes.
 */
interface ChunkSink {
  readonly reuse: boolean;
  /**
   * Makes every chunk but the last fill its buffer from `memory`, so that chunks start at fixed
   * offsets of the tar. Entries then continue from one chunk into the next.
   */
  readonly exact?: boolean;
  /** The source of batches instead, for a consumer that hands them back itself. */
  readonly memory?: ChunkMemory | undefined;
  /** Rejects with CONSUMER_STOPPED once the consumer has stopped, ending a wait for `memory`. */
  readonly stopped?: Promise<never>;
  put(chunk: Buffer): Promise<void>;
}

/**
 * Memory for the chunks of a layer stream, from a consumer that is notified when each chunk has
 * been written. The consumer then hands the chunk's buffer (`chunk.buffer`) back to where `take` found
 * it, so that later chunks are written into the same memory.
 */
export interface ChunkMemory {
  /** Resolves to a buffer of at least 512 KiB for one chunk, waiting while every one is in use. */
  take(): Promise<Buffer>;
  /** Hands back a buffer from `take` that the stream pushed no chunk of. */
  giveBack(buffer: Buffer): void;
}

/**
 * Streams the tar of `entries`, hashing the bytes as they pass. `mtime` is in seconds. Headers and
 * small files are gathered into chunks of 512 KiB, or of the size of the buffers from `memory`.
 * Large files are read a chunk at a time, each read running while the chunk before it is hashed
 * and pushed. `onEnd` runs when the stream emits 'end', before any listener the caller adds
 * later. The stream fails with a LayerError when a file cannot be read or changed since it was
 * recorded, or when the byte count differs from `size`. Nothing is read before the first chunk
 * is requested.
 */
export function streamLayer(
  entries: readonly LayerEntry[],
  mtime: number,
  size: number,
  onEnd: (result: StreamResult) => void,
  hashing: Hashing = 'thread',
  memory?: ChunkMemory,
): Readable {
  let result: StreamResult | undefined;
  let started = false;
  let wake: (() => void) | undefined;
  const resume = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  // A consumer that stops may keep the buffers of `memory`, so the writer must not wait for them.
  let stop: (reason: unknown) => void = () => undefined;
  const stopped = new Promise<never>((_resolve, reject) => (stop = reject));
  stopped.catch(() => undefined);

  const stream = new Readable({
    // Room for a second chunk, so that the next one is gathered while a consumer takes the first.
    highWaterMark: 2 * BATCH_SIZE,
    read() {
      if (started) {
        resume();
        return;
      }
      started = true;
      const sink: ChunkSink = {
        reuse: false,
        memory,
        stopped,
        put: async (chunk) => {
          if (stream.destroyed) {
            throw CONSUMER_STOPPED;
          }
          if (!stream.push(chunk)) {
            await new Promise<void>((resolve) => (wake = resolve));
            if (stream.destroyed) {
              throw CONSUMER_STOPPED;
            }
          }
        },
      };
      const writer = new TarWriter(sink, size, hashing);
      writer.write(entries, mtime).then(
        (bytes) => {
          result = { diffId: writer.diffId(), bytes };
          stream.push(null);
        },
        (error: unknown) => {
          if (error !== CONSUMER_STOPPED) {
            stream.destroy(error as Error);
          }
        },
      );
    },
    destroy(error, callback) {
      resume();
      stop(CONSUMER_STOPPED);
      callback(error);
    },
  });
  stream.once('end', () => {
    if (result !== undefined) {
      onEnd(result);
    }
  });
  return stream;
}

/**
 * Streams the same tar as {@link streamLayer}, as an async iterable whose chunks are only valid
 * until the next one is requested: their memory is then filled with later bytes, so that a
 * consumer that copies or writes each chunk at once leaves no garbage behind. `onEnd` runs before
 * the last request completes. Without `onEnd`, nothing is hashed, for a consumer that hashes the
 * bytes itself. Breaking out of the loop closes the file being read.
 */
export function layerChunks(
  entries: readonly LayerEntry[],
  mtime: number,
  size: number,
  onEnd?: (result: StreamResult) => void,
  hashing: Hashing = 'thread',
): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      const channel = new ChunkChannel();
      const sink: ChunkSink = { reuse: true, put: (chunk) => channel.put(chunk) };
      const writer = new TarWriter(sink, size, onEnd === undefined ? 'none' : hashing);
      writer.write(entries, mtime).then(
        (bytes) => {
          onEnd?.({ diffId: writer.diffId(), bytes });
          channel.end();
        },
        (error: unknown) => {
          if (error !== CONSUMER_STOPPED) {
            channel.fail(error);
          }
        },
      );
      return channel[Symbol.asyncIterator]();
    },
  };
}

/**
 * Streams the same tar as {@link layerChunks}, unhashed, in buffers taken from `memory`. Every
 * chunk but the last fills its buffer, and each chunk is the consumer's once received: the
 * consumer hands its buffer back to `memory` when done with it. Breaking out of the loop closes
 * the file being read.
 */
export function layerFrames(
  entries: readonly LayerEntry[],
  mtime: number,
  size: number,
  memory: ChunkMemory,
): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      const channel = new ChunkChannel();
      const sink: ChunkSink = {
        reuse: false,
        exact: true,
        memory,
        put: (chunk) => channel.put(chunk),
      };
      const writer = new TarWriter(sink, size, 'none');
      writer.write(entries, mtime).then(
        () => channel.end(),
        (error: unknown) => {
          if (error !== CONSUMER_STOPPED) {
            channel.fail(error);
          }
        },
      );
      return channel[Symbol.asyncIterator]();
    },
  };
}

/**
 * Batches that writers reusing their memory left when they finished, for the next such writer,
 * so that the layers of a build do not each leave theirs to the garbage collector.
 */
const spareBatches: Buffer[] = [];

/** Maximum number of batches in `spareBatches`: two for each of a few layers streaming at once. */
const MAX_SPARE_BATCHES = 8;

/**
 * The place a stream's bytes are hashed: the process's hash thread (the calling thread on a
 * machine with one core), the calling thread, or none.
 */
export type Hashing = 'thread' | 'inline' | 'none';

/** Gathers tar bytes into batches and puts them, hashed if requested, into a sink. */
class TarWriter {
  /** The batch being filled: never one that was pushed. Empty until `write` starts. */
  #batch: Buffer = Buffer.alloc(0);
  #filled = 0;
  #bytes = 0;
  readonly #digester: Digester | undefined;
  readonly #session: HashSession | undefined;
  readonly #spare: Buffer[] = [];
  /** A small file that `#writeAcross` continues from one batch into the next. */
  #across: Buffer | undefined;

  constructor(
    private readonly sink: ChunkSink,
    private readonly size: number,
    hashing: Hashing,
  ) {
    this.#session = hashing === 'thread' ? sharedHashThread()?.open() : undefined;
    this.#digester =
      hashing !== 'none' && this.#session === undefined ? createDigester('sha256') : undefined;
  }

  /**
   * Returns a function that gives the SHA-256 of the bytes written, once `write` has finished. The
   * function refers to the hash only, so that the writer's batches can be collected.
   */
  diffId(): () => Digest {
    const session = this.#session;
    const digester = this.#digester;
    let diffId: Digest | undefined;
    return () => {
      diffId ??= session?.digest() ?? digester?.digest();
      if (diffId === undefined) {
        throw new LayerError('NOT_FINISHED', 'computing diff ID: this stream was not hashed');
      }
      return diffId;
    };
  }

  /** Writes the tar of `entries` and returns its byte count. */
  async write(entries: readonly LayerEntry[], mtime: number): Promise<number> {
    try {
      this.#batch = await this.#newBatch();
      const bytes = await this.#write(entries, mtime);
      await this.#session?.finish();
      return bytes;
    } catch (error) {
      this.#session?.drop();
      throw error;
    } finally {
      if (this.#batch.length > 0) {
        this.sink.memory?.giveBack(this.#batch);
      }
    }
  }

  async #write(entries: readonly LayerEntry[], mtime: number): Promise<number> {
    for (const entry of entries) {
      if (entry.type === 'file' && entry.size > WHOLE_FILE_MAX_SIZE) {
        await this.#writeLargeFile(entry, entryHeader(entry, mtime));
        continue;
      }
      const header = entryHeader(entry, mtime);
      const content = entry.type === 'file' ? paddedSize(entry.size) : 0;
      // One byte more than the file, where its read shows that the file grew.
      if (this.#filled + header.length + content + 1 > this.#batch.length) {
        if (this.sink.exact) {
          await this.#writeAcross(entry, header, content);
          continue;
        }
        await this.#flush();
      }
      this.#filled += header.copy(this.#batch, this.#filled);
      if (entry.type === 'file') {
        readWholeFileInto(entry, this.#batch, this.#filled);
        this.#batch.fill(0, this.#filled + entry.size, this.#filled + content);
        this.#filled += content;
      }
    }
    await this.#zeros(END_OF_ARCHIVE_SIZE);
    await this.#flushLast();
    if (this.#bytes !== this.size) {
      throw sizeError(this.size, String(this.#bytes));
    }
    if (this.sink.reuse) {
      // The consumer has requested the end, so it reads none of the batches any more.
      for (const batch of [this.#batch, ...this.#spare]) {
        if (spareBatches.length < MAX_SPARE_BATCHES) {
          spareBatches.push(batch);
        }
      }
    }
    return this.#bytes;
  }

  async #writeLargeFile(entry: LayerEntry & { type: 'file' }, header: Buffer): Promise<void> {
    if (this.sink.exact) {
      await this.#writeLargeFileAcross(entry, header);
      return;
    }
    const file = openFile(entry);
    try {
      if (this.#filled + header.length > this.#batch.length) {
        await this.#flush();
      }
      this.#filled += header.copy(this.#batch, this.#filled);
      let position = 0;
      while (position < entry.size) {
        // Each read goes into a new batch, while the bytes before it are hashed and pushed.
        const before = this.#filled > 0 ? await this.#take() : undefined;
        const length = Math.min(this.#batch.length, entry.size - position);
        const reading = file.readInto(this.#batch, 0, length, position);
        if (before !== undefined) {
          reading.catch(() => undefined);
          await this.#emit(before);
        }
        const bytesRead = await reading;
        this.#filled += bytesRead;
        position += bytesRead;
      }
      // The batch holding the last bytes goes out only after these checks pass.
      file.check();
    } finally {
      file.close();
    }
    await this.#zeros(paddedSize(entry.size) - entry.size);
  }

  /**
   * Writes a large file into the batches from where the last entry ended, each read filling what
   * is left of a batch. A full batch goes out only when more bytes need room, so the batch holding
   * the file's last bytes waits for the checks.
   */
  async #writeLargeFileAcross(entry: LayerEntry & { type: 'file' }, header: Buffer): Promise<void> {
    const file = openFile(entry);
    try {
      await this.#put(header);
      let position = 0;
      while (position < entry.size) {
        await this.#makeRoom();
        const length = Math.min(this.#batch.length - this.#filled, entry.size - position);
        const bytesRead = await file.readInto(this.#batch, this.#filled, length, position);
        this.#filled += bytesRead;
        position += bytesRead;
      }
      file.check();
    } finally {
      file.close();
    }
    await this.#zeros(paddedSize(entry.size) - entry.size);
  }

  /**
   * Writes an entry that does not fit in what is left of the batch: its header, then its file,
   * each continued into the next batch. The file is read and checked whole, into a buffer of its
   * own, before any byte of the entry goes out.
   */
  async #writeAcross(entry: LayerEntry, header: Buffer, content: number): Promise<void> {
    if (entry.type !== 'file') {
      await this.#put(header);
      return;
    }
    this.#across ??= Buffer.allocUnsafe(WHOLE_FILE_MAX_SIZE + 1);
    readWholeFileInto(entry, this.#across, 0);
    await this.#put(header);
    await this.#put(this.#across.subarray(0, entry.size));
    await this.#zeros(content - entry.size);
  }

  /** Copies `bytes` into the batches, putting out each one that fills. */
  async #put(bytes: Buffer): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      await this.#makeRoom();
      const copied = bytes.copy(this.#batch, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
    }
  }

  /**
   * Puts out the batch if it is full, then takes the next. Unlike `#flush`, the batch goes out
   * before the next is taken, so that a consumer that lends one buffer at a time can still go on.
   */
  async #makeRoom(): Promise<void> {
    if (this.#filled < this.#batch.length) {
      return;
    }
    await this.#emitBatch();
    this.#batch = await this.#newBatch();
  }

  async #zeros(count: number): Promise<void> {
    if (this.sink.exact) {
      let left = count;
      while (left > 0) {
        await this.#makeRoom();
        const length = Math.min(left, this.#batch.length - this.#filled);
        this.#batch.fill(0, this.#filled, this.#filled + length);
        this.#filled += length;
        left -= length;
      }
      return;
    }
    if (this.#filled + count > this.#batch.length) {
      await this.#flush();
    }
    this.#batch.fill(0, this.#filled, this.#filled + count);
    this.#filled += count;
  }

  async #newBatch(): Promise<Buffer> {
    if (this.sink.memory === undefined) {
      return (this.sink.reuse ? spareBatches.pop() : undefined) ?? Buffer.allocUnsafe(BATCH_SIZE);
    }
    const memory = this.sink.memory;
    const taking = memory.take();
    let buffer: Buffer;
    try {
      buffer = await (this.sink.stopped ? Promise.race([taking, this.sink.stopped]) : taking);
    } catch (error) {
      // The buffer, should it still come, goes back to the memory it came from.
      taking.then((late) => memory.giveBack(late)).catch(() => undefined);
      throw error;
    }
    if (buffer.length < BATCH_SIZE) {
      this.sink.memory.giveBack(buffer);
      throw new LayerError(
        'INVALID_OPTIONS',
        `streaming layer: a chunk buffer of ${buffer.length} bytes is smaller than the ${BATCH_SIZE} bytes a chunk may take`,
      );
    }
    return buffer;
  }

  /** Takes the gathered bytes out and starts a new batch. */
  async #take(): Promise<Buffer> {
    const next = this.#spare.pop() ?? (await this.#newBatch());
    const full = this.#batch.subarray(0, this.#filled);
    this.#batch = next;
    this.#filled = 0;
    return full;
  }

  async #flush(): Promise<void> {
    if (this.#filled > 0) {
      await this.#emit(await this.#take());
    }
  }

  /**
   * Puts out the last bytes. A writer with `memory` takes no new buffer after them, since it
   * would only go back unused.
   */
  async #flushLast(): Promise<void> {
    if (this.sink.memory === undefined || this.#filled === 0) {
      await this.#flush();
      return;
    }
    await this.#emitBatch();
  }

  /**
   * Puts out the bytes gathered and leaves the writer without a batch, so that a failure before
   * the next one is taken hands nothing back to `memory` that the consumer has received.
   */
  async #emitBatch(): Promise<void> {
    const chunk = this.#batch.subarray(0, this.#filled);
    this.#batch = Buffer.alloc(0);
    this.#filled = 0;
    await this.#emit(chunk);
  }

  async #emit(chunk: Buffer): Promise<void> {
    this.#bytes += chunk.byteLength;
    if (this.#bytes > this.size) {
      throw sizeError(this.size, `more than ${this.size}`);
    }
    this.#digester?.update(chunk);
    await this.#session?.update(chunk);
    await this.sink.put(chunk);
    if (this.sink.reuse) {
      // Every chunk starts a batch of its own, so the whole batch is free again.
      this.#spare.push(Buffer.from(chunk.buffer, chunk.byteOffset, BATCH_SIZE));
    }
  }
}

function sizeError(expected: number, actual: string): LayerError {
  return new LayerError(
    'SIZE_MISMATCH',
    `streaming layer: produced ${actual} bytes, ${expected} computed in advance`,
  );
}
