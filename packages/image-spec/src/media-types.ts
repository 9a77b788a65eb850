/** Media types of Docker image manifest v2 schema 2 and of the OCI image-spec v1, kept apart by name. */
export const MediaTypes = {
  /** OCI image manifest. */
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  /** OCI image index, a list of manifests for several platforms. */
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  /** OCI image config. */
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  /** OCI uncompressed layer tar. */
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  /** OCI gzip-compressed layer tar. */
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** OCI zstd-compressed layer tar. */
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** OCI uncompressed layer that registries may refuse to redistribute (deprecated in the spec). */
  ociLayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  /** OCI gzip non-distributable layer (deprecated in the spec). */
  ociLayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  /** OCI zstd non-distributable layer (deprecated in the spec). */
  ociLayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** OCI empty JSON blob `{}`, used as a placeholder config. */
  ociEmptyJson: 'application/vnd.oci.empty.v1+json',
  /** Docker image manifest, schema version 2. */
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Docker manifest list, the Docker counterpart of an OCI index. */
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** Docker image config. */
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  /** Docker gzip-compressed layer tar. */
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Docker uncompressed layer tar, used in docker-archive images loaded from files. */
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  /** Docker zstd-compressed layer tar. */
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  /** Docker foreign (non-distributable) gzip layer. */
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Any media type listed in {@link MediaTypes}. */
export type MediaType = (typeof MediaTypes)[keyof typeof MediaTypes];

/** Compression applied to a layer's tar stream. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

const LAYER_COMPRESSION: Readonly<Record<string, LayerCompression>> = {
  [MediaTypes.ociLayer]: 'none',
  [MediaTypes.ociLayerGzip]: 'gzip',
  [MediaTypes.ociLayerZstd]: 'zstd',
  [MediaTypes.ociLayerNonDistributable]: 'none',
  [MediaTypes.ociLayerNonDistributableGzip]: 'gzip',
  [MediaTypes.ociLayerNonDistributableZstd]: 'zstd',
  [MediaTypes.dockerLayer]: 'none',
  [MediaTypes.dockerLayerGzip]: 'gzip',
  [MediaTypes.dockerLayerZstd]: 'zstd',
  [MediaTypes.dockerLayerForeignGzip]: 'gzip',
};

/** Checks whether `mediaType` names a layer blob, Docker or OCI, compressed or not. */
export function isLayerMediaType(mediaType: string): boolean {
  return Object.hasOwn(LAYER_COMPRESSION, mediaType);
}

/** Returns the compression of a layer media type, or undefined when it is not a layer type. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  // The own-property check keeps names such as "toString" from reaching Object.prototype.
  return Object.hasOwn(LAYER_COMPRESSION, mediaType) ? LAYER_COMPRESSION[mediaType] : undefined;
}

/** Checks whether `mediaType` names a layer that registries are not expected to redistribute. */
export function isNonDistributableMediaType(mediaType: string): boolean {
  return mediaType.includes('.nondistributable.') || mediaType.includes('.foreign.');
}

/** Checks whether `mediaType` names a single-platform image manifest, Docker or OCI. */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

/** Checks whether `mediaType` names a multi-platform list: an OCI index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

/** Checks whether `mediaType` names an image config, Docker or OCI. */
export function isConfigMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociConfig || mediaType === MediaTypes.dockerConfig;
}

/** Returns the layer media type for a compression, in the OCI or the Docker family. */
export function layerMediaType(compression: LayerCompression, family: 'oci' | 'docker'): MediaType {
  if (family === 'oci') {
    if (compression === 'gzip') return MediaTypes.ociLayerGzip;
    if (compression === 'zstd') return MediaTypes.ociLayerZstd;
    return MediaTypes.ociLayer;
  }
  if (compression === 'gzip') return MediaTypes.dockerLayerGzip;
  if (compression === 'zstd') return MediaTypes.dockerLayerZstd;
  return MediaTypes.dockerLayer;
}
