export { writeFileAtomically } from './atomic-file.js';
export { buildImage, type ImageTarget } from './build-image.js';
export { defaultArchiveFileName, defaultRepoTag } from './default-names.js';
export {
  type ImageResult,
  type WriteOptions,
  writeDockerArchive,
} from './docker-archive-writer.js';
export { ImageError, type ImageErrorCode } from './errors.js';
export { followToStorePath } from './follow-to-store-path.js';
export type {
  ImageFormat,
  ImageInspection,
  InspectOptions,
  LayerSummary,
  ManifestSummary,
} from './image-inspection.js';
export {
  DEFAULT_CREATED,
  type ImageOptions,
  type ImagePlan,
  type PlannedLayer,
  planImage,
} from './image-plan.js';
export { inspectImage } from './inspect-image.js';
export type { Logger } from './logger.js';
