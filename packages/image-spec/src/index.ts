export { Annotations } from './annotations.js';
export { canonicalJson } from './canonical-json.js';
export { createDescriptor, type Descriptor, type DescriptorPlatform } from './descriptor.js';
export {
  computeDigest,
  createDigester,
  type Digest,
  type DigestAlgorithm,
  type Digester,
  isDigest,
  parseDigest,
} from './digest.js';
export {
  createRepositories,
  DOCKER_ARCHIVE_MANIFEST_PATH,
  DOCKER_ARCHIVE_REPOSITORIES_PATH,
  type DockerArchiveManifest,
  type DockerArchiveManifestEntry,
  type DockerRepositories,
  isLegacyLayerId,
  LEGACY_LAYER_VERSION,
  type LegacyLayerJson,
} from './docker-archive.js';
export { validateDockerArchiveManifest } from './docker-archive-validation.js';
export { ImageSpecError, type ImageSpecErrorCode } from './errors.js';
export {
  type ContainerConfig,
  createImageConfig,
  formatCreated,
  type Healthcheck,
  type HistoryEntry,
  type ImageConfig,
} from './image-config.js';
export { validateImageConfig } from './image-config-validation.js';
export { type ImageFacts, validateImage } from './image-validation.js';
export { validateIndex, validateManifest, validateOciLayout } from './manifest-validation.js';
export {
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableMediaType,
  type LayerCompression,
  layerCompression,
  layerMediaType,
  type MediaType,
  MediaTypes,
} from './media-types.js';
export { createOciIndex, type DockerManifestList, type OciIndex } from './oci-index.js';
export {
  blobPath,
  createOciLayout,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
  OCI_LAYOUT_VERSION,
  type OciLayout,
} from './oci-layout.js';
export { createOciManifest, type DockerManifest, type OciManifest } from './oci-manifest.js';
export {
  formatPlatform,
  hostSystem,
  KNOWN_SYSTEMS,
  type Platform,
  platformFromSystem,
  systemFromPlatform,
} from './platform.js';
export {
  DEFAULT_REGISTRY,
  formatFamiliarReference,
  formatReference,
  type ImageReference,
  OFFICIAL_NAMESPACE,
  parseReference,
  parseRepoTag,
} from './reference.js';
export { formatIssue, isRfc3339, type ValidationIssue } from './validation.js';
