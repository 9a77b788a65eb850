import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  blobPath,
  computeDigest,
  type Digest,
  isDigest,
  isIndexMediaType,
  isManifestMediaType,
  OCI_INDEX_FILE,
} from '@storepack/image-spec';
import { MAX_JSON_BYTES } from '../blob-digest.js';
import { RegistryError } from './errors.js';
import {
  type FileRegion,
  type PushSource,
  readRegion,
  regionBlob,
  type SourceBlob,
  type SourceManifest,
} from './push-source.js';
import { findRange, type TarIndex } from './tar-index.js';

/** Finds a file of an OCI image layout, such as `index.json` or `blobs/sha256/<hex>`. */
export type LayoutFiles = (name: string) => Promise<FileRegion | undefined>;

/** Finds the files of an OCI image layout folder. */
export function layoutFolderFiles(folder: string): LayoutFiles {
  return async (name) => {
    const file = path.join(folder, name);
    const stats = await stat(file).catch(() => undefined);
    return stats?.isFile() ? { path: file, offset: 0, size: stats.size } : undefined;
  };
}

/** Finds the members of an oci-archive, a tar of an OCI image layout. */
export function layoutArchiveFiles(archive: string, index: TarIndex): LayoutFiles {
  return async (name) => {
    const range = findRange(index, name);
    return range === undefined ? undefined : { path: archive, ...range };
  };
}

/** A descriptor as found in an index or manifest, before it is checked. */
interface FoundDescriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
}

/**
 * Reads an OCI image layout as an image to push. `index.json` must list one digest, under one or
 * more tags: an image manifest, pushed with its config and layers, or an index, whose image
 * manifests are pushed by digest before the index itself. When it lists several images, the one
 * whose `org.opencontainers.image.ref.name` is `tag`, or ends in `:tag`, is taken. Manifests and indexes keep their bytes, and so their digests.
 */
export async function ociLayoutSource(
  image: string,
  files: LayoutFiles,
  cleanup: () => Promise<void>,
  tag?: string,
): Promise<PushSource> {
  const fail = (message: string) =>
    new RegistryError('UNSUPPORTED_IMAGE', `reading ${image}: ${message}`);
  const readJson = async (name: string): Promise<{ bytes: Buffer; value: unknown }> => {
    const region = await files(name);
    if (region === undefined) throw fail(`${name} not found`);
    if (region.size > MAX_JSON_BYTES) {
      throw fail(`expected ${name} to be at most ${MAX_JSON_BYTES} bytes, found ${region.size}`);
    }
    const bytes = await readRegion(region);
    try {
      return { bytes, value: JSON.parse(bytes.toString('utf8')) };
    } catch {
      throw fail(`${name} is not valid JSON`);
    }
  };
  const readDescribed = async (descriptor: FoundDescriptor) => {
    const digest = checkDescriptor(descriptor, fail);
    const document = await readJson(blobPath(digest));
    if (computeDigest(document.bytes) !== digest) {
      throw fail(`${blobPath(digest)} does not match its digest`);
    }
    return { ...document, digest, mediaType: descriptor.mediaType as string };
  };
  const blobOf = async (descriptor: FoundDescriptor): Promise<SourceBlob> => {
    const digest = checkDescriptor(descriptor, fail);
    const region = await files(blobPath(digest));
    if (region === undefined) throw fail(`blob ${digest} not found`);
    if (region.size !== descriptor.size) {
      throw fail(
        `blob ${digest} has ${region.size} bytes, but its descriptor gives a size of ${descriptor.size}`,
      );
    }
    return regionBlob(region, digest);
  };
  const imageManifest = async (descriptor: FoundDescriptor): Promise<SourceManifest> => {
    const manifest = await readDescribed(descriptor);
    const value = manifest.value as { config?: FoundDescriptor; layers?: FoundDescriptor[] };
    const described = [value.config ?? {}, ...(Array.isArray(value.layers) ? value.layers : [])];
    const blobs: SourceBlob[] = [];
    for (const blob of described) blobs.push(await blobOf(blob));
    return { blobs, variants: [manifest] };
  };

  // Several entries may name one image by several tags, so they count as one when their digests agree.
  const entries = (await readJson(OCI_INDEX_FILE)).value as { manifests?: unknown };
  const all = Array.isArray(entries.manifests) ? (entries.manifests as FoundDescriptor[]) : [];
  const listed = chooseByTag(all, tag);
  const digests = new Set(listed.map((entry) => String(entry.digest)));
  if (digests.size !== 1) {
    throw fail(
      `expected ${OCI_INDEX_FILE} to list one image, found ${digests.size}: push an OCI layout with one image, or one whose index.json points at an image index`,
    );
  }
  const top = listed[0] as FoundDescriptor;
  const topType = String(top.mediaType);
  if (isManifestMediaType(topType)) {
    return { children: [], top: await imageManifest(top), cleanup };
  }
  if (!isIndexMediaType(topType)) {
    throw fail(`expected an image manifest or index in ${OCI_INDEX_FILE}, found ${topType}`);
  }

  const nested = await readDescribed(top);
  const children: SourceManifest[] = [];
  const childDescriptors = (nested.value as { manifests?: unknown }).manifests;
  for (const child of Array.isArray(childDescriptors) ? childDescriptors : []) {
    // NOTE: only image manifests below the index are pushed. A nested index or an artifact
    // manifest listed in it is missing from the registry, so the registry rejects the index.
    if (isManifestMediaType(String((child as FoundDescriptor).mediaType))) {
      children.push(await imageManifest(child as FoundDescriptor));
    }
  }
  return { children, top: { blobs: [], variants: [nested] }, cleanup };
}

function checkDescriptor(
  descriptor: FoundDescriptor,
  fail: (message: string) => RegistryError,
): Digest {
  const { digest, size, mediaType } = descriptor;
  if (typeof digest !== 'string' || !isDigest(digest) || typeof size !== 'number') {
    throw fail(
      `expected a descriptor with a digest and a size, found ${JSON.stringify(descriptor)}`,
    );
  }
  if (typeof mediaType !== 'string') {
    throw fail(`the descriptor of ${digest} has no media type`);
  }
  return digest;
}

/**
 * Keeps the entries of a layout's index whose ref name is `tag` or ends in `:tag`. This applies
 * only when the index lists several images and some of them match. Otherwise every entry is kept.
 */
function chooseByTag(entries: FoundDescriptor[], tag: string | undefined): FoundDescriptor[] {
  if (tag === undefined || new Set(entries.map((entry) => String(entry.digest))).size <= 1) {
    return entries;
  }
  const matching = entries.filter((entry) => {
    const annotations = (entry as { annotations?: Record<string, unknown> }).annotations;
    const refName = annotations?.['org.opencontainers.image.ref.name'];
    return typeof refName === 'string' && (refName === tag || refName.endsWith(`:${tag}`));
  });
  return matching.length > 0 ? matching : entries;
}
