import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createDigester, type Digest, type LayerCompression } from '@storepack/image-spec';
import { LayerError } from './errors.js';
import type { PreparedLayer } from './prepare-layer.js';
import { sharedZstdPool, ZSTD_LEVEL, type ZstdPool } from './zstd-pool.js';

/** The gzip level of layer blobs, the gzip command's default. */
export const GZIP_LEVEL = 6;

/** Bytes of tar in each zstd frame. Frames compress on separate cores and decompress as one stream. */
export const ZSTD_FRAME_SIZE = 4 * 1024 * 1024;

/** Frames of one layer that compress at once, so that one large layer keeps two cores busy. */
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
   * next one is asked for: a consumer that writes each chunk before it asks for the next one
   * lets the compressor reuse their memory. Callable once, and not together with `createStream`.
   */
  chunks(): AsyncIterable<Buffer>;
  /** Returns the digest of the compressed bytes; throws NOT_FINISHED before the stream ended. */
  digest(): Digest;
  /** Returns the compressed size in bytes; throws NOT_FINISHED before the stream ended. */
  size(): number;
}

/** Settings for `compressLayer`. */
export interface CompressLayerOptions {
  /** Worker pool for zstd; the process-wide pool by default. */
  zstdPool?: ZstdPool;
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

  const start = (reuse: boolean): AsyncIterable<Buffer> => {
    if (streamed) {
      throw new LayerError(
        'ALREADY_STREAMED',
        'streaming compressed layer: the stream was already started: prepare the layer again',
      );
    }
    streamed = true;
    const chunks = compressedChunks(layer, compression, options?.zstdPool, reuse);
    return hashChunks(chunks, (value) => (result = value));
  };

  return {
    compression,
    layer,
    createStream: () => Readable.from(start(false), { objectMode: false }),
    chunks: () => start(true),
    digest: () => finished((value) => value.digest),
    size: () => finished((value) => value.size),
  };
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
    return gzipChunks(layer.createStream());
  }
  if (compression === 'zstd') {
    // Each tar chunk is copied into a frame before the next is asked for, so the tar may reuse it.
    return zstdChunks(layer.chunks(), pool ?? sharedZstdPool(), reuse);
  }
  return reuse ? layer.chunks() : layer.createStream();
}

async function* gzipChunks(tar: Readable): AsyncGenerator<Buffer> {
  // Node's gzip header has mtime 0, no file name and OS byte 3 (Unix), so it never varies.
  const gzip = createGzip({ level: GZIP_LEVEL });
  const piping = pipeline(tar, gzip);
  // A failure destroys gzip, which ends the loop below with the same error.
  piping.catch(() => undefined);
  try {
    yield* gzip;
    await piping;
  } finally {
    tar.destroy();
    gzip.destroy();
  }
}

/**
 * Cuts the tar into frames of {@link ZSTD_FRAME_SIZE} bytes and compresses each into its own zstd
 * frame, a few at a time, yielding them in order. A zstd stream may hold any number of frames.
 * With `reuse`, each frame goes back to the pool when the consumer asks for the next one.
 */
async function* zstdChunks(
  tar: AsyncIterable<Buffer>,
  pool: ZstdPool,
  reuse: boolean,
): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  const next = async function* () {
    const compressed = await (inFlight.shift() as Promise<Buffer>);
    yield compressed;
    if (reuse) {
      pool.recycle(compressed);
    }
  };
  const send = (frame: Uint8Array) => {
    const compressing = pool.compress(frame, ZSTD_LEVEL, reuse);
    // Awaited in order below; this only keeps a failure from being unhandled meanwhile.
    compressing.catch(() => undefined);
    inFlight.push(compressing);
  };

  let frame = pool.takeBuffer(ZSTD_FRAME_SIZE);
  let filled = 0;
  let total = 0;
  for await (const chunk of tar) {
    total += chunk.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength) {
      const length = Math.min(chunk.byteLength - offset, ZSTD_FRAME_SIZE - filled);
      frame.set(chunk.subarray(offset, offset + length), filled);
      filled += length;
      offset += length;
      if (filled === ZSTD_FRAME_SIZE) {
        send(frame);
        frame = pool.takeBuffer(ZSTD_FRAME_SIZE);
        filled = 0;
      }
      while (inFlight.length >= FRAMES_IN_FLIGHT) {
        yield* next();
      }
    }
  }
  if (filled > 0 || total === 0) {
    send(frame.subarray(0, filled));
  }
  while (inFlight.length > 0) {
    yield* next();
  }
}
