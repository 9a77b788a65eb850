import type { LayerCompression } from '@storepack/image-spec';
import { buildLayers, LayerCache, type LayerSource, prepareLayer } from '@storepack/layers';
import { cachedLayer, type ImageLayer, streamedLayer } from './image-layer.js';
import type { Logger } from './logger.js';

/** Settings of layer blobs: their compression, and the cache folder they are kept in, if any. */
export interface LayerBlobOptions {
  compression: LayerCompression;
  /** The layer cache folder, or undefined to stream uncompressed layers from the store. */
  cacheDir: string | undefined;
  /** Expected size of each layer in bytes, by which `buildLayers` starts the largest first. */
  sizeHints?: readonly number[];
  /** Stops the building of blobs into the cache. */
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Makes the blobs of `sources`. Without a cache, uncompressed layers are only prepared here and
 * stream from the store when written, each file read once. With a cache, every blob is built ahead
 * (or taken from the cache without reading the store), compressed as asked, several at once.
 */
export async function makeImageLayers(
  sources: LayerSource[],
  options: LayerBlobOptions,
): Promise<ImageLayer[]> {
  if (options.cacheDir === undefined) {
    const layers: ImageLayer[] = [];
    for (const source of sources) {
      const prepared = await prepareLayer(
        source,
        options.logger ? { logger: options.logger } : undefined,
      );
      layers.push(streamedLayer(source, prepared));
    }
    return layers;
  }

  const cache = new LayerCache({ dir: options.cacheDir });
  const built = await buildLayers(sources, {
    compression: options.compression,
    cache,
    ...(options.sizeHints ? { sizeHints: options.sizeHints } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return built.map((layer, index) => cachedLayer(sources[index] as LayerSource, layer));
}
