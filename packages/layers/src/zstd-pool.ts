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

// The native package's binding module, because its one-shot call takes an output buffer. The
// worker reuses that buffer, so each frame does not leave 4 MiB of garbage behind.
const MODULES: Record<ZstdLibrary, string> = {
  native: 'zstd-napi/binding.js',
  wasm: '@bokuweb/zstd-wasm',
};

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

// The worker runs from a string, so that it needs no file of its own next to the compiled module
// and also runs when tests load the TypeScript sources. Dynamic imports work whether Node evaluates
// it as CommonJS or, under `--input-type=module`, as an ES module.
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const loaded = await import(workerData.moduleUrl);
  const zstd = loaded.default ?? loaded;
  let compress;
  if (workerData.library === 'native') {
    const context = new zstd.CCtx();
    let scratch = new Uint8Array(0);
    compress = (input, level) => {
      const bound = zstd.compressBound(input.byteLength);
      if (scratch.byteLength < bound) {
        scratch = new Uint8Array(bound);
      }
      return scratch.slice(0, context.compress(scratch, input, level));
    };
  } else {
    await zstd.init();
    compress = (input, level) => zstd.compress(input, level);
  }
  parentPort.on('message', ({ id, input, level }) => {
    try {
      const output = compress(input, level);
      // The input goes back too, so that the pool can fill it with the next frame.
      parentPort.postMessage({ id, output, input }, [output.buffer, input.buffer]);
    } catch (error) {
      parentPort.postMessage({ id, error: String((error && error.message) || error) });
    }
  });
})();
`;

interface Job {
  id: number;
  input: Uint8Array;
  level: number;
  resolve: (output: Buffer) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  job: Job | undefined;
}

/**
 * Compresses buffers into zstd frames on worker threads, one frame per worker at a time, so that
 * frames of one layer or of several layers compress on all cores at once.
 */
export class ZstdPool {
  readonly #size: number;
  readonly #library: ZstdLibrary;
  readonly #workers: PoolWorker[] = [];
  readonly #queue: Job[] = [];
  readonly #spareBuffers: ArrayBuffer[] = [];
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
   * Returns a buffer of `size` bytes to fill with a frame, reusing the buffer of a frame already
   * compressed when one of that size is free, so that frames do not pile up as garbage.
   */
  takeBuffer(size: number): Uint8Array {
    const index = this.#spareBuffers.findIndex((buffer) => buffer.byteLength === size);
    if (index === -1) {
      return new Uint8Array(size);
    }
    return new Uint8Array(this.#spareBuffers.splice(index, 1)[0] as ArrayBuffer);
  }

  /** Compresses `input` into one zstd frame. The buffer is moved to a worker and unusable after. */
  compress(input: Uint8Array, level = ZSTD_LEVEL): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, input, level, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; frames still queued or compressing fail. */
  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
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
      idle.worker.postMessage({ id: job.id, input: job.input, level: job.level }, [
        job.input.buffer as ArrayBuffer,
      ]);
    }
  }

  #startWorker(): PoolWorker {
    const library = this.#library;
    const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve(MODULES[library])).href;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { moduleUrl, library } });
    const entry: PoolWorker = { worker, job: undefined };
    worker.unref();

    worker.on(
      'message',
      (message: { id: number; output?: Uint8Array; input?: Uint8Array; error?: string }) => {
        const job = entry.job;
        entry.job = undefined;
        this.#busy -= 1;
        worker.unref();
        if (message.input !== undefined && this.#spareBuffers.length < this.#size * 2) {
          this.#spareBuffers.push(message.input.buffer as ArrayBuffer);
        }
        if (job !== undefined) {
          if (message.output !== undefined) {
            const { buffer, byteOffset, byteLength } = message.output;
            job.resolve(Buffer.from(buffer, byteOffset, byteLength));
          } else {
            job.reject(compressionError(message.error ?? 'unknown error'));
          }
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
        entry.job.reject(compressionError(describe(cause), cause));
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
