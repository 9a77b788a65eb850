import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { blobPath, type Digest, isDigest } from '@storepack/image-spec';
import { type BlobDigests, digestBlob } from './blob-digest.js';
import type { OciBlobSource } from './oci-image-reader.js';
import { asReadError } from './read-error.js';
import { findMember, type TarMembers } from './tar-members.js';

/**
 * Reads an OCI image layout folder lazily: each file is hashed the first time it is asked for,
 * by streaming it from disk. A missing file reads as undefined; other failures raise `READ`.
 */
export function ociLayoutFolder(folder: string): OciBlobSource {
  const cache = new Map<string, Promise<BlobDigests | undefined>>();
  const read = (name: string): Promise<BlobDigests | undefined> => {
    let facts = cache.get(name);
    if (facts === undefined) {
      facts = readFile(join(folder, name));
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

async function readFile(path: string): Promise<BlobDigests | undefined> {
  try {
    return await digestBlob(createReadStream(path));
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      return undefined;
    }
    throw asReadError(path, error, 'a readable file');
  }
}
