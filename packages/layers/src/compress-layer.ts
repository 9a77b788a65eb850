import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { createDigester, type Digest, type LayerCompression } from '@storepack/image-spec';
import { ChunkPool } from './chunk-pool.js';
import { LayerError } from './errors.js';
import { type PreparedLayer, unhashedFrames } from './prepare-layer.js';
import type { ChunkMemory } from './stream-layer.js';
import { writeInPieces } from './write-in-pieces.js';
import { ZstdLane } from './zstd-lane.js';
import {
  sharedZstdPool,
  ZSTD_LEVEL,
  type ZstdPool,
  type ZstdSession,
  type ZstdSessionResult,
} from './zstd-pool.js';

/** The gzip level of layer blobs, the gzip command's default. */
export const GZIP_LEVEL = 6;

/** Bytes of tar in each zstd frame. Frames compress on separate cores and decompress as one stream. */
export const ZSTD_FRAME_SIZE = 4 * 1024 * 1024;

/**
 * Frames of one layer in flight at once, compressing or sent to a worker. Spread over the workers
 * by `zstdChunks`, two keep two cores busy with one large layer. On one worker, the second waits
 * while the first compresses.
 */
const FRAMES_IN_FLIGHT = 2;

/** A layer blob: the tar of a prepared layer, compressed as it streams. */
export interface CompressedLayer {
  /** The compression of the blob. */
  readonly compression: LayerCompression;
  /** The uncompressed layer, whose `diffId` is known once the blob's stream has ended. */
  readonly layer: PreparedLayer;
  /** Returns a stream of the compressed bytes; callable once. Fails as the layer's stream fails. */
  createStream(): Readable;
  /**
   * Returns the compressed bytes like `createStream`, but each chunk may be overwritten once the
   * next one is requested. A consumer that writes each chunk before it requests the next one
   * lets the compressor reuse their memory. Callable once, and not together with `createStream`.
   */
  chunks(): AsyncIterable<Buffer>;
  /**
   * Writes the compressed bytes to a new file at `path`, which must not exist; callable once,
   * instead of the streams. A zstd layer that `prepareLayer` made goes to one worker of the pool,
   * which hashes, compresses and writes all of it, unless `spreadFrames` is set.
   */
  writeTo(path: string): Promise<void>;
  /** Returns the digest of the compressed bytes; throws NOT_FINISHED before the stream ended. */
  digest(): Digest;
  /** Returns the compressed size in bytes; throws NOT_FINISHED before the stream ended. */
  size(): number;
}

/** Settings for `compressLayer`. */
export interface CompressLayerOptions {
  /** Worker pool for zstd; the process-wide pool by default. */
  zstdPool?: ZstdPool;
  /**
   * Makes `writeTo` spread the zstd frames of the layer over all workers, with the main thread
   * hashing and writing them, as the streams do. For a layer built alone, which would otherwise
   * compress on one core.
   */
  spreadFrames?: boolean;
  /** Makes `writeTo` fail with the signal's reason at the next chunk once it aborts. */
  signal?: AbortSignal;
}

/**
 * Wraps a prepared layer so that its tar streams through the compressor, hashing the compressed
 * bytes as they pass. The tar is read once: its diff ID is computed by the layer's own stream.
 * gzip runs in Node's zlib at level 6 on the libuv thread pool, and zstd at level 3 on a pool of
 * worker threads, so several layers compress on several cores at once.
 */
export function compressLayer(
  layer: PreparedLayer,
  compression: LayerCompression,
  options?: CompressLayerOptions,
): CompressedLayer {
  return compressLayerOnLane(layer, compression, options, undefined);
}

/** A lane for the zstd frames of a layer that `writeTo` compresses on one worker. */
export interface LaneUse {
  lane: ZstdLane;
  /**
   * Called once `writeTo` has read the whole tar and sent its last frame to the worker, so that
   * the next layer of the lane may start.
   */
  onTarRead: () => void;
}

/**
 * Wraps a prepared layer as `compressLayer` does. A zstd layer that `writeTo` compresses on one
 * worker goes to the worker of `use.lane`, and its frames in flight count against the lane's.
 */
