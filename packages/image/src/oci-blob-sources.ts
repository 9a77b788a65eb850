import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { blobPath, type Digest, isDigest } from '@storepack/image-spec';
import { type BlobDigests, digestBlob } from './blob-digest.js';
import { ImageError } from './errors.js';
import type { OciBlobSource } from './oci-image-reader.js';
import { READ_CHUNK_SIZE } from './read-chunk-size.js';
import { asReadError } from './read-error.js';
import { findMember, type TarMembers } from './tar-members.js';

/**
 * Reads an OCI image layout folder lazily: each file is hashed the first time it is asked for,
 * by streaming it from disk. A missing file reads as undefined; other failures raise `READ`.
 * Only regular files inside the folder are read: a symlink, a FIFO or a device in the layout is an
 * error, so that a crafted layout can neither hang the reader nor make it read files elsewhere.
 */
export function ociLayoutFolder(folder: string): OciBlobSource {
  const cache = new Map<string, Promise<BlobDigests | undefined>>();
  let base: Promise<string> | undefined;
  const layoutFolder = () => {
    base ??= realpath(folder);
    return base;
  };
  const read = (name: string): Promise<BlobDigests | undefined> => {
    let facts = cache.get(name);
    if (facts === undefined) {
      facts = readFile(folder, name, layoutFolder);
      cache.set(name, facts);
    }
    return facts;
  };

  return {
    file: (name) => read(name),
    blob: (digest) => (isDigest(digest) ? read(blobPath(digest)) : Promise.resolve(undefined)),
  };
}

/** Reads an OCI image layout from the members of an archive that was hashed in one pass. */
export function ociArchiveMembers(members: TarMembers): OciBlobSource {
  return {
    file: async (name) => findMember(members, name),
    blob: async (digest: Digest) =>
      isDigest(digest) ? findMember(members, blobPath(digest)) : undefined,
  };
}

async function readFile(
  folder: string,
  name: string,
  layoutFolder: () => Promise<string>,
): Promise<BlobDigests | undefined> {
  const path = join(folder, name);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK keeps the open of a FIFO from waiting for a writer; fstat then rejects it.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      return undefined;
    }
    if (error instanceof Error && 'code' in error && error.code === 'ELOOP') {
      throw notInLayout(path, 'a symbolic link');
    }
    throw asReadError(path, error, 'a readable file');
  }

  try {
    if (!(await handle.stat()).isFile()) {
      throw notInLayout(path, 'not a regular file');
    }
    // A folder on the way, such as blobs/, may itself be a link to somewhere else.
    const [real, base] = await Promise.all([realpath(path), layoutFolder()]);
    if (!real.startsWith(`${base}${sep}`)) {
      throw notInLayout(path, `a link out of the layout, to ${real}`);
    }
    return await digestBlob(
      handle.createReadStream({ autoClose: false, highWaterMark: READ_CHUNK_SIZE }),
    );
  } catch (error) {
    throw error instanceof ImageError ? error : asReadError(path, error, 'a readable file');
  } finally {
    await handle.close();
  }
}

function notInLayout(path: string, what: string): ImageError {
  return new ImageError(
    'NOT_IMAGE',
    `reading ${path}: ${what}: an image layout holds only regular files`,
    {
      path,
    },
  );
}
