export {
  DEFAULT_MAX_LAYERS,
  DEFAULT_PLANNER,
  PLANNER_NAMES,
  type PlannerName,
} from '@storepack/layers';
export { writeFileAtomically } from './atomic-file.js';
export { createFolderAtomically } from './atomic-folder.js';
export { buildAndPushImage } from './build-and-push.js';
export {
  type BuildResult,
  buildImage,
  buildMultiPlatformImage,
  type ImageTarget,
  type OutputFormat,
} from './build-image.js';
export { defaultArchiveFileName, defaultOutputName, defaultRepoTag } from './default-names.js';
export {
  type ImageResult,
  type WriteOptions,
  writeDockerArchive,
} from './docker-archive-writer.js';
export { ImageError, type ImageErrorCode } from './errors.js';
export { FileOutput, type FileOutputOptions } from './file-output.js';
export { followToStorePath } from './follow-to-store-path.js';
export type {
  ImageFormat,
  ImageInspection,
  InspectOptions,
  LayerSummary,
  ManifestSummary,
} from './image-inspection.js';
export { cachedLayer, type ImageLayer, streamedLayer } from './image-layer.js';
export { type LayerBlobOptions, makeImageLayers } from './image-layers.js';
export {
  DEFAULT_CREATED,
  type ImageOptions,
  type ImagePlan,
  planImage,
} from './image-plan.js';
export {
  type ContainerSettings,
  parseCommand,
  parseCreated,
  parseExposedPort,
  parseExtraDirectory,
  parseKeyValue,
  parseSymlink,
  type SymlinkSpec,
} from './image-settings.js';
export { inspectImage } from './inspect-image.js';
export { type LayerSourceOptions, planLayerSources } from './layer-sources.js';
export type { Logger } from './logger.js';
export { writeOciArchive } from './oci-archive-writer.js';
export { type OciBlobOptions, type OciImageBlobs, writeOciImageBlobs } from './oci-image-blobs.js';
export { writeOciLayout } from './oci-layout-target.js';
export { type OciImageResult, writeOciLayoutInto } from './oci-layout-writer.js';
export type { BlobStatus } from './registry/blob-upload.js';
export {
  authFilePaths,
  findCredentials,
  type RegistryCredentials,
} from './registry/credentials.js';
export { RegistryError, type RegistryErrorCode } from './registry/errors.js';
export {
  type PushedBlob,
  type PushOptions,
  type PushResult,
  pushImage,
} from './registry/push-image.js';
export { parsePushReference } from './registry/push-reference.js';
export type { RetryPolicy } from './registry/retry.js';
export type { BuildProgress, ClosureProgress, WriteProgress } from './write-progress.js';