export function compressLayerOnLane(
  layer: PreparedLayer,
  compression: LayerCompression,
  options: CompressLayerOptions | undefined,
  use: LaneUse | undefined,
): CompressedLayer {
  if (compression !== 'none' && compression !== 'gzip' && compression !== 'zstd') {
    throw new LayerError(
      'INVALID_OPTIONS',
      `invalid compression "${String(compression).slice(0, 40)}": expected none, gzip or zstd`,
    );
  }
  let streamed = false;
  let result: { digest: Digest; size: number } | undefined;

  const finished = <T>(read: (value: { digest: Digest; size: number }) => T): T => {
    if (result === undefined) {
      throw new LayerError(
        'NOT_FINISHED',
        'computing layer digest: the compressed stream has not ended: read it to the end first',
      );
    }
    return read(result);
  };

  const begin = () => {
    if (streamed) {
      throw new LayerError(
        'ALREADY_STREAMED',
        'streaming compressed layer: the stream was already started: prepare the layer again',
      );
    }
    streamed = true;
  };
  const hashed = (reuse: boolean): AsyncIterable<Buffer> => {
    const chunks = compressedChunks(layer, compression, options?.zstdPool, reuse);
    return hashChunks(chunks, (value) => (result = value));
  };
  const start = (reuse: boolean): AsyncIterable<Buffer> => {
    begin();
    return hashed(reuse);
  };

  return {
    compression,
    layer,
    createStream: () => Readable.from(start(false), { objectMode: false }),
    chunks: () => start(true),
    async writeTo(path) {
      begin();
      const pool = compression === 'zstd' ? (options?.zstdPool ?? sharedZstdPool()) : undefined;
      // A lane counts the frame being filled too.
      const lane = use?.lane ?? new ZstdLane(undefined, FRAMES_IN_FLIGHT + 1);
      const tar =
        pool !== undefined && !options?.spreadFrames
          ? unhashedFrames(layer, laneFrameMemory(pool, lane))
          : undefined;
      if (pool === undefined || tar === undefined) {
        await writeChunks(path, hashed(true), options?.signal);
        return;
      }
      const handle = await open(path, 'wx');
      try {
        const written = await writeZstdFrames(
          tar.frames,
          pool.openSession(handle.fd, ZSTD_LEVEL, lane.worker),
          pool,
          lane,
          options?.signal,
          use?.onTarRead,
        );
        tar.finish(written.diffId, written.bytes);
        result = { digest: written.digest, size: written.size };
      } finally {
        await handle.close();
      }
    },
    digest: () => finished((value) => value.digest),
    size: () => finished((value) => value.size),
  };
}

