import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Digest } from '@storepack/image-spec';
import { READ_CHUNK_SIZE } from '../read-chunk-size.js';

/** A blob of an image on disk, with the digest and size a manifest lists it by, ready to stream. */
export interface SourceBlob {
  digest: Digest;
  size: number;
  /** Opens a fresh stream of the blob's bytes from `start` up to, not including, `end`. */
  open(start?: number, end?: number): Readable;
}

/** One encoding of a manifest: its exact bytes, whose digest names it in the registry. */
export interface ManifestVariant {
  mediaType: string;
  bytes: Buffer;
  digest: Digest;
}

/** A manifest to store in the registry with the blobs it lists. */
export interface SourceManifest {
  /** Config and layers of an image manifest, config first; empty for an index. */
  blobs: SourceBlob[];
  /**
   * Encodings to offer in order: the first one the registry accepts is kept. A docker-archive
   * gives an OCI manifest, then a Docker schema 2 one; an OCI image gives its own bytes only.
   */
  variants: ManifestVariant[];
}

/** An image on disk, read far enough to push it: manifests and where their blobs are. */
export interface PushSource {
  /** Image manifests of a multi-platform image, stored by digest before {@link top}. */
  children: SourceManifest[];
  /** The manifest or index stored under the reference's tag. */
  top: SourceManifest;
  /** Removes the temporary copy made of a gzip-compressed archive, if any. */
  cleanup(): Promise<void>;
}

/** A byte range of a file: a whole file, or one member of an uncompressed tar. */
export interface FileRegion {
  path: string;
  offset: number;
  size: number;
}

/** Opens a stream of a region, read from disk in chunks of `READ_CHUNK_SIZE`. */
export function openRegion(region: FileRegion): Readable {
  if (region.size === 0) {
    return Readable.from([]);
  }
  return createReadStream(region.path, {
    start: region.offset,
    end: region.offset + region.size - 1,
    highWaterMark: READ_CHUNK_SIZE,
  });
}

/** Returns a blob held in memory, such as a config read from an archive. */
export function bufferBlob(bytes: Buffer, digest: Digest): SourceBlob {
  return {
    digest,
    size: bytes.length,
    open: (start = 0, end = bytes.length) => Readable.from([bytes.subarray(start, end)]),
  };
}

/** Returns a blob stored in a file region, streamed from disk for each upload attempt. */
export function regionBlob(region: FileRegion, digest: Digest): SourceBlob {
  return {
    digest,
    size: region.size,
    open: (start = 0, end = region.size) =>
      openRegion({ path: region.path, offset: region.offset + start, size: end - start }),
  };
}

/** Reads a small region, such as a manifest or config, into memory. */
export async function readRegion(region: FileRegion): Promise<Buffer> {
  const file = await open(region.path, 'r');
  try {
    const bytes = Buffer.alloc(region.size);
    const { bytesRead } = await file.read(bytes, 0, region.size, region.offset);
    return bytes.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
