export { LayerError, type LayerErrorCode } from './errors.js';
export type { LayerDirectory, LayerSource, LayerSymlink } from './layer-source.js';
export type { Logger } from './logger.js';
export { type PreparedLayer, type PrepareLayerOptions, prepareLayer } from './prepare-layer.js';
