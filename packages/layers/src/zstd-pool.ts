import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LayerError } from './errors.js';

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

/** The most bytes a zstd frame of `size` input bytes can take: zstd's `ZSTD_COMPRESSBOUND`. */
export function zstdCompressBound(size: number): number {
  const small = 128 * 1024;
  return size + Math.floor(size / 256) + (size < small ? Math.floor((small - size) / 2048) : 0);
}

// The worker runs from a string, so that it needs no file of its own next to the compiled module
// and also runs when tests load the TypeScript sources. Dynamic imports work whether Node evaluates
// it as CommonJS or, under `--input-type=module`, as an ES module.
// Shared buffers reach a worker once, with the first job that uses them, and are named by number
// after that, so that each job's message carries no memory the garbage collector must track.
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
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
  const shared = new Map();
  parentPort.on('message', ({ id, input, inputLength, output, level, share }) => {
    try {
      for (const [slot, buffer] of share) {
        shared.set(slot, new Uint8Array(buffer));
      }
      const source = typeof input === 'number' ? shared.get(input).subarray(0, inputLength) : input;
      const target = typeof output === 'number' ? shared.get(output) : undefined;
      const result = compress(source, target, level);
      if (result.output === target) {
        parentPort.postMessage({ id, size: result.size });
      } else {
        parentPort.postMessage({ id, size: result.size, output: result.output }, [result.output.buffer]);
      }
    } catch (error) {
      parentPort.postMessage({ id, error: String((error && error.message) || error) });
    }
  });
})();
`;

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
}

/**
 * Compresses buffers into zstd frames on worker threads, one frame per worker at a time, so that
 * frames of one layer or of several layers compress on all cores at once. Frames are filled and
 * written out in buffers shared with the workers (see `takeBuffer`, `compress` and `recycle`), which
 * the pool keeps until it is closed.
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
  #nextId = 0;
  #busy = 0;
  #peakBusy = 0;

  /** Creates a pool of at most `size` workers, started when the first frames arrive. */
  constructor(size = availableParallelism(), library: ZstdLibrary = defaultZstdLibrary()) {
    this.#size = Math.max(1, size);
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
    return this.#sharedBuffer(this.#spareInputs, size, size) ?? new Uint8Array(size);
  }

  /**
   * Compresses `input` into one zstd frame. The input is the pool's again and unusable after.
   * With `reusable`, the frame is written into shared memory that the caller hands back with
   * `recycle` once it no longer reads it; without, the frame is the caller's to keep.
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
   * so that a later frame is written there. The frame must not be used after this call.
   */
  recycle(frame: Uint8Array): void {
    this.#release(this.#spareOutputs, this.#numbers.get(frame.buffer));
  }

  /** Stops every worker and lets go of the shared buffers; frames still queued or compressing fail. */
  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    this.#shared.length = 0;
    this.#numbers.clear();
    this.#spareInputs.length = 0;
    this.#spareOutputs.length = 0;
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }

  /**
   * Returns a buffer from `spare` of at least `minimum` bytes, or a new one of `size` bytes while
   * the pool holds fewer than its maximum, as a view of its first `minimum` bytes.
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
      const share: [number, SharedArrayBuffer][] = [];
      for (const number of [job.input, job.output]) {
        if (typeof number === 'number' && !idle.known.has(number)) {
          idle.known.add(number);
          share.push([number, this.#shared[number] as SharedArrayBuffer]);
        }
      }
      const { id, input, inputLength, output, level } = job;
      idle.worker.postMessage(
        { id, input, inputLength, output, level, share },
        // Memory shared with the workers is passed as it is; it cannot be moved.
        typeof input !== 'number' && input.buffer instanceof ArrayBuffer ? [input.buffer] : [],
      );
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
    const entry: PoolWorker = { worker, job: undefined, known: new Set() };
    worker.unref();

    worker.on('message', (message: { size?: number; output?: Uint8Array; error?: string }) => {
      const job = entry.job;
      entry.job = undefined;
      this.#busy -= 1;
      worker.unref();
      if (job !== undefined) {
        this.#settle(job, message);
      }
      this.#dispatch();
    });

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

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
