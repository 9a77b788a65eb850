import type { Descriptor } from './descriptor.js';
import { MediaTypes } from './media-types.js';

/**
 * OCI image index: a list of manifests, typically one per platform. An OCI layout's `index.json`
 * has the same form.
 */
export interface OciIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** Media type of this index, which OCI recommends setting. */
  mediaType?: typeof MediaTypes.ociIndex;
  /** Type of the artifact, when the index lists artifacts. */
  artifactType?: string;
  /** Descriptors of the manifests, each with its platform when the index spans platforms. */
  manifests: Descriptor[];
  /** Manifest that this index refers to. */
  subject?: Descriptor;
  /** Arbitrary metadata, keyed as in {@link Annotations}. */
  annotations?: Record<string, string>;
}

/** Docker manifest list: the Docker counterpart of an OCI index, in which every entry has a platform. */
export interface DockerManifestList {
  /** Always 2. */
  schemaVersion: 2;
  /** Media type of this list, required by Docker. */
  mediaType: typeof MediaTypes.dockerManifestList;
  /** Descriptors of the manifests, each with its platform. */
  manifests: Descriptor[];
}

/** Builds an OCI image index with its media type set, listing `manifests`. */
export function createOciIndex(
  manifests: Descriptor[],
  annotations?: Record<string, string>,
): OciIndex {
  const index: OciIndex = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [...manifests],
  };
  if (annotations !== undefined && Object.keys(annotations).length > 0) {
    index.annotations = annotations;
  }
  return index;
}
