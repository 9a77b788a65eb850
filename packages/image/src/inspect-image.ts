import { stat } from 'node:fs/promises';
import {
  DOCKER_ARCHIVE_MANIFEST_PATH,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
} from '@storepack/image-spec';
import { readDockerArchive } from './docker-archive-reader.js';
import { ImageError } from './errors.js';
import type { ImageInspection, InspectOptions } from './image-inspection.js';
import { ociArchiveMembers, ociLayoutFolder } from './oci-blob-sources.js';
import { readOciImage } from './oci-image-reader.js';
import { asReadError } from './read-error.js';
import { findMember, readTarMembers, type TarMembers } from './tar-members.js';

/**
 * Reads the image at `path` (a docker-archive, an oci-archive or an OCI layout folder), summarises
 * each of its manifests and validates it. A broken image gives issues; a path that cannot be read
 * or is no image raises `ImageError` with code `READ` or `NOT_IMAGE`.
 */
export async function inspectImage(
  path: string,
  options: InspectOptions = {},
): Promise<ImageInspection> {
  const { logger } = options;
  const stats = await stat(path).catch((error: unknown) => {
    throw asReadError(path, error, 'an image');
  });

  if (stats.isDirectory()) {
    const folder = ociLayoutFolder(path);
    const [layout, index] = await Promise.all([
      folder.file(OCI_LAYOUT_FILE),
      folder.file(OCI_INDEX_FILE),
    ]);
    if (layout === undefined && index === undefined) {
      throw new ImageError(
        'NOT_IMAGE',
        `reading ${path}: not an OCI image layout: found no ${OCI_LAYOUT_FILE} or ${OCI_INDEX_FILE}`,
        { path },
      );
    }
    return { format: 'oci-layout', ...(await readOciImage(folder, logger)) };
  }
  if (!stats.isFile()) {
    throw new ImageError('NOT_IMAGE', `reading ${path}: not an image: not a file or folder`, {
      path,
    });
  }

  let members: TarMembers;
  try {
    members = await readTarMembers(path, logger);
  } catch (error) {
    throw asReadError(path, error, 'a tar archive');
  }

  // NOTE: Docker 25 and later write both manifest.json and an OCI index into one archive. Such
  // an archive is read as a docker-archive only, so its index.json goes unchecked.
  if (findMember(members, DOCKER_ARCHIVE_MANIFEST_PATH) !== undefined) {
    return { format: 'docker-archive', ...readDockerArchive(members) };
  }
  if (
    findMember(members, OCI_LAYOUT_FILE) !== undefined ||
    findMember(members, OCI_INDEX_FILE) !== undefined
  ) {
    return { format: 'oci-archive', ...(await readOciImage(ociArchiveMembers(members), logger)) };
  }
  throw new ImageError(
    'NOT_IMAGE',
    `reading ${path}: not an image archive: found no ${DOCKER_ARCHIVE_MANIFEST_PATH}, ${OCI_INDEX_FILE} or ${OCI_LAYOUT_FILE} member`,
    { path },
  );
}
