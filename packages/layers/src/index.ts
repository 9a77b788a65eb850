export {
  type BuildLayerOptions,
  buildLayer,
  buildLayers,
  layerCacheKey,
} from './build-layers.js';
export { ChunkPool } from './chunk-pool.js';
export type { ClosureGraph, ClosureGraphItem } from './closure-graph.js';
export {
  type CompressedLayer,
  type CompressLayerOptions,
  compressLayer,
  GZIP_LEVEL,
  ZSTD_FRAME_SIZE,
} from './compress-layer.js';
export { LayerError, type LayerErrorCode } from './errors.js';
export {
  type CachedLayer,
  defaultCacheDir,
  LayerCache,
  type LayerCacheOptions,
} from './layer-cache.js';
export type { LayerDirectory, LayerSource, LayerSymlink } from './layer-source.js';
export type { Logger } from './logger.js';
export {
  DEFAULT_MAX_LAYERS,
  DEFAULT_PLANNER,
  type LayerPlan,
  PLANNER_NAMES,
  type PlanLayersOptions,
  type PlannerName,
  planLayers,
} from './plan-layers.js';
export { type PreparedLayer, type PrepareLayerOptions, prepareLayer } from './prepare-layer.js';
export type { ChunkMemory } from './stream-layer.js';
export { WRITE_PIECE_SIZE, writeInPieces } from './write-in-pieces.js';
export {
  defaultZstdLibrary,
  ZSTD_LEVEL,
  ZSTD_VERSION,
  type ZstdLibrary,
  ZstdPool,
  type ZstdSession,
  type ZstdSessionResult,
} from './zstd-pool.js';
