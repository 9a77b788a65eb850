import type { Digest, Platform, ValidationIssue } from '@storepack/image-spec';
import type { Logger } from './logger.js';

/** Format of an image on disk. */
export type ImageFormat = 'docker-archive' | 'oci-archive' | 'oci-layout';

/** One layer of an inspected image. */
export interface LayerSummary {
  /** Digest of the blob: the descriptor's in an OCI image, the member's sha256 in a docker-archive. */
  digest: Digest | undefined;
  /** Media type: the descriptor's, or in a docker-archive the Docker type of the compression found. */
  mediaType: string | undefined;
  /** Size of the blob in bytes, as stored: compressed when the layer is compressed. */
  size: number | undefined;
  /** sha256 of the uncompressed tar; undefined when the blob is missing or not gzip or plain. */
  diffId: Digest | undefined;
}

/** One image manifest of an inspected image, with the parts of its config that a user reads first. */
export interface ManifestSummary {
  /** Digest of the manifest blob; undefined in a docker-archive, which has no manifest blob. */
  digest: Digest | undefined;
  /** References that name this manifest: its `RepoTags` or `org.opencontainers.image.ref.name`. */
  references: string[];
  /** Platform from the config, or from the index entry when the config cannot be read. */
  platform: Platform | undefined;
  /** Digest of the config blob, which Docker and podman show as the image ID. */
  configDigest: Digest | undefined;
  /** Creation time from the config, in RFC 3339. */
  created: string | undefined;
  /** `config.Entrypoint` of the image config. */
  entrypoint: string[] | undefined;
  /** `config.Cmd` of the image config. */
  cmd: string[] | undefined;
  /** `config.Env` of the image config, `NAME=value` entries. */
  env: string[] | undefined;
  /** `config.WorkingDir` of the image config. */
  workingDir: string | undefined;
  /** `config.User` of the image config. */
  user: string | undefined;
  /** Layers, base layer first. */
  layers: LayerSummary[];
  /** Bytes of the config and layer blobs as stored, the amount a registry would transfer. */
  totalSize: number;
}

/** Result of {@link inspectImage}: a summary of each manifest of an image and every issue found. */
export interface ImageInspection {
  /** Format of the image on disk. */
  format: ImageFormat;
  /** Every reference in the image, in the order the manifests list them. */
  references: string[];
  /** Image manifests, one per platform of a multi-platform image. */
  manifests: ManifestSummary[];
  /** Every problem found, each at a path that starts with the file it is in. */
  issues: ValidationIssue[];
}

/** Options of {@link inspectImage}. */
export interface InspectOptions {
  logger?: Logger;
}
