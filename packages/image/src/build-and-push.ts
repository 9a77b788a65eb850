import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMultiPlatformImage } from './build-image.js';
import type { ImageOptions } from './image-plan.js';
import { type PushOptions, type PushResult, pushImage } from './registry/push-image.js';
import { parsePushReference } from './registry/push-reference.js';

/**
 * Builds the image of `images` (one per platform, as for {@link buildMultiPlatformImage}) into a
 * temporary OCI layout and pushes it to `reference`, then removes the layout. The reference is
 * checked before anything is built, so a reference without a registry host fails at once.
 */
export async function buildAndPushImage(
  images: ImageOptions[],
  reference: string,
  options: PushOptions = {},
): Promise<PushResult> {
  parsePushReference(reference);

  // NOTE: the layers are written to disk and read back for the upload. Streaming them to the
  // registry as they are built would read each store file once, at the cost of no HEAD check
  // before the upload, since a layer's digest is known only once it has streamed.
  const folder = await mkdtemp(join(tmpdir(), 'storepack-push-'));
  try {
    const layout = join(folder, 'image');
    await buildMultiPlatformImage(
      images,
      'oci',
      { path: layout },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    return await pushImage(layout, reference, options);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