/** Writes chunks to a new file, each before the next is requested, so that their memory is reused. */
async function writeChunks(
  path: string,
  chunks: AsyncIterable<Buffer>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    for await (const chunk of chunks) {
      signal?.throwIfAborted();
      writeInPieces(handle.fd, chunk);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Returns memory for the frames of a layer: buffers of {@link ZSTD_FRAME_SIZE} bytes shared with
 * the pool's workers, each taking one of the lane's frames in flight. A buffer given back frees
 * both. The tar is written straight into them, so that no frame is copied on the main thread.
 */
function laneFrameMemory(pool: ZstdPool, lane: ZstdLane): ChunkMemory {
  return {
    take: async () => {
      await lane.take();
      const frame = pool.takeBuffer(ZSTD_FRAME_SIZE);
      return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    },
    giveBack: (buffer) => {
      pool.recycle(buffer);
      lane.free();
    },
  };
}

/**
 * Sends frames of the tar, from {@link laneFrameMemory}, to a session, and calls `onTarRead` once
 * the last is sent. Each frame frees its place on the lane once the worker is done with it. If
 * the tar or a write fails, the session is dropped once its worker is done with the frames sent,
 * so that the file may be closed.
 */
async function writeZstdFrames(
  frames: AsyncIterable<Buffer>,
  session: ZstdSession,
  pool: ZstdPool,
  lane: ZstdLane,
  signal: AbortSignal | undefined,
  onTarRead: (() => void) | undefined,
): Promise<ZstdSessionResult> {
  const inFlight: Promise<void>[] = [];
  let failed: { error: unknown } | undefined;
  try {
    for await (const frame of frames) {
      const stop = failed ?? (signal?.aborted ? { error: signal.reason } : undefined);
      if (stop !== undefined) {
        lane.free();
        pool.recycle(frame);
        throw stop.error;
      }
      const writing = session.write(frame).finally(() => lane.free());
      // Raised at the next frame, or by the wait for all of them below.
      writing.catch((error: unknown) => {
        failed ??= { error };
      });
      inFlight.push(writing);
    }
    // A layer whose write failed already lets no next layer start.
    if (failed !== undefined) {
      throw failed.error;
    }
    onTarRead?.();
    await Promise.all(inFlight);
    // The next layer of the lane may be reading already, but this one stops as it would have.
    signal?.throwIfAborted();
    return await session.finish();
  } catch (error) {
    await Promise.allSettled(inFlight);
    await session.abort().catch(() => undefined);
    throw error;
  }
}

/**
 * Cuts the tar into frames of {@link ZSTD_FRAME_SIZE} bytes, in buffers from the pool, and a last
 * shorter one. An empty tar gives one empty frame. A frame is the consumer's once yielded.
 */
async function* cutFrames(tar: AsyncIterable<Buffer>, pool: ZstdPool): AsyncGenerator<Uint8Array> {
  let frame: Uint8Array | undefined;
  let filled = 0;
  let total = 0;
  try {
    for await (const chunk of tar) {
      total += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        frame ??= pool.takeBuffer(ZSTD_FRAME_SIZE);
        const length = Math.min(chunk.byteLength - offset, ZSTD_FRAME_SIZE - filled);
        frame.set(chunk.subarray(offset, offset + length), filled);
        filled += length;
        offset += length;
        if (filled === ZSTD_FRAME_SIZE) {
          const full = frame;
          frame = undefined;
          filled = 0;
          yield full;
        }
      }
    }
    if (filled > 0 || total === 0) {
      const last = (frame ?? new Uint8Array(0)).subarray(0, filled);
      frame = undefined;
      yield last;
    }
  } finally {
    if (frame !== undefined) {
      pool.recycle(frame);
    }
  }
}

async function* hashChunks(
  chunks: AsyncIterable<Buffer>,
  onEnd: (result: { digest: Digest; size: number }) => void,
): AsyncGenerator<Buffer> {
  const digester = createDigester('sha256');
  let size = 0;
  for await (const chunk of chunks) {
    digester.update(chunk);
    size += chunk.byteLength;
    yield chunk;
  }
  onEnd({ digest: digester.digest(), size });
}

function compressedChunks(
  layer: PreparedLayer,
  compression: LayerCompression,
  pool: ZstdPool | undefined,
  reuse: boolean,
): AsyncIterable<Buffer> {
  if (compression === 'gzip') {
    return gzipChunks(layer);
  }
  if (compression === 'zstd') {
    // Each tar chunk is copied into a frame before the next is requested, so the tar may reuse it.
    return zstdChunks(layer.chunks(), pool ?? sharedZstdPool(), reuse);
  }
  return reuse ? layer.chunks() : layer.createStream();
}

/** Buffers of the tar of one gzip layer: enough for the tar to be read while zlib compresses. */
const GZIP_TAR_BUFFERS = 4;

/** Bytes of each of those buffers, the size of the layer stream's own chunks. */
const GZIP_TAR_BUFFER_SIZE = 512 * 1024;

/**
 * Buffers of gzip layers that finished, for the next ones: enough for two layers at once. When
 * each layer allocated its own, a build of 100 gzip layers peaked about 10 MiB higher.
 */
const spareGzipTarBuffers: Buffer[] = [];
const MAX_SPARE_GZIP_TAR_BUFFERS = 2 * GZIP_TAR_BUFFERS;

async function* gzipChunks(layer: PreparedLayer): AsyncGenerator<Buffer> {
  // Node's gzip header has mtime 0, no file name and OS byte 3 (Unix), so it never varies.
  const gzip = createGzip({ level: GZIP_LEVEL });
  const memory = new ChunkPool(GZIP_TAR_BUFFERS, GZIP_TAR_BUFFER_SIZE, spareGzipTarBuffers);
  const tar = layer.createStream(memory);
  const feeding = feedGzip(tar, gzip, memory);
  // A failure destroys gzip, which ends the loop below with the same error.
  feeding.catch((error: Error) => gzip.destroy(error));
  try {
    yield* gzip;
    await feeding;
  } finally {
    tar.destroy();
    gzip.destroy();
    memory.retire(MAX_SPARE_GZIP_TAR_BUFFERS);
  }
}

/**
 * Writes the tar into zlib and ends it. zlib calls each write back once it has consumed the
 * chunk, and the chunk's buffer then goes back to `memory` for later bytes of the tar. The tar
 * flows chunk by chunk: a paused stream read in full would join its chunks into a new buffer.
 */
async function feedGzip(tar: Readable, gzip: Gzip, memory: ChunkPool): Promise<void> {
  tar.on('data', (chunk: Buffer) => {
    const belowHighWaterMark = gzip.write(chunk, (error) => {
      if (!error) {
        memory.recycle(chunk);
      }
    });
    if (!belowHighWaterMark) {
      tar.pause();
      gzip.once('drain', () => tar.resume());
    }
  });
  await finished(tar);
  gzip.end();
}

/**
 * Compresses each frame of the tar into its own zstd frame, a few at a time, yielding them in
 * order. A zstd stream may hold any number of frames. With `reuse`, each frame goes back to the
 * pool when the consumer requests the next one.
 */
async function* zstdChunks(
  tar: AsyncIterable<Buffer>,
  pool: ZstdPool,
  reuse: boolean,
): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  const next = async function* () {
    const compressed = await (inFlight.shift() as Promise<Buffer>);
    try {
      yield compressed;
    } finally {
      if (reuse) {
        pool.recycle(compressed);
      }
    }
  };

  try {
    for await (const frame of cutFrames(tar, pool)) {
      const compressing = pool.compress(frame, ZSTD_LEVEL, reuse);
      // Awaited in order below; this only keeps a failure from being unhandled meanwhile.
      compressing.catch(() => undefined);
      inFlight.push(compressing);
      while (inFlight.length >= FRAMES_IN_FLIGHT) {
        yield* next();
      }
    }
    while (inFlight.length > 0) {
      yield* next();
    }
  } finally {
    // A consumer that stopped early, or a failed tar, leaves frames that no consumer will read.
    if (reuse) {
      for (const compressing of inFlight.splice(0)) {
        compressing.then(
          (compressed) => pool.recycle(compressed),
          () => undefined,
        );
      }
    }
  }
}
