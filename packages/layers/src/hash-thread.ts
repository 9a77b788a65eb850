import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Digest } from '@storepack/image-spec';
import { LayerError } from './errors.js';

/** Bytes of one slot of the ring: the size of the chunks a layer stream hashes. */
const SLOT_SIZE = 512 * 1024;

/** Slots in the ring, a power of two, so that a slot's number is its count masked. */
const SLOTS = 16;

/** Indexes of the shared counters. HEAD and TAIL count slots and wrap as 32-bit integers. */
const HEAD = 0;
const TAIL = 1;
/** Set to 1 by the thread when it failed, before it stops. */
const FAILED = 2;
const COUNTERS = 3;

/** Kinds of slot: bytes of a session, the end of a session, or a session given up. */
const DATA = 0;
const FINISH = 1;
const DROP = 2;

/** Words per slot in the slot table: kind, session, byte count. */
const SLOT_WORDS = 3;

/** Bytes of a SHA-256 digest, which the thread writes into a finishing session's slot. */
const DIGEST_SIZE = 32;

/** Time `digest` waits for the thread before it fails, in milliseconds. */
const DIGEST_TIMEOUT = 60_000;

// The worker runs from a string, as the zstd pool's do. It takes slots from the ring in order,
// blocking while the ring is empty, and hands each slot back by moving the tail on. Slots carry a
// session number, so that the bytes of several layers streaming at once can interleave. At the
// end of a session it writes the digest into the session's last slot, which the calling thread
// reads once the tail has passed it.
const WORKER_SOURCE = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  const { createHash } = await import('node:crypto');
  const counters = new Int32Array(workerData.counters);
  const table = new Int32Array(workerData.table);
  const data = new Uint8Array(workerData.data);
  const { slots, slotSize } = workerData;
  const hashes = new Map();
  let tail = Atomics.load(counters, ${TAIL});
  try {
    for (;;) {
      while (Atomics.load(counters, ${HEAD}) === tail) {
        Atomics.wait(counters, ${HEAD}, tail);
      }
      const slot = tail & (slots - 1);
      const kind = table[slot * ${SLOT_WORDS}];
      const session = table[slot * ${SLOT_WORDS} + 1];
      const length = table[slot * ${SLOT_WORDS} + 2];
      let hash = hashes.get(session);
      if (hash === undefined && kind !== ${DROP}) {
        hash = createHash('sha256');
        hashes.set(session, hash);
      }
      if (kind === ${DATA}) {
        hash.update(data.subarray(slot * slotSize, slot * slotSize + length));
      } else {
        hashes.delete(session);
        if (kind === ${FINISH}) {
          data.set(hash.digest(), slot * slotSize);
        }
      }
      tail = (tail + 1) | 0;
      Atomics.store(counters, ${TAIL}, tail);
      Atomics.notify(counters, ${TAIL});
    }
  } catch (error) {
    Atomics.store(counters, ${FAILED}, 1);
    Atomics.notify(counters, ${TAIL});
    throw error;
  }
})();
`;

/** SHA-256 of one stream of bytes, computed on a hash thread. */
export interface HashSession {
  /**
   * Copies `bytes` to the thread, which hashes them after the bytes given before. Resolves once
   * they are copied, after which `bytes` may be reused. It waits only while the thread is behind.
   */
  update(bytes: Uint8Array): Promise<void>;
  /** Ends the session: no bytes may follow. Resolves once the end is handed to the thread. */
  finish(): Promise<void>;
  /**
   * Returns the digest of every byte given, after `finish` resolved. Blocks the calling thread
   * until the thread has hashed the bytes still in the ring, at most a few MiB.
   */
  digest(): Digest;
  /** Gives the session up without a digest, for a stream that failed. */
  drop(): void;
}

/** A session's end handed to the thread, whose digest is read once the tail passes its slot. */
interface PendingFinish {
  /** The count of the finishing slot. */
  count: number;
  /** The session's result, where the digest goes once read. */
  result: { digest?: Digest };
}

/**
 * A worker thread that hashes streams of bytes while the calling thread goes on, so that reading
 * a layer and hashing it use two cores. The bytes are copied into a ring of shared memory, which
 * costs far less than hashing them. Nothing waits for a digest until it is requested.
 */
export class HashThread {
  readonly #worker: Worker;
  readonly #counters: Int32Array;
  readonly #table: Int32Array;
  readonly #data: Uint8Array;
  readonly #finishing: PendingFinish[] = [];
  #head = 0;
  #nextSession = 0;
  /** Calls waiting for a free slot, which keep the process alive while they wait. */
  #waiting = 0;
  #failure: LayerError | undefined;

  /**
   * Starts the worker, which keeps the process alive only while a call waits for it, so that a
   * stream given up unfinished never keeps a process from exiting.
   */
  constructor() {
    const counters = new SharedArrayBuffer(COUNTERS * Int32Array.BYTES_PER_ELEMENT);
    const table = new SharedArrayBuffer(SLOTS * SLOT_WORDS * Int32Array.BYTES_PER_ELEMENT);
    const data = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
    this.#counters = new Int32Array(counters);
    this.#table = new Int32Array(table);
    this.#data = new Uint8Array(data);
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { counters, table, data, slots: SLOTS, slotSize: SLOT_SIZE },
    });
    this.#worker.unref();
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(`the hash thread exited with code ${code}`));
  }

  /** Whether the thread stopped or failed, after which every session fails. */
  get failed(): boolean {
    return this.#failure !== undefined || Atomics.load(this.#counters, FAILED) === 1;
  }

  /** Opens a session, whose bytes the thread hashes in the order they are given. */
  open(): HashSession {
    const session = this.#nextSession;
    this.#nextSession = (this.#nextSession + 1) | 0;
    let state: 'open' | 'finishing' | 'finished' | 'dropped' = 'open';
    const result: { digest?: Digest } = {};
    // Each call waits for the one before, so that slots go out in the order of the calls.
    let last: Promise<void> = Promise.resolve();
    const after = (step: () => Promise<void>): Promise<void> => {
      const next = last.then(step);
      last = next.catch(() => undefined);
      return next;
    };

    return {
      update: (bytes) => {
        if (state !== 'open') {
          return Promise.reject(hashingError('adding bytes failed: the session has already ended'));
        }
        return after(async () => {
          for (let offset = 0; offset < bytes.byteLength; offset += SLOT_SIZE) {
            const end = Math.min(offset + SLOT_SIZE, bytes.byteLength);
            await this.#put(DATA, session, bytes.subarray(offset, end));
          }
        });
      },
      finish: () => {
        if (state !== 'open') {
          return Promise.reject(hashingError('ending the session failed: it has already ended'));
        }
        state = 'finishing';
        return after(async () => {
          const count = await this.#put(FINISH, session);
          this.#finishing.push({ count, result });
          if (state === 'finishing') {
            state = 'finished';
          }
        });
      },
      digest: () => {
        if (state !== 'finished') {
          throw new LayerError(
            'NOT_FINISHED',
            'computing diff ID: the hashed stream has not ended: read it to the end first',
          );
        }
        return this.#awaitDigest(result);
      },
      drop: () => {
        if (state === 'open' || state === 'finishing') {
          state = 'dropped';
          // This fails only when the thread has failed, which every session then reports.
          after(async () => {
            await this.#put(DROP, session);
          }).catch(() => undefined);
        }
      },
    };
  }

  /** Stops the thread. Open sessions fail, and the thread cannot be used after. */
  async stop(): Promise<void> {
    this.#fail('the hash thread was stopped');
    await this.#worker.terminate();
  }

  /**
   * Waits until the ring has a free slot, then fills it and hands it to the thread, with no
   * await between finding the slot and handing it over. Returns the slot's count.
   */
  async #put(kind: number, session: number, bytes?: Uint8Array): Promise<number> {
    for (;;) {
      this.#checkFailure();
      const tail = Atomics.load(this.#counters, TAIL);
      // The digests in slots the thread has handed back are read before the slots are reused.
      this.#collect(tail);
      if (((this.#head - tail) | 0) < SLOTS) {
        const count = this.#head;
        const slot = count & (SLOTS - 1);
        if (bytes !== undefined) {
          this.#data.set(bytes, slot * SLOT_SIZE);
        }
        this.#table[slot * SLOT_WORDS] = kind;
        this.#table[slot * SLOT_WORDS + 1] = session;
        this.#table[slot * SLOT_WORDS + 2] = bytes?.byteLength ?? 0;
        this.#head = (count + 1) | 0;
        Atomics.store(this.#counters, HEAD, this.#head);
        Atomics.notify(this.#counters, HEAD);
        return count;
      }
      const waiting = Atomics.waitAsync(this.#counters, TAIL, tail);
      if (waiting.async) {
        // A pending wait does not keep Node's event loop alive, but the referenced worker does.
        this.#waiting += 1;
        this.#worker.ref();
        try {
          await waiting.value;
        } finally {
          this.#waiting -= 1;
          if (this.#waiting === 0) {
            this.#worker.unref();
          }
        }
      }
    }
  }

  /** Reads the digests of the sessions whose last slot the thread has handed back by `tail`. */
  #collect(tail: number): void {
    while (this.#finishing.length > 0) {
      const { count, result } = this.#finishing[0] as PendingFinish;
      if (((tail - count) | 0) <= 0) {
        return;
      }
      this.#finishing.shift();
      const start = (count & (SLOTS - 1)) * SLOT_SIZE;
      const hex = Buffer.from(this.#data.subarray(start, start + DIGEST_SIZE)).toString('hex');
      result.digest = `sha256:${hex}`;
    }
  }

  /** Returns a session's digest, blocking until the thread has reached the session's end. */
  #awaitDigest(result: { digest?: Digest }): Digest {
    const deadline = performance.now() + DIGEST_TIMEOUT;
    for (;;) {
      const tail = Atomics.load(this.#counters, TAIL);
      this.#collect(tail);
      if (result.digest !== undefined) {
        return result.digest;
      }
      this.#checkFailure();
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#fail(`timed out after ${DIGEST_TIMEOUT / 1000} s waiting for the hash thread`);
        this.#checkFailure();
      }
      Atomics.wait(this.#counters, TAIL, tail, Math.min(left, 100));
    }
  }

  #checkFailure(): void {
    if (this.#failure === undefined && Atomics.load(this.#counters, FAILED) === 1) {
      this.#fail('the hash thread failed');
    }
    if (this.#failure !== undefined) {
      throw this.#failure;
    }
  }

  #fail(cause: unknown): void {
    if (this.#failure !== undefined) {
      return;
    }
    this.#failure = hashingError(cause instanceof Error ? cause.message : String(cause), cause);
    this.#worker.unref();
    // Wakes an update waiting for a slot, so that it throws the failure.
    Atomics.notify(this.#counters, TAIL);
  }
}

let sharedThread: HashThread | undefined;

/**
 * Returns the process-wide hash thread, started on first use, or undefined on a machine with one
 * core, where a second thread would only take turns with the first.
 */
export function sharedHashThread(): HashThread | undefined {
  if (availableParallelism() < 2) {
    return undefined;
  }
  if (sharedThread === undefined || sharedThread.failed) {
    sharedThread = new HashThread();
  }
  return sharedThread;
}

function hashingError(detail: string, cause?: unknown): LayerError {
  return new LayerError('HASHING', `hashing layer: ${detail}`, { cause });
}
