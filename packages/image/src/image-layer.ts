import type { Readable } from 'node:stream';
import type { Digest, LayerCompression } from '@storepack/image-spec';
import type { CachedLayer, ChunkMemory, LayerSource, PreparedLayer } from '@storepack/layers';

/** A layer blob as the image writers take it. */
export interface ImageLayer {
  /** The store items, symlinks and folders the layer is made of. */
  readonly source: LayerSource;
  readonly compression: LayerCompression;
  /** Byte length of the blob, known before it streams. */
  readonly size: number;
  /** Path of the blob file when it was built ahead, for a writer to copy or link it whole. */
  readonly path?: string;
  /**
   * Returns a stream of the blob's bytes. A layer read from the store streams once, into buffers
   * from `memory` when given (see `PreparedLayer.createStream`).
   */
  createStream(memory?: ChunkMemory): Readable;
  /** Returns the digest of the blob; for a layer read from the store, only once it has streamed. */
  digest(): Digest;
  /** Returns the SHA-256 of the uncompressed tar; for a layer read from the store, once it has streamed. */
  diffId(): Digest;
}

/** Wraps an uncompressed layer that streams straight from the store, hashed as it passes. */
export function streamedLayer(source: LayerSource, layer: PreparedLayer): ImageLayer {
  return {
    source,
    compression: 'none',
    size: layer.size,
    createStream: (memory) => layer.createStream(memory),
    // An uncompressed blob's digest is its diff ID.
    digest: () => layer.diffId(),
    diffId: () => layer.diffId(),
  };
}

/** Wraps a layer blob built ahead, compressed or not, in the layer cache. */
export function cachedLayer(source: LayerSource, layer: CachedLayer): ImageLayer {
  return {
    source,
    compression: layer.compression,
    size: layer.size,
    path: layer.path,
    createStream: () => layer.createStream(),
    digest: () => layer.digest,
    diffId: () => layer.diffId,
  };
}
