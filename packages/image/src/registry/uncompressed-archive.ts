import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Digest } from '@storepack/image-spec';
import { sniffCompression } from '../blob-digest.js';
import { type FileRegion, openRegion } from './push-source.js';

/** An archive that can be read at any offset, and how to remove it when it is a temporary copy. */
export interface SeekableArchive {
  path: string;
  cleanup(): Promise<void>;
}

/**
 * Returns an archive whose members can be read by offset. A gzip-compressed archive, which
 * `docker load` also accepts, is gunzipped into a temporary file first, because gzip cannot be
 * read from the middle.
 */
export async function seekableArchive(archive: string): Promise<SeekableArchive> {
  if ((await firstBytesCompression(archive)) !== 'gzip') {
    return { path: archive, cleanup: async () => undefined };
  }
  const folder = await mkdtemp(path.join(os.tmpdir(), 'storepack-push-'));
  const copy = path.join(folder, 'archive.tar');
  try {
    await pipeline(createReadStream(archive), createGunzip(), createWriteStream(copy));
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  return { path: copy, cleanup: () => rm(folder, { recursive: true, force: true }) };
}

/** Returns the compression of a file or region, from its first bytes. */
export async function firstBytesCompression(
  file: string,
  offset = 0,
): Promise<ReturnType<typeof sniffCompression>> {
  const handle = await open(file, 'r');
  try {
    const start = Buffer.alloc(6);
    const { bytesRead } = await handle.read(start, 0, start.length, offset);
    return sniffCompression(start.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** Computes the sha256 digest of a region by streaming it. */
export async function hashRegion(region: FileRegion): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of openRegion(region)) {
    hash.update(chunk as Buffer);
  }
  return `sha256:${hash.digest('hex')}`;
}
