import { LayerError } from './errors.js';

/**
 * A worker of a zstd pool that layers use one after another, and a limit on the frames that they
 * have in flight together. The next layer of a lane starts reading the store while the one before
 * still compresses its last frames, and its first frames queue behind them on the same worker. So
 * the worker has frames to compress while the next layer starts. The limit keeps a run of small
 * layers, each one frame, from piling up frames faster than the worker compresses them.
 */
export class ZstdLane {
  /**
   * The number of the pool worker, as `ZstdPool.openSession` takes it, or undefined for the worker
   * with the fewest layers.
   */
  readonly worker: number | undefined;
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(worker: number | undefined, frames: number) {
    if (!Number.isSafeInteger(frames) || frames < 1) {
      throw new LayerError(
        'INVALID_OPTIONS',
        `invalid number of zstd frames in flight ${String(frames)}: expected a whole number, 1 or more`,
      );
    }
    this.worker = worker;
    this.#free = frames;
  }

  /** Resolves once fewer frames than the limit are in flight, and counts one more. */
  take(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Counts a frame from `take` as no longer in flight. */
  free(): void {
    const waiting = this.#waiting.shift();
    if (waiting !== undefined) {
      waiting();
    } else {
      this.#free += 1;
    }
  }
}
