import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { Digest } from '@storepack/image-spec';

/** Compression of a blob, recognised by its first bytes rather than by a media type. */
export type BlobCompression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

/** Facts about a blob gathered in one pass over its bytes. */
export interface BlobDigests {
  /** Size in bytes. */
  size: number;
  /** sha256 digest of the bytes as stored. */
  digest: Digest;
  /** Compression found in the first bytes; `none` for anything that is not a known format. */
  compression: BlobCompression;
  /** sha256 of the uncompressed bytes, for `none` and readable `gzip` blobs only. */
  diffId: Digest | undefined;
  /** Error message of gunzip on a `gzip` blob that failed to decompress. */
  gzipError: string | undefined;
  /** The bytes of a blob that starts like a JSON document and is at most {@link MAX_JSON_BYTES}. */
  json: Buffer | undefined;
}

/** Largest manifest, index or config kept in memory to be parsed. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** Bytes needed to recognise every compression in {@link BlobCompression}: the xz magic. */
const HEAD_BYTES = 6;

/**
 * Hashes a blob as it streams: its sha256 digest, its size and, for an uncompressed or gzip
 * layer, its diff ID. Only small JSON-looking blobs are kept; a layer is never held in memory.
 */
export async function digestBlob(source: AsyncIterable<unknown>): Promise<BlobDigests> {
  const hash = createHash('sha256');
  let size = 0;
  let head: Buffer[] = [];
  let sink: BlobSink | undefined;

  for await (const data of source) {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as Uint8Array);
    hash.update(chunk);
    size += chunk.length;
    if (sink !== undefined) {
      await sink.write(chunk);
      continue;
    }

    // A chunk can be shorter than a magic number, so gather the first ones until it fits.
    head.push(chunk);
    const start = Buffer.concat(head);
    if (start.length >= HEAD_BYTES) {
      sink = new BlobSink(start);
      head = [];
      await sink.write(start);
    }
  }
  if (sink === undefined) {
    const start = Buffer.concat(head);
    sink = new BlobSink(start);
    await sink.write(start);
  }

  const digest: Digest = `sha256:${hash.digest('hex')}`;
  const gunzipped = await sink.end();
  return {
    size,
    digest,
    compression: sink.compression,
    diffId: sink.compression === 'none' ? digest : gunzipped,
    gzipError: sink.gzipError,
    json: sink.json(),
  };
}

/** Recognises the compression of a blob from its first bytes. */
export function sniffCompression(start: Uint8Array): BlobCompression {
  const startsWith = (magic: number[]) => magic.every((byte, index) => start[index] === byte);
  if (startsWith([0x1f, 0x8b])) return 'gzip';
  if (startsWith([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  if (startsWith([0x42, 0x5a, 0x68])) return 'bzip2';
  if (startsWith([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  return 'none';
}

/** Receives a blob's bytes once its start is known: gunzips and hashes them, keeps JSON. */
class BlobSink {
  readonly compression: BlobCompression;
  gzipError: string | undefined;
  private readonly gunzip: Gunzip | undefined;
  private readonly uncompressedHash: Hash | undefined;
  private jsonChunks: Buffer[] | undefined;
  private jsonSize = 0;

  constructor(start: Buffer) {
    this.compression = sniffCompression(start);
    const firstCharacter = start.toString('latin1').trimStart()[0];
    this.jsonChunks = firstCharacter === '{' || firstCharacter === '[' ? [] : undefined;

    if (this.compression === 'gzip') {
      const uncompressedHash = createHash('sha256');
      this.gunzip = createGunzip();
      this.gunzip.on('data', (chunk: Buffer) => uncompressedHash.update(chunk));
      this.gunzip.on('error', (error) => {
        this.gzipError ??= error.message;
      });
      this.uncompressedHash = uncompressedHash;
    }
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.jsonChunks !== undefined) {
      this.jsonSize += chunk.length;
      if (this.jsonSize <= MAX_JSON_BYTES) {
        this.jsonChunks.push(chunk);
      } else {
        this.jsonChunks = undefined;
      }
    }
    if (this.gunzip === undefined || this.gzipError !== undefined) {
      return;
    }
    if (!this.gunzip.write(chunk)) {
      await once(this.gunzip, 'drain').catch(() => undefined);
    }
  }

  /** Finishes decompression and returns the diff ID of a gzip blob that gunzipped cleanly. */
  async end(): Promise<Digest | undefined> {
    if (this.gunzip === undefined || this.uncompressedHash === undefined) {
      return undefined;
    }
    if (this.gzipError === undefined) {
      this.gunzip.end();
      await finished(this.gunzip).catch(() => undefined);
    }
    return this.gzipError === undefined
      ? `sha256:${this.uncompressedHash.digest('hex')}`
      : undefined;
  }

  json(): Buffer | undefined {
    return this.jsonChunks === undefined ? undefined : Buffer.concat(this.jsonChunks);
  }
}
