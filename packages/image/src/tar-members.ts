import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { type BlobDigests, digestBlob, sniffCompression } from './blob-digest.js';
import type { Logger } from './logger.js';

/** The members of an image archive, each regular file hashed, each link kept by its target. */
export interface TarMembers {
  /** Regular files by normalised name, such as `blobs/sha256/<hex>` or `<id>/layer.tar`. */
  files: Map<string, BlobDigests>;
  /** Symbolic and hard links by normalised name, each to the normalised name it points to. */
  links: Map<string, string>;
}

/** Most links followed from one name, enough for the one-hop links `skopeo copy` writes. */
const MAX_LINK_HOPS = 16;

/**
 * Reads an image archive in one streaming pass, hashing every regular member as it passes. A
 * gzip-compressed archive is gunzipped first, as `docker load` accepts one. Raises the tar
 * parser's error, such as `Invalid tar header`, for a file that is not a tar.
 */
export async function readTarMembers(path: string, logger?: Logger): Promise<TarMembers> {
  const members: TarMembers = { files: new Map(), links: new Map() };
  const extract = tar.extract();
  const reading = (await isGzipFile(path))
    ? pipeline(createReadStream(path), createGunzip(), extract)
    : pipeline(createReadStream(path), extract);
  // The loop below reports the same failure, so this one only needs catching.
  const readingDone = reading.catch((error: unknown) => error);

  for await (const entry of extract) {
    const name = normaliseName(entry.header.name);
    const type = entry.header.type ?? 'file';
    if (type === 'file' || type === 'contiguous-file') {
      members.files.set(name, await digestBlob(entry));
      members.links.delete(name);
      continue;
    }

    entry.resume();
    const linkname = entry.header.linkname ?? '';
    if (type === 'symlink') {
      members.links.set(name, resolveSymlink(name, linkname));
      members.files.delete(name);
    } else if (type === 'link') {
      members.links.set(name, normaliseName(linkname));
      members.files.delete(name);
    }
  }

  const failure = await readingDone;
  if (failure !== undefined) {
    throw failure;
  }
  logger?.debug('archive read', { path, files: members.files.size, links: members.links.size });
  return members;
}

/** Returns the regular file at `name`, following links, or undefined when there is none. */
export function findMember(members: TarMembers, name: string): BlobDigests | undefined {
  let current = normaliseName(name);
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops += 1) {
    const file = members.files.get(current);
    if (file !== undefined) {
      return file;
    }
    const target = members.links.get(current);
    if (target === undefined) {
      return undefined;
    }
    current = target;
  }
  return undefined;
}

/** Removes `./`, leading and trailing slashes and `..` steps above the root from a member name. */
function normaliseName(name: string): string {
  const normalised = posix.normalize(`/${name}`).replace(/^\/+|\/+$/g, '');
  return normalised === '.' ? '' : normalised;
}

/** Resolves a symbolic link's target to a member name, reading a relative target from the link's folder. */
function resolveSymlink(name: string, target: string): string {
  return normaliseName(target.startsWith('/') ? target : posix.join(posix.dirname(name), target));
}

async function isGzipFile(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const start = Buffer.alloc(2);
    const { bytesRead } = await file.read(start, 0, 2, 0);
    return sniffCompression(start.subarray(0, bytesRead)) === 'gzip';
  } finally {
    await file.close();
  }
}
