import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Annotations,
  canonicalJson,
  createOciIndex,
  createOciLayout,
  type Descriptor,
  type Digest,
  formatPlatform,
  MediaTypes,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
} from '@storepack/image-spec';
import type { WriteOptions } from './docker-archive-writer.js';
import { ImageError } from './errors.js';
import type { ImagePlan } from './image-plan.js';
import { type OciImageBlobs, writeBlob, writeOciImageBlobs } from './oci-image-blobs.js';

/** Digests that identify an image written as an OCI layout. */
export interface OciImageResult {
  /** Digest of what `index.json` points at: the image manifest, or an image index for several platforms. */
  manifestDigest: Digest;
  /** The `org.opencontainers.image.ref.name` of each entry in `index.json`. */
  refNames: string[];
  /** The image of each platform. */
  images: OciImageBlobs[];
}

/**
 * Writes `plans` into `folder`, which must exist and be empty, as an OCI image layout: the blobs
 * under `blobs/sha256/`, the `oci-layout` file and `index.json` with one entry per tag of the first
 * plan. One plan gives a plain image manifest. Several plans, one per platform, share their blobs
 * and are listed in an image index, which `index.json` points at, as multi-platform layouts are.
 */
export async function writeOciLayoutInto(
  plans: ImagePlan | ImagePlan[],
  folder: string,
  options: WriteOptions = {},
): Promise<OciImageResult> {
  const list = Array.isArray(plans) ? plans : [plans];
  checkDistinctPlatforms(list);

  const images: OciImageBlobs[] = [];
  for (const plan of list) {
    images.push(await writeOciImageBlobs(plan, folder, options));
  }

  const [first] = images as [OciImageBlobs];
  const target: Descriptor =
    images.length === 1
      ? first.manifest
      : await writeBlob(
          folder,
          MediaTypes.ociIndex,
          canonicalJson(createOciIndex(images.map((image) => image.manifest))),
        );

  const refNames = (list[0] as ImagePlan).repoTags;
  const entries = refNames.map((refName) => ({
    ...target,
    annotations: { [Annotations.refName]: refName },
  }));
  await writeFile(join(folder, OCI_INDEX_FILE), canonicalJson(createOciIndex(entries)));
  await writeFile(join(folder, OCI_LAYOUT_FILE), canonicalJson(createOciLayout()));

  return { manifestDigest: target.digest, refNames, images };
}

function checkDistinctPlatforms(plans: ImagePlan[]): void {
  const seen = new Set<string>();
  for (const { platform } of plans) {
    const name = formatPlatform(platform);
    if (seen.has(name)) {
      throw new ImageError(
        'INVALID_OPTION',
        `two images for platform ${name}: give each --system once`,
      );
    }
    seen.add(name);
  }
}
