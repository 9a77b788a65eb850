import type { Descriptor } from './descriptor.js';
import { MediaTypes } from './media-types.js';

/** OCI image manifest: one image's config and layers. */
export interface OciManifest {
  /** Always 2, kept for compatibility with Docker's schema versions. */
  schemaVersion: 2;
  /** Media type of this manifest, which OCI recommends setting. */
  mediaType?: typeof MediaTypes.ociManifest;
  /** Type of the artifact, when the manifest describes an artifact rather than an image. */
  artifactType?: string;
  /** Descriptor of the image config. */
  config: Descriptor;
  /** Descriptors of the layers, base layer first. */
  layers: Descriptor[];
  /** Manifest that this one refers to, such as the image a signature is for. */
  subject?: Descriptor;
  /** Arbitrary metadata, keyed as in {@link Annotations}. */
  annotations?: Record<string, string>;
}

/** Docker image manifest v2 schema 2, as registries serve it to Docker clients. */
export interface DockerManifest {
  /** Always 2. */
  schemaVersion: 2;
  /** Media type of this manifest, required by Docker. */
  mediaType: typeof MediaTypes.dockerManifest;
  /** Descriptor of the image config. */
  config: Descriptor;
  /** Descriptors of the layers, base layer first. */
  layers: Descriptor[];
}

/** Builds an OCI image manifest with its media type set, listing `config` and `layers`. */
export function createOciManifest(options: {
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}): OciManifest {
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: options.config,
    layers: [...options.layers],
  };
  if (options.annotations !== undefined && Object.keys(options.annotations).length > 0) {
    manifest.annotations = options.annotations;
  }
  return manifest;
}
