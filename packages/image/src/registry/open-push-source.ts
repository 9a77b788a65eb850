import { stat } from 'node:fs/promises';
import {
  DOCKER_ARCHIVE_MANIFEST_PATH,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
} from '@storepack/image-spec';
import { ImageError } from '../errors.js';
import { asReadError } from '../read-error.js';
import { dockerArchiveSource } from './docker-archive-source.js';
import { layoutArchiveFiles, layoutFolderFiles, ociLayoutSource } from './oci-source.js';
import type { PushSource } from './push-source.js';
import { findRange, indexTar, type TarIndex } from './tar-index.js';
import { seekableArchive } from './uncompressed-archive.js';

/**
 * Opens an image on disk for pushing: a docker-archive (plain or gzip-compressed), an oci-archive
 * or an OCI image layout folder, the formats `inspectImage` reads. Only headers, manifests and
 * configs are read here; layers are streamed when they are uploaded. In a layout that contains
 * several images, `tag` picks the one of that ref name. Raises `ImageError` with
 * code `READ` or `NOT_IMAGE` for a path that cannot be read or is no image.
 */
export async function openPushSource(image: string, tag?: string): Promise<PushSource> {
  const stats = await stat(image).catch((error: unknown) => {
    throw asReadError(image, error, 'an image');
  });

  if (stats.isDirectory()) {
    const files = layoutFolderFiles(image);
    if (
      (await files(OCI_LAYOUT_FILE)) === undefined &&
      (await files(OCI_INDEX_FILE)) === undefined
    ) {
      throw new ImageError(
        'NOT_IMAGE',
        `reading ${image}: not an OCI image layout: found no ${OCI_LAYOUT_FILE} or ${OCI_INDEX_FILE}`,
        { path: image },
      );
    }
    return ociLayoutSource(image, files, async () => undefined, tag);
  }

  const archive = await seekableArchive(image).catch((error: unknown) => {
    throw asReadError(image, error, 'a readable archive');
  });
  try {
    let index: TarIndex;
    try {
      index = await indexTar(archive.path);
    } catch (error) {
      throw asReadError(image, error, 'a tar archive');
    }
    if (findRange(index, DOCKER_ARCHIVE_MANIFEST_PATH) !== undefined) {
      return await dockerArchiveSource(image, archive.path, index, archive.cleanup);
    }
    if (findRange(index, OCI_INDEX_FILE) !== undefined) {
      return await ociLayoutSource(
        image,
        layoutArchiveFiles(archive.path, index),
        archive.cleanup,
        tag,
      );
    }
    throw new ImageError(
      'NOT_IMAGE',
      `reading ${image}: not an image archive: found no ${DOCKER_ARCHIVE_MANIFEST_PATH} or ${OCI_INDEX_FILE} member`,
      { path: image },
    );
  } catch (error) {
    await archive.cleanup();
    throw error;
  }
}
