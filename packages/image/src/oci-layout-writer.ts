import { readFile } from 'node:fs/promises';
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
import { ImageError } from './errors.js';
import type { ImagePlan } from './image-plan.js';
import {
  type OciBlobOptions,
  type OciImageBlobs,
  writeBlob,
  writeFileAtomicallyIn,
  writeOciImageBlobs,
} from './oci-image-blobs.js';

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
 * Writes `plans` into `folder`, an empty folder or an OCI image layout: the blobs under
 * `blobs/sha256/`, the `oci-layout` file and an entry in `index.json` for each tag of the first
 * plan. Entries of an existing `index.json` with other ref names are kept. One plan gives a plain
 * image manifest. Several plans, one per platform, share their blobs and are listed in an image
 * index, which `index.json` points at, as multi-platform layouts are.
 */
export async function writeOciLayoutInto(
  plans: ImagePlan | ImagePlan[],
  folder: string,
  options: OciBlobOptions = {},
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
  const kept = (await existingEntries(folder)).filter(
    (entry) => !refNames.includes(entry.annotations?.[Annotations.refName] ?? ''),
  );
  // index.json is replaced by a rename, so a reader sees the old index or the new one, never half.
  await writeFileAtomicallyIn(
    folder,
    OCI_INDEX_FILE,
    canonicalJson(createOciIndex([...kept, ...entries])),
  );
  await writeFileAtomicallyIn(folder, OCI_LAYOUT_FILE, canonicalJson(createOciLayout()));

  return { manifestDigest: target.digest, refNames, images };
}

/** Reads the entries of an existing `index.json` in `folder`; none when there is no such file. */
async function existingEntries(folder: string): Promise<Descriptor[]> {
  const text = await readFile(join(folder, OCI_INDEX_FILE), 'utf8').catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        return undefined;
      }
      throw error;
    },
  );
  if (text === undefined) {
    return [];
  }
  try {
    const manifests = (JSON.parse(text) as { manifests?: unknown }).manifests;
    if (!Array.isArray(manifests)) {
      throw new Error('it has no "manifests" array');
    }
    return manifests as Descriptor[];
  } catch (error) {
    throw new ImageError(
      'WRITE',
      `updating ${join(folder, OCI_INDEX_FILE)}: not a valid OCI index: ${(error as Error).message}`,
      { path: join(folder, OCI_INDEX_FILE) },
    );
  }
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
