import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Annotations,
  blobPath,
  canonicalJson,
  createDescriptor,
  createOciIndex,
  createOciLayout,
  createOciManifest,
  type Descriptor,
  type Digest,
  MediaTypes,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
} from '@storepack/image-spec';
import type { WriteOptions } from './docker-archive-writer.js';
import { imageConfigBytes } from './image-config-bytes.js';
import type { ImagePlan } from './image-plan.js';

/** Digests that identify an image written as an OCI layout. */
export interface OciImageResult {
  /** Digest of the image manifest. */
  manifestDigest: Digest;
  /** Digest of the config blob, the image ID that podman reports. */
  configDigest: Digest;
  /** The `org.opencontainers.image.ref.name` of each entry in `index.json`. */
  refNames: string[];
  layers: { digest: Digest; size: number; diffId: Digest }[];
}

/**
 * Writes `plan` into `folder`, which must exist and be empty, as an OCI image layout: the
 * `oci-layout` file, `index.json` with one entry per tag, and the blobs under `blobs/sha256/`.
 * Layers are written uncompressed, each read from the store once.
 */
export async function writeOciLayoutInto(
  plan: ImagePlan,
  folder: string,
  options: WriteOptions = {},
): Promise<OciImageResult> {
  const blobs = join(folder, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });

  const layers: OciImageResult['layers'] = [];
  for (const [index, { layer }] of plan.layers.entries()) {
    options.signal?.throwIfAborted();
    await writeStreamBlob(folder, `layer-${index}`, layer.createStream(), options.signal);
    // An uncompressed layer's digest is its diff ID, which the layer computed as it streamed.
    const diffId = layer.diffId();
    await rename(join(folder, 'blobs', `.layer-${index}.partial`), join(folder, blobPath(diffId)));
    layers.push({ digest: diffId, size: layer.size, diffId });
  }

  const config = imageConfigBytes(
    plan,
    layers.map((layer) => layer.diffId),
  );
  const configDescriptor = await writeBlob(folder, MediaTypes.ociConfig, config.bytes);
  const manifest = canonicalJson(
    createOciManifest({
      config: configDescriptor,
      layers: layers.map(({ digest, size }) => ({ mediaType: MediaTypes.ociLayer, digest, size })),
      annotations: plan.annotations,
    }),
  );
  const manifestDescriptor = await writeBlob(folder, MediaTypes.ociManifest, manifest);

  const platform = {
    os: plan.platform.os,
    architecture: plan.platform.architecture,
    ...(plan.platform.variant === undefined ? {} : { variant: plan.platform.variant }),
  };
  const entries: Descriptor[] = plan.repoTags.map((refName) => ({
    ...manifestDescriptor,
    platform,
    annotations: { [Annotations.refName]: refName },
  }));
  await writeFile(join(folder, OCI_INDEX_FILE), canonicalJson(createOciIndex(entries)));
  await writeFile(join(folder, OCI_LAYOUT_FILE), canonicalJson(createOciLayout()));

  return {
    manifestDigest: manifestDescriptor.digest,
    configDigest: config.digest,
    refNames: plan.repoTags,
    layers,
  };
}

async function writeBlob(folder: string, mediaType: string, bytes: string): Promise<Descriptor> {
  const descriptor = createDescriptor(mediaType, bytes);
  await writeFile(join(folder, blobPath(descriptor.digest)), bytes);
  return descriptor;
}

/** Streams `source` to `blobs/.NAME.partial`, for the caller to rename once its digest is known. */
async function writeStreamBlob(
  folder: string,
  name: string,
  source: Readable,
  signal: AbortSignal | undefined,
): Promise<void> {
  const temporary = join(folder, 'blobs', `.${name}.partial`);
  await pipeline(source, createWriteStream(temporary), signal === undefined ? {} : { signal });
}
