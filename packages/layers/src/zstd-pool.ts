import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Digest } from '@storepack/image-spec';
import { LayerError } from './errors.js';
import { WRITE_PIECE_SIZE } from './write-in-pieces.js';

/** The zstd level of layer blobs, the zstd command's default. */
export const ZSTD_LEVEL = 3;

/**
 * The zstd release that both compressor packages bundle. It fixes the bytes of zstd blobs, and both
 * packages give the same frames for the same input and level, as a test checks.
 */
export const ZSTD_VERSION = '1.5.7';

/**
 * The zstd library of a pool. `native` is the C library in the `zstd-napi` addon, an optional
 * dependency that needs a compiler at install. `wasm` is the same C sources built to WebAssembly in
 * `@bokuweb/zstd-wasm`, which installs anywhere and runs at about half the speed.
 */
export type ZstdLibrary = 'native' | 'wasm';

// The native package's binding module, because its one-shot call writes into a buffer it is given,
// which lets a frame be compressed straight into shared memory.
const MODULES: Record<ZstdLibrary, string> = {
  native: 'zstd-napi/binding.js',
  wasm: '@bokuweb/zstd-wasm',
};

/**
 * Shared buffers a pool keeps per worker, for frames and their output: enough for two layers per
 * worker with two frames each in flight. Past the limit, buffers are ordinary ones moved between
 * threads, which the garbage collector then has to count and free.
 */
const SHARED_BUFFERS_PER_WORKER = 6;

let defaultLibrary: ZstdLibrary | undefined;

/** Returns `native` when the `zstd-napi` addon loads in this process, `wasm` otherwise. */
export function defaultZstdLibrary(): ZstdLibrary {
  if (defaultLibrary === undefined) {
    try {
      createRequire(import.meta.url)(MODULES.native);
      defaultLibrary = 'native';
    } catch {
      defaultLibrary = 'wasm';
    }
  }
  return defaultLibrary;
}

/** Returns the maximum size of a zstd frame of `size` input bytes, as zstd's `ZSTD_COMPRESSBOUND`. */
function zstdCompressBound(size: number): number {
  const small = 128 * 1024;
  return size + Math.floor(size / 256) + (size < small ? Math.floor((small - size) / 2048) : 0);
}

