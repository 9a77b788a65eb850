import { readdir, realpath, stat } from 'node:fs/promises';
import { OCI_LAYOUT_FILE } from '@storepack/image-spec';
import { createFolderAtomically } from './atomic-folder.js';
import type { WriteOptions } from './docker-archive-writer.js';
import { ImageError } from './errors.js';
import type { ImagePlan } from './image-plan.js';
import { type OciImageResult, writeOciLayoutInto } from './oci-layout-writer.js';
import { asWriteError } from './write-error.js';

/**
 * Writes `plans` to the OCI image layout at `path`, as `skopeo copy` writes into one. A missing
 * folder is filled beside `path` and moved into place. An empty folder, or an existing layout,
 * receives the new blobs and an updated `index.json`: entries with the new images' ref names are
 * replaced and every other image stays. A symlink is followed. Anything else at `path` is an error
 * before anything is written.
 */
export async function writeOciLayout(
  plans: ImagePlan | ImagePlan[],
  path: string,
  options: WriteOptions = {},
): Promise<OciImageResult> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      return undefined;
    }
    throw asWriteError(path, error);
  });
  if (stats === undefined) {
    return createFolderAtomically(path, (folder) => writeOciLayoutInto(plans, folder, options));
  }

  const names = stats.isDirectory() ? await readdir(path) : undefined;
  if (names === undefined || (names.length > 0 && !names.includes(OCI_LAYOUT_FILE))) {
    throw new ImageError(
      'WRITE',
      `writing ${path}: it exists and is not an OCI image layout: remove it or choose another path`,
      { path },
    );
  }
  try {
    return await writeOciLayoutInto(plans, await realpath(path), options);
  } catch (error) {
    throw asWriteError(path, error);
  }
}
