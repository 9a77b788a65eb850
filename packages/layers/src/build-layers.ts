import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { LayerCompression } from '@storepack/image-spec';
import {
  compressLayerOnLane,
  GZIP_LEVEL,
  type LaneUse,
  ZSTD_FRAME_SIZE,
} from './compress-layer.js';
import { LayerError } from './errors.js';
import { type CachedLayer, hashCacheKey, type LayerCache } from './layer-cache.js';
import { LAYER_FORMAT_VERSION } from './layer-entry.js';
import type { LayerSource } from './layer-source.js';
import type { Logger } from './logger.js';
import { prepareLayer } from './prepare-layer.js';
import { ZstdLane } from './zstd-lane.js';
import { sharedZstdPool, ZSTD_LEVEL, ZSTD_VERSION, type ZstdPool } from './zstd-pool.js';

/**
 * zstd frames in flight at once on a lane of `buildLayers`: one compressing and two waiting. The
 * worker then has a frame to compress while the main thread is busy for a moment, as when it walks
 * the items of the next layer.
 */
const LANE_FRAMES = 3;

/** Settings for `buildLayer` and `buildLayers`. */
export interface BuildLayerOptions {
  /** Compression of the blobs. */
  compression: LayerCompression;
  /** The cache that keeps blobs between builds. */
  cache: LayerCache;
  /**
   * Layers that `buildLayers` reads from the store at once; one per core by default. A zstd layer
   * lets the next one start reading once its last frame is sent to a worker.
   */
  concurrency?: number;
  /**
   * Expected size of each layer of `buildLayers`, in the order of its sources, such as the sum of
   * the NAR sizes of its items. Layers then start largest first, so that the last layer to finish
   * is a small one, instead of a large one compressing alone while the other cores wait.
   */
  sizeHints?: readonly number[];
  /** Worker pool for zstd; the process-wide pool by default. */
  zstdPool?: ZstdPool;
  /**
   * Stops the build: once it aborts, no layer starts, and a layer being built fails with the
   * signal's reason at its next chunk, leaving nothing in the cache.
   */
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Computes the cache key of a layer: a hash of its store folder, store paths, extra symlinks and
 * folders, mtime, the folder it reads from, the tar format version and the compressor with its
 * settings.
 * File contents are not part of it, because a store path's contents never change once valid.
 */
export function layerCacheKey(source: LayerSource, compression: LayerCompression): string {
  return hashCacheKey({
    layerFormat: LAYER_FORMAT_VERSION,
    storeDir: source.storeDir,
    storePaths: [...source.storePaths].sort(),
    symlinks: (source.symlinks ?? []).map(({ path, target }) => ({ path, target })),
    directories: (source.directories ?? []).map(({ path, mode }) => ({ path, mode })),
    mtime: source.mtime ?? 1,
    root: source.root === undefined ? null : resolve(source.root),
    compression,
    compressor: compressorFacts(compression),
  });
}

/** Settings and versions of the compressor that fix a blob's bytes. */
function compressorFacts(compression: LayerCompression): Record<string, unknown> | null {
  if (compression === 'gzip') {
    // Node's bundled zlib decides the deflate output, so its version is part of the key.
    return { zlib: process.versions.zlib, level: GZIP_LEVEL };
  }
  if (compression === 'zstd') {
    return { zstd: ZSTD_VERSION, level: ZSTD_LEVEL, frameSize: ZSTD_FRAME_SIZE };
  }
  return null;
}

/**
 * Returns the cached blob of a layer, or prepares, compresses and caches it when the cache has
 * none. A cache hit reads no store file. zstd frames are spread over all workers of the pool.
 */
export function buildLayer(source: LayerSource, options: BuildLayerOptions): Promise<CachedLayer> {
  return buildOneLayer(source, options, undefined);
}

/**
 * Builds a layer as `buildLayer` does. With a lane, a zstd layer compresses on the lane's worker,
 * which hashes and writes its frames too, for layers built side by side. Without one, its frames
 * are spread over all workers.
 */
async function buildOneLayer(
  source: LayerSource,
  options: BuildLayerOptions,
  use: LaneUse | undefined,
): Promise<CachedLayer> {
  const key = layerCacheKey(source, options.compression);
  const cached = await options.cache.get(key);
  if (cached !== undefined) {
    return cached;
  }

  const layer = await prepareLayer(source, options.logger ? { logger: options.logger } : undefined);
  const compressed = compressLayerOnLane(
    layer,
    options.compression,
    {
      ...(options.zstdPool ? { zstdPool: options.zstdPool } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      spreadFrames: use === undefined,
    },
    use,
  );
  return options.cache.put(key, compressed);
}

/**
 * Builds several layers at once and returns their blobs in the order of `sources`. The first
 * failure is raised once the layers already started have finished. `concurrency` lanes each take
 * one layer after another. Each zstd layer compresses on its lane's worker, unless there is only
 * one layer, and the lane's next layer starts once its last frame is sent.
 */
export async function buildLayers(
  sources: readonly LayerSource[],
  options: BuildLayerOptions,
): Promise<CachedLayer[]> {
  const results: CachedLayer[] = new Array(sources.length);
  const order = startOrder(sources.length, options.sizeHints);
  let next = 0;
  let failure: { error: unknown } | undefined;

  const building: Promise<void>[] = [];

  const runLane = async (lane: ZstdLane | undefined) => {
    while (next < order.length && failure === undefined) {
      if (options.signal?.aborted) {
        failure = { error: options.signal.reason };
        return;
      }
      const index = order[next++] as number;
      let tarRead: () => void = () => undefined;
      const read = new Promise<void>((resolve) => {
        tarRead = resolve;
      });
      const use = lane === undefined ? undefined : { lane, onTarRead: tarRead };
      const built = buildOneLayer(sources[index] as LayerSource, options, use).then(
        (layer) => {
          results[index] = layer;
        },
        (error: unknown) => {
          failure ??= { error };
        },
      );
      building.push(built);
      // A layer that is not compressed on the lane's worker, or comes from the cache, never
      // calls `onTarRead`, so the lane waits for it to be built.
      await Promise.race([read, built]);
    }
  };

  const concurrency = options.concurrency ?? availableParallelism();
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new LayerError(
      'INVALID_OPTIONS',
      `invalid concurrency ${String(concurrency)}: expected a whole number of layers at once, 1 or more`,
    );
  }
  const lanes = Math.min(concurrency, sources.length);
  await Promise.all(
    Array.from({ length: lanes }, (_, number) =>
      runLane(sources.length === 1 ? undefined : new ZstdLane(number, LANE_FRAMES)),
    ),
  );
  await Promise.all(building);
  if (failure === undefined && options.signal?.aborted) {
    failure = { error: options.signal.reason };
  }
  if (options.compression === 'zstd') {
    // Writing the image comes next and needs no worker, so their memory can go meanwhile. The
    // build goes on without waiting the few milliseconds that the threads take to exit.
    (options.zstdPool ?? sharedZstdPool()).closeIfIdle().catch(() => undefined);
  }
  if (failure !== undefined) {
    throw failure.error;
  }
  return results;
}

/**
 * Returns the indexes of `count` layers in the order to start them: largest hint first, and in
 * their own order among equal hints or without hints.
 */
function startOrder(count: number, sizeHints: readonly number[] | undefined): number[] {
  const indexes = Array.from({ length: count }, (_, index) => index);
  if (sizeHints === undefined) {
    return indexes;
  }
  if (
    sizeHints.length !== count ||
    !sizeHints.every((hint) => Number.isFinite(hint) && hint >= 0)
  ) {
    throw new LayerError(
      'INVALID_OPTIONS',
      `invalid size hints [${sizeHints.slice(0, 5).join(', ')}${sizeHints.length > 5 ? ', …' : ''}]: expected a number of bytes for each of the ${count} layers`,
    );
  }
  return indexes.sort(
    (left, right) => (sizeHints[right] ?? 0) - (sizeHints[left] ?? 0) || left - right,
  );
}
