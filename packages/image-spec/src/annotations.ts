/** Pre-defined OCI annotation keys, for manifests, indexes and descriptors. */
export const Annotations = {
  /** Creation time of the image, in RFC 3339. */
  created: 'org.opencontainers.image.created',
  /** People or organisation responsible for the image. */
  authors: 'org.opencontainers.image.authors',
  /** URL with more information on the image. */
  url: 'org.opencontainers.image.url',
  /** URL of the image's documentation. */
  documentation: 'org.opencontainers.image.documentation',
  /** URL of the source code the image was built from. */
  source: 'org.opencontainers.image.source',
  /** Version of the packaged software. */
  version: 'org.opencontainers.image.version',
  /** Source control revision the image was built from. */
  revision: 'org.opencontainers.image.revision',
  /** Name of the distributing entity. */
  vendor: 'org.opencontainers.image.vendor',
  /** License of the contained software, as an SPDX expression. */
  licenses: 'org.opencontainers.image.licenses',
  /** Name of a reference in an OCI layout's `index.json`, usually the tag. */
  refName: 'org.opencontainers.image.ref.name',
  /** Human-readable title of the image. */
  title: 'org.opencontainers.image.title',
  /** Human-readable description of the image. */
  description: 'org.opencontainers.image.description',
  /** Digest of the image this one was built on. */
  baseDigest: 'org.opencontainers.image.base.digest',
  /** Reference of the image this one was built on. */
  baseName: 'org.opencontainers.image.base.name',
} as const;