// The worker runs from a string, so that it needs no file of its own next to the compiled module
// and also runs when tests load the TypeScript sources. Dynamic imports work whether Node evaluates
// it as CommonJS or, under `--input-type=module`, as an ES module.
// Shared buffers reach a worker once, with the first message that uses them, and are named by
// number after that, so that no message carries memory the garbage collector must track. A
// session is one layer pinned to one worker, which hashes its tar, compresses it frame by frame in
// order, hashes the frames and writes them to the session's file descriptor.
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { createHash } = await import('node:crypto');
  const { writeSync } = await import('node:fs');
  const loaded = await import(workerData.moduleUrl);
  const zstd = loaded.default ?? loaded;
  let compress;
  if (workerData.library === 'native') {
    const context = new zstd.CCtx();
    compress = (input, output, level) => {
      const bound = zstd.compressBound(input.byteLength);
      const target = output !== undefined && output.byteLength >= bound ? output : new Uint8Array(bound);
      return { output: target, size: context.compress(target, input, level) };
    };
  } else {
    await zstd.init();
    compress = (input, output, level) => {
      const frame = zstd.compress(input, level);
      if (output === undefined || output.byteLength < frame.byteLength) {
        return { output: frame, size: frame.byteLength };
      }
      output.set(frame);
      return { output, size: frame.byteLength };
    };
  }
  const describe = (error) => String((error && error.message) || error);
  const shared = new Map();
  const sessions = new Map();
  let scratch;
  const view = (input, inputLength) =>
    typeof input === 'number' ? shared.get(input).subarray(0, inputLength) : input;

  const handlers = {
    job({ id, input, inputLength, output, level }) {
      try {
        const target = typeof output === 'number' ? shared.get(output) : undefined;
        const result = compress(view(input, inputLength), target, level);
        if (result.output === target) {
          parentPort.postMessage({ id, size: result.size });
        } else {
          parentPort.postMessage({ id, size: result.size, output: result.output }, [result.output.buffer]);
        }
      } catch (error) {
        parentPort.postMessage({ id, error: describe(error) });
      }
    },
    open({ session, fd, level }) {
      const tar = createHash('sha256');
      const blob = createHash('sha256');
      sessions.set(session, { fd, level, tar, blob, size: 0, bytes: 0, error: undefined });
    },
    write({ session, input, inputLength }) {
      const state = sessions.get(session);
      if (state.error === undefined) {
        try {
          const frame = view(input, inputLength);
          state.tar.update(frame);
          state.bytes += frame.byteLength;
          const result = compress(frame, scratch, state.level);
          scratch = result.output;
          const bytes = result.output.subarray(0, result.size);
          state.blob.update(bytes);
          let written = 0;
          while (written < bytes.byteLength) {
            // In pieces of writeInPieces' smaller size, because the worker cannot import it.
            const length = Math.min(${WRITE_PIECE_SIZE}, bytes.byteLength - written);
            written += writeSync(state.fd, bytes, written, length);
          }
          state.size += result.size;
        } catch (error) {
          state.error = { message: describe(error), code: error && error.code };
        }
      }
      // A failed write is reported at once, so that the layer's reads stop early.
      const failure = state.error ?? {};
      parentPort.postMessage({ session, written: true, error: failure.message, code: failure.code });
    },
    finish({ session }) {
      const state = sessions.get(session);
      sessions.delete(session);
      if (state.error !== undefined) {
        parentPort.postMessage({ session, error: state.error.message, code: state.error.code });
        return;
      }
      const result = {
        diffId: 'sha256:' + state.tar.digest('hex'),
        digest: 'sha256:' + state.blob.digest('hex'),
        size: state.size,
        bytes: state.bytes,
      };
      parentPort.postMessage({ session, result });
    },
    abort({ session }) {
      sessions.delete(session);
      parentPort.postMessage({ session, aborted: true });
    },
  };

  parentPort.on('message', (message) => {
    for (const [slot, buffer] of message.share) {
      shared.set(slot, new Uint8Array(buffer));
    }
    handlers[message.kind](message);
  });
})();
`;

/** The hashes and sizes that a session's worker computed over the layer it wrote. */
export interface ZstdSessionResult {
  /** SHA-256 of the uncompressed bytes. */
  diffId: Digest;
  /** SHA-256 of the zstd bytes written. */
  digest: Digest;
  /** Bytes written. */
  size: number;
  /** Uncompressed bytes. */
  bytes: number;
}

/**
 * One layer compressed on one worker, which hashes the frames it is given, compresses them in
 * order and writes them to a file descriptor. See {@link ZstdPool.openSession}.
 */
export interface ZstdSession {
  /**
   * Queues the next frame. The buffer is the pool's again once the returned promise resolves,
   * which is when the worker has written the frame.
   */
  write(frame: Uint8Array): Promise<void>;
  /** Waits for every queued frame and returns the hashes and sizes; fails if a write failed. */
  finish(): Promise<ZstdSessionResult>;
  /** Drops the session once its queued frames are done, after which the descriptor may close. */
  abort(): Promise<void>;
}

interface Job {
  id: number;
  /** The input: a shared buffer's number, or bytes moved to the worker. */
  input: number | Uint8Array;
  inputLength: number;
  /** The shared buffer the frame is written into, if any. */
  output: number | undefined;
  level: number;
  resolve: (output: Buffer) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  job: Job | undefined;
  /** Numbers of the shared buffers this worker has been sent. */
  known: Set<number>;
  /** Sessions open on this worker. */
  sessions: Set<SessionState>;
}

interface SessionState {
  id: number;
  /** Frames sent and not yet written, oldest first, with their shared buffer's number. */
  writes: { input: number | undefined; resolve: () => void; reject: (error: unknown) => void }[];
  end:
    | { resolve: (result?: ZstdSessionResult) => void; reject: (error: unknown) => void }
    | undefined;
}

interface SessionMessage {
  session: number;
  written?: boolean;
  result?: ZstdSessionResult;
  aborted?: boolean;
  error?: string;
  code?: string;
}

/**
 * Compresses buffers into zstd frames on worker threads, one frame per worker at a time, so that
 * frames of one layer or of several layers compress on all cores at once. Frames are filled and
 * written out in buffers shared with the workers (see `takeBuffer`, `compress` and `recycle`), which
 * the pool keeps until it is closed. A session (`openSession`) instead keeps a whole layer on one
 * worker, which also hashes and writes it.
 */
export class ZstdPool {
  readonly #size: number;
  readonly #library: ZstdLibrary;
  readonly #workers: PoolWorker[] = [];
  readonly #queue: Job[] = [];
  readonly #shared: SharedArrayBuffer[] = [];
  readonly #numbers = new Map<ArrayBufferLike, number>();
  readonly #spareInputs: number[] = [];
  readonly #spareOutputs: number[] = [];
  readonly #inputNumbers = new Set<number>();
  readonly #sessions = new Map<number, SessionState>();
  #nextId = 0;
  #busy = 0;
  #peakBusy = 0;

  /** Creates a pool of at most `size` workers, started when the first frames arrive. */
  constructor(size = availableParallelism(), library: ZstdLibrary = defaultZstdLibrary()) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new LayerError(
        'INVALID_OPTIONS',
        `invalid zstd pool size ${String(size)}: expected a whole number of workers, 1 or more`,
      );
    }
    this.#size = size;
    this.#library = library;
  }

  /** The zstd library of this pool's workers. */
  get library(): ZstdLibrary {
    return this.#library;
  }

  /** Maximum number of frames that compressed at the same time so far. */
  get peakBusy(): number {
    return this.#peakBusy;
  }

  /**
   * Returns a buffer of `size` bytes to fill with a frame: memory shared with the workers, which
   * `compress` takes back once the frame is compressed.
   */
  takeBuffer(size: number): Uint8Array {
    const buffer = this.#sharedBuffer(this.#spareInputs, size, size);
    if (buffer === undefined) {
      return new Uint8Array(size);
    }
    this.#inputNumbers.add(this.#numbers.get(buffer.buffer) as number);
    return buffer;
  }

  /**
   * Compresses `input` into one zstd frame. The input is the pool's again and unusable after.
   * With `reusable`, the frame is written into shared memory, which the caller hands back with
   * `recycle` once it no longer reads it. Without it, the frame is the caller's to keep.
   */
  compress(input: Uint8Array, level = ZSTD_LEVEL, reusable = false): Promise<Buffer> {
    const inputNumber = this.#numbers.get(input.buffer);
    // Sized for a whole input buffer, so that the output of a short last frame fits any later one.
    const bound = zstdCompressBound(input.buffer.byteLength);
    const output = reusable
      ? this.#number(
          this.#sharedBuffer(this.#spareOutputs, zstdCompressBound(input.byteLength), bound),
        )
      : undefined;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        id: this.#nextId++,
        input: inputNumber !== undefined && input.byteOffset === 0 ? inputNumber : input,
        inputLength: input.byteLength,
        output,
        level,
        resolve,
        reject,
      });
      this.#dispatch();
    });
  }

  /**
   * Hands back a frame that `compress` wrote into shared memory, once nothing reads it any more,
   * or a buffer from `takeBuffer` that was not sent, so that a later frame uses its memory. The
   * buffer must not be used after this call.
   */
  recycle(frame: Uint8Array): void {
    const number = this.#numbers.get(frame.buffer);
    this.#release(
      number !== undefined && this.#inputNumbers.has(number)
        ? this.#spareInputs
        : this.#spareOutputs,
      number,
    );
  }

  /**
   * Opens a session on one worker for one layer: frames passed to `write` (best from
   * `takeBuffer`) are hashed, compressed at `level` and written to `fd` in order, on that worker.
   * Sessions go to the worker with the fewest, so several layers compress on all cores at once.
   * With `worker`, the session goes to the worker of that number, counted modulo the pool's size,
   * so that layers sent one after another to one worker queue behind each other. The descriptor
   * must stay open until `finish` or `abort` has settled.
   */
  openSession(fd: number, level = ZSTD_LEVEL, worker?: number): ZstdSession {
    if (worker !== undefined && (!Number.isSafeInteger(worker) || worker < 0)) {
      throw new LayerError(
        'INVALID_OPTIONS',
        `invalid zstd worker number ${String(worker)}: expected a whole number, 0 or more`,
      );
    }
    const entry = worker === undefined ? this.#leastBusyWorker() : this.#workerAt(worker);
    const state: SessionState = { id: this.#nextId++, writes: [], end: undefined };
    this.#sessions.set(state.id, state);
    entry.sessions.add(state);
    entry.worker.ref();
    this.#post(entry, { kind: 'open', session: state.id, fd, level });

    const closing = (kind: 'finish' | 'abort') =>
      new Promise<ZstdSessionResult | undefined>((resolve, reject) => {
        if (!this.#sessions.has(state.id) || state.end !== undefined) {
          reject(compressionError('the session is closed or closing'));
          return;
        }
        state.end = { resolve, reject };
        this.#post(entry, { kind, session: state.id });
      });

    return {
      write: (frame) =>
        new Promise((resolve, reject) => {
          if (!this.#sessions.has(state.id) || state.end !== undefined) {
            reject(compressionError('the session is closed'));
            return;
          }
          const number = this.#numbers.get(frame.buffer);
          const input = number !== undefined && frame.byteOffset === 0 ? number : frame;
          state.writes.push({ input: number, resolve, reject });
          this.#post(
            entry,
            { kind: 'write', session: state.id, input, inputLength: frame.byteLength },
            [input],
          );
        }),
      finish: async () => (await closing('finish')) as ZstdSessionResult,
      abort: async () => {
        await closing('abort');
      },
    };
  }

  /**
   * Closes the pool, as `close` does, if no frame is queued or compressing and no session is open,
   * so that an idle pool keeps neither workers nor buffers. Returns whether it closed.
   */
  async closeIfIdle(): Promise<boolean> {
    const busy =
      this.#queue.length > 0 ||
      this.#sessions.size > 0 ||
      this.#workers.some((entry) => entry.job !== undefined);
    if (busy) {
      return false;
    }
    await this.close();
    return true;
  }

  /**
   * Stops every worker and lets go of the shared buffers. Frames still queued or compressing, and
   * open sessions, fail. The pool starts new workers for later frames.
   */
  async close(): Promise<void> {
    const reason = 'the pool was closed';
    for (const job of this.#queue.splice(0)) {
      job.reject(compressionError(reason));
    }
    const workers = this.#workers.splice(0);
    for (const entry of workers) {
      for (const state of [...entry.sessions]) {
        this.#settleSession(entry, { session: state.id, error: reason });
      }
    }
    this.#shared.length = 0;
    this.#numbers.clear();
    this.#inputNumbers.clear();
    this.#spareInputs.length = 0;
    this.#spareOutputs.length = 0;
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }

  /**
   * Returns a buffer from `spare` of at least `minimum` bytes, or a new one of `size` bytes while
   * the pool has fewer than its maximum, as a view of its first `minimum` bytes.
   */
  #sharedBuffer(spare: number[], minimum: number, size: number): Uint8Array | undefined {
    const index = spare.findIndex(
      (number) => (this.#shared[number] as SharedArrayBuffer).byteLength >= minimum,
    );
    if (index !== -1) {
      const number = spare.splice(index, 1)[0] as number;
      return new Uint8Array(this.#shared[number] as SharedArrayBuffer, 0, minimum);
    }
    if (this.#shared.length >= SHARED_BUFFERS_PER_WORKER * this.#size) {
      return undefined;
    }
    const buffer = new SharedArrayBuffer(size);
    this.#numbers.set(buffer, this.#shared.length);
    this.#shared.push(buffer);
    return new Uint8Array(buffer);
  }

  /** Returns a new worker while the pool has fewer than its size, else the one with the fewest sessions. */
  #leastBusyWorker(): PoolWorker {
    if (this.#workers.length < this.#size) {
      return this.#startWorker();
    }
    return this.#workers.reduce((fewest, entry) =>
      entry.sessions.size < fewest.sessions.size ? entry : fewest,
    ) as PoolWorker;
  }

  /**
   * Returns the worker at `number` modulo the pool's size, starting workers up to it. Workers are
   * numbered in the order they started, so after one has failed the numbers of the later ones
   * move down by one.
   */
  #workerAt(number: number): PoolWorker {
    const index = number % this.#size;
    while (this.#workers.length <= index) {
      this.#startWorker();
    }
    return this.#workers[index] as PoolWorker;
  }

  #number(view: Uint8Array | undefined): number | undefined {
    return view === undefined ? undefined : this.#numbers.get(view.buffer);
  }

  #release(spare: number[], number: number | undefined): void {
    if (number !== undefined && this.#shared[number] !== undefined) {
      spare.push(number);
    }
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let idle = this.#workers.find((entry) => entry.job === undefined);
      if (idle === undefined && this.#workers.length < this.#size) {
        idle = this.#startWorker();
      }
      if (idle === undefined) {
        return;
      }
      const job = this.#queue.shift() as Job;
      idle.job = job;
      this.#busy += 1;
      this.#peakBusy = Math.max(this.#peakBusy, this.#busy);
      // A busy worker keeps the process alive until its frame comes back; an idle one does not.
      idle.worker.ref();
      const { id, input, inputLength, output, level } = job;
      this.#post(idle, { kind: 'job', id, input, inputLength, output, level }, [input, output]);
    }
  }

  /**
   * Sends a message to a worker with the shared buffers among `buffers` that it has not seen yet,
   * and moves the other buffers among them to it.
   */
  #post(
    entry: PoolWorker,
    message: Record<string, unknown>,
    buffers: (number | Uint8Array | undefined)[] = [],
  ): void {
    const share: [number, SharedArrayBuffer][] = [];
    const transfer: ArrayBuffer[] = [];
    for (const buffer of buffers) {
      if (typeof buffer === 'number' && !entry.known.has(buffer)) {
        entry.known.add(buffer);
        share.push([buffer, this.#shared[buffer] as SharedArrayBuffer]);
      } else if (buffer instanceof Uint8Array && buffer.buffer instanceof ArrayBuffer) {
        // Memory shared with the workers is passed as it is; only other memory can be moved.
        transfer.push(buffer.buffer);
      }
    }
    entry.worker.postMessage({ ...message, share }, transfer);
  }

  #settleSession(entry: PoolWorker, message: SessionMessage, cause?: unknown): void {
    const state = this.#sessions.get(message.session);
    if (state === undefined) {
      return;
    }
    if (message.written === true) {
      const write = state.writes.shift();
      if (typeof write?.input === 'number') {
        this.#release(this.#spareInputs, write.input);
      }
      if (message.error === undefined) {
        write?.resolve();
      } else {
        write?.reject(sessionError(message.error, message.code));
      }
      return;
    }
    this.#sessions.delete(state.id);
    entry.sessions.delete(state);
    this.#updateRef(entry);
    const error =
      message.error === undefined ? undefined : sessionError(message.error, message.code, cause);
    for (const write of state.writes.splice(0)) {
      if (typeof write.input === 'number') {
        this.#release(this.#spareInputs, write.input);
      }
      write.reject(error ?? compressionError('the session ended before the frame was written'));
    }
    if (error !== undefined) {
      state.end?.reject(error);
    } else {
      state.end?.resolve(message.result);
    }
  }

  /** Keeps the process alive while a worker has a frame or a session, and not otherwise. */
  #updateRef(entry: PoolWorker): void {
    if (entry.job !== undefined || entry.sessions.size > 0) {
      entry.worker.ref();
    } else {
      entry.worker.unref();
    }
  }

  #settle(
    job: Job,
    message: { size?: number; output?: Uint8Array; error?: string },
    cause?: unknown,
  ): void {
    if (typeof job.input === 'number') {
      this.#release(this.#spareInputs, job.input);
    }
    if (message.error !== undefined || message.size === undefined) {
      this.#release(this.#spareOutputs, job.output);
      job.reject(compressionError(message.error ?? 'unknown error', cause));
    } else if (message.output !== undefined) {
      this.#release(this.#spareOutputs, job.output);
      const { buffer, byteOffset } = message.output;
      job.resolve(Buffer.from(buffer, byteOffset, message.size));
    } else {
      const shared = this.#shared[job.output as number] as SharedArrayBuffer;
      job.resolve(Buffer.from(shared, 0, message.size));
    }
  }

  #startWorker(): PoolWorker {
    const library = this.#library;
    const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve(MODULES[library])).href;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { moduleUrl, library } });
    const entry: PoolWorker = { worker, job: undefined, known: new Set(), sessions: new Set() };
    worker.unref();

    worker.on(
      'message',
      (message: { size?: number; output?: Uint8Array; error?: string } | SessionMessage) => {
        if ('session' in message) {
          this.#settleSession(entry, message);
          return;
        }
        const job = entry.job;
        entry.job = undefined;
        this.#busy -= 1;
        this.#updateRef(entry);
        if (job !== undefined) {
          this.#settle(job, message);
        }
        this.#dispatch();
      },
    );

    const fail = (cause: unknown) => {
      const index = this.#workers.indexOf(entry);
      if (index !== -1) {
        this.#workers.splice(index, 1);
      }
      if (entry.job !== undefined) {
        this.#busy -= 1;
        this.#settle(entry.job, { error: describe(cause) }, cause);
        entry.job = undefined;
      }
      for (const state of [...entry.sessions]) {
        this.#settleSession(entry, { session: state.id, error: describe(cause) }, cause);
      }
      this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(`worker exited with code ${code}`));

    this.#workers.push(entry);
    return entry;
  }
}

let sharedPool: ZstdPool | undefined;

/** Returns the process-wide pool, with one worker per core. */
export function sharedZstdPool(): ZstdPool {
  sharedPool ??= new ZstdPool();
  return sharedPool;
}

function compressionError(detail: string, cause?: unknown): LayerError {
  return new LayerError('COMPRESSION', `compressing layer with zstd: ${detail}`, { cause });
}

/** Returns the error of a session's worker, a system error when a write failed. */
function sessionError(detail: string, code: string | undefined, cause?: unknown): Error {
  if (code !== undefined && cause === undefined) {
    return Object.assign(new Error(detail), { code, syscall: 'write' });
  }
  return compressionError(detail, cause);
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
