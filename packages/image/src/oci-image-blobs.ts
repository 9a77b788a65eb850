import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  blobPath,
  canonicalJson,
  createDescriptor,
  createOciManifest,
  type Descriptor,
  type Digest,
  type LayerCompression,
  layerMediaType,
  MediaTypes,
  type Platform,
} from '@storepack/image-spec';
import type { WriteOptions } from './docker-archive-writer.js';
import { FileOutput } from './file-output.js';
import { imageConfigBytes } from './image-config-bytes.js';
import type { ImagePlan } from './image-plan.js';
import { reportProgress } from './write-progress.js';

/** The blobs of one platform's image in an OCI layout. */
export interface OciImageBlobs {
  platform: Platform;
  /** Descriptor of the image manifest, with the platform, for an index to point at. */
  manifest: Descriptor;
  /** Digest of the config blob, the image ID that podman reports. */
  configDigest: Digest;
  layers: { digest: Digest; size: number; diffId: Digest; compression: LayerCompression }[];
}

/** Settings of {@link writeOciImageBlobs}. */
export interface OciBlobOptions extends WriteOptions {
  /**
   * Hard-links layer blobs that were built ahead, such as those of the layer cache, instead of
   * copying them. Only for a folder that nothing writes to while it exists, because the link shares
   * the file with the cache. Where the link fails, for example across file systems, the blob is
   * copied.
   */
  linkBuiltBlobs?: boolean;
}

/**
 * Writes the layers, config and manifest of `plan` under `folder/blobs/sha256/`, each named by its
 * digest. A layer streamed from the store is read once. A blob built ahead is copied, as a reflink
 * where the file system supports it.
 */
export async function writeOciImageBlobs(
  plan: ImagePlan,
  folder: string,
  options: OciBlobOptions = {},
): Promise<OciImageBlobs> {
  await mkdir(join(folder, 'blobs', 'sha256'), { recursive: true });

  const layers: OciImageBlobs['layers'] = [];
  for (const [index, layer] of plan.layers.entries()) {
    options.signal?.throwIfAborted();
    const position = { layer: index + 1, layers: plan.layers.length, size: layer.size };
    if (layer.path === undefined) {
      const temporary = temporaryName(join(folder, 'blobs'), `layer-${index}`);
      try {
        const stream = reportProgress(layer.createStream(), position, options.onProgress);
        await writeStreamFile(temporary, stream, options.signal);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      await rename(temporary, join(folder, blobPath(layer.digest())));
    } else {
      options.onProgress?.({ kind: 'layer', ...position, bytes: 0 });
      const target = join(folder, blobPath(layer.digest()));
      await placeBuiltBlob(layer.path, target, options.linkBuiltBlobs === true);
      options.onProgress?.({ kind: 'layer', ...position, bytes: layer.size });
    }
    const digest = layer.digest();
    layers.push({
      digest,
      size: layer.size,
      diffId: layer.diffId(),
      compression: layer.compression,
    });
  }

  const config = imageConfigBytes(
    plan,
    layers.map((layer) => layer.diffId),
  );
  const configDescriptor = await writeBlob(folder, MediaTypes.ociConfig, config.bytes);
  const manifest = canonicalJson(
    createOciManifest({
      config: configDescriptor,
      layers: layers.map(({ digest, size, compression }) => ({
        mediaType: layerMediaType(compression, 'oci'),
        digest,
        size,
      })),
      annotations: plan.annotations,
    }),
  );
  const manifestDescriptor = await writeBlob(folder, MediaTypes.ociManifest, manifest);

  const { os, architecture, variant } = plan.platform;
  const platform = { os, architecture, ...(variant === undefined ? {} : { variant }) };
  return {
    platform,
    manifest: { ...manifestDescriptor, platform },
    configDigest: config.digest,
    layers,
  };
}

/** Writes a small blob, such as a config, manifest or index, and returns its descriptor. */
export async function writeBlob(
  folder: string,
  mediaType: string,
  bytes: string,
): Promise<Descriptor> {
  const descriptor = createDescriptor(mediaType, bytes);
  await writeFileAtomicallyIn(folder, blobPath(descriptor.digest), bytes);
  return descriptor;
}

/**
 * Writes `bytes` to `folder/name` under a temporary name and renames it, so that a layout shared
 * with other writers never shows a half-written file under its final name.
 */
export async function writeFileAtomicallyIn(
  folder: string,
  name: string,
  bytes: string,
): Promise<void> {
  const target = join(folder, name);
  const temporary = temporaryName(dirname(target), basename(target));
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function temporaryName(folder: string, name: string): string {
  return join(folder, `.${name}.${randomBytes(6).toString('hex')}.partial`);
}

/**
 * Places the blob file at `source` at `target`. A link needs no temporary name, because it appears
 * whole, and a blob already at `target` has the same digest and so the same bytes. A copy is made
 * under a temporary name and renamed, like every other blob.
 */
async function placeBuiltBlob(source: string, target: string, linked: boolean): Promise<void> {
  if (linked) {
    try {
      await link(source, target);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        return;
      }
      // Any other failure, such as EXDEV across file systems, falls back to a copy.
    }
  }
  const temporary = temporaryName(dirname(target), basename(target));
  try {
    await copyFile(source, temporary, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function writeStreamFile(
  path: string,
  source: Readable,
  signal: AbortSignal | undefined,
): Promise<void> {
  const handle = await open(path, 'w');
  const output = new FileOutput(handle.fd, { close: () => handle.close() });
  await pipeline(source, output, signal === undefined ? {} : { signal });
}
