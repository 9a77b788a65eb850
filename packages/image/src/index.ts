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
export {
  DEFAULT_CREATED,
  type ImageOptions,
  type ImagePlan,
  type PlannedLayer,
  planImage,
} from './image-plan.js';
export type { Logger } from './logger.js';
