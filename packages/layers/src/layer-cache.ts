import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import {
  canonicalJson,
  createDigester,
  type Digest,
  isDigest,
  type LayerCompression,
} from '@storepack/image-spec';
import type { CompressedLayer } from './compress-layer.js';
import { createFolder } from './create-folder.js';
import { describeCause, LayerError } from './errors.js';
import type { Logger } from './logger.js';

/** Version of the cache's entries; a change to the metadata layout or the key bumps it. */
const CACHE_ENTRY_VERSION = 1;

/** Bytes per read of a blob: large reads keep thread pool round trips few. */
const READ_CHUNK_SIZE = 1024 * 1024;

/** A layer blob in the cache, checked against its recorded size and digest. */
export interface CachedLayer {
  /** The cache key the blob was stored under. */
  readonly key: string;
  /** The compression of the blob. */
  readonly compression: LayerCompression;
  /** SHA-256 of the uncompressed tar. */
  readonly diffId: Digest;
  /** SHA-256 of the blob's bytes. */
  readonly digest: Digest;
  /** Byte length of the blob. */
  readonly size: number;
  /** Byte length of the uncompressed tar. */
  readonly uncompressedSize: number;
  /** The store paths of the items in the layer. */
  readonly storePaths: readonly string[];
  /** Path of the blob file, which a writer may copy or hard-link. */
  readonly path: string;
  /** Returns a stream of the blob's bytes. */
  createStream(): Readable;
}

/** Settings for a `LayerCache`. */
export interface LayerCacheOptions {
  /** The cache folder; `$XDG_CACHE_HOME/storepack/layers` or `~/.cache/storepack/layers` by default. */
  dir?: string;
  logger?: Logger;
}

type EntryFacts = Omit<CachedLayer, 'path' | 'createStream'>;

/**
 * Layer blobs kept in a folder between builds, keyed by everything that fixes their bytes. Blobs
 * are stored by digest under `blobs/sha256/`, and each key has a JSON entry under `entries/`.
 * Files are written under a temporary name in the cache folder and renamed when complete, so that
 * builds running at once never see half a blob.
 */
export class LayerCache {
  /** The cache folder. */
  readonly dir: string;
  readonly #logger: Logger | undefined;

  constructor(options?: LayerCacheOptions) {
    this.dir = resolve(options?.dir ?? defaultCacheDir());
    this.#logger = options?.logger;
  }

  /**
   * Returns the entry stored under `key` after checking its blob's size and digest, or undefined
   * when there is none. An entry whose blob is missing, truncated or corrupted is deleted.
   */
  async get(key: string): Promise<CachedLayer | undefined> {
    const entryPath = this.#entryPath(key);
    const text = await readFile(entryPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        return undefined;
      }
      throw cacheError(`reading ${entryPath}`, error);
    });
    if (text === undefined) {
      return undefined;
    }

    const facts = parseEntry(text, key);
    const problem =
      facts === undefined ? 'unreadable entry' : await this.#checkBlob(facts.digest, facts.size);
    if (problem !== undefined || facts === undefined) {
      this.#logger?.warn('discarding layer cache entry', { key, problem });
      await rm(entryPath, { force: true });
      if (facts !== undefined && isDigest(facts.digest)) {
        await rm(this.#blobPath(facts.digest), { force: true });
      }
      return undefined;
    }
    this.#logger?.debug('layer cache hit', { key, digest: facts.digest, bytes: facts.size });
    return this.#cachedLayer(facts);
  }

  /**
   * Streams a compressed layer into the cache and records it under `key`. The blob is renamed into
   * place only when its digest and size are known, and the entry only after the blob.
   */
  async put(key: string, compressed: CompressedLayer): Promise<CachedLayer> {
    const blobs = join(this.dir, 'blobs', 'sha256');
    await createFolder(blobs).catch((error: unknown) => {
      throw cacheError(`creating ${blobs}`, error);
    });
    await createFolder(join(this.dir, 'entries')).catch((error: unknown) => {
      throw cacheError(`creating ${join(this.dir, 'entries')}`, error);
    });

    const temporary = this.#temporaryPath();
    try {
      await compressed.writeTo(temporary);
    } catch (error) {
      await rm(temporary, { force: true });
      // System errors name the cache. Others, such as the reason of an abort, stay as they are.
      throw isSystemError(error)
        ? cacheError(`writing a layer blob into the layer cache ${this.dir}`, error)
        : error;
    }

    const facts: EntryFacts = {
      key,
      compression: compressed.compression,
      diffId: compressed.layer.diffId(),
      digest: compressed.digest(),
      size: compressed.size(),
      uncompressedSize: compressed.layer.size,
      storePaths: [...compressed.layer.storePaths],
    };
    await this.#moveIntoPlace(temporary, this.#blobPath(facts.digest));

    const entryTemporary = this.#temporaryPath();
    const entryText = `${JSON.stringify({ version: CACHE_ENTRY_VERSION, ...facts }, null, 2)}\n`;
    await writeFile(entryTemporary, entryText, { flag: 'wx' }).catch(async (error: unknown) => {
      await rm(entryTemporary, { force: true });
      throw cacheError(`writing an entry into the layer cache ${this.dir}`, error);
    });
    await this.#moveIntoPlace(entryTemporary, this.#entryPath(key));
    this.#logger?.debug('layer cached', { key, digest: facts.digest, bytes: facts.size });
    return this.#cachedLayer(facts);
  }

  /** Reads a blob once, returning why it does not match its entry, or undefined when it does. */
  async #checkBlob(digest: Digest, size: number): Promise<string | undefined> {
    const path = this.#blobPath(digest);
    const stats = await stat(path).catch(() => undefined);
    if (stats === undefined) {
      return 'blob is missing';
    }
    if (stats.size !== size) {
      return `blob has ${stats.size} bytes, ${size} recorded`;
    }
    const digester = createDigester('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_SIZE })) {
      digester.update(chunk as Buffer);
    }
    const actual = digester.digest();
    return actual === digest ? undefined : `blob has digest ${actual}`;
  }

  async #moveIntoPlace(temporary: string, path: string): Promise<void> {
    await rename(temporary, path).catch(async (error: unknown) => {
      await rm(temporary, { force: true });
      throw cacheError(`renaming ${temporary} to ${path}`, error);
    });
  }

  #cachedLayer(facts: EntryFacts): CachedLayer {
    const path = this.#blobPath(facts.digest);
    return {
      ...facts,
      path,
      createStream: () => createReadStream(path, { highWaterMark: READ_CHUNK_SIZE }),
    };
  }

  #entryPath(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) {
      throw new LayerError(
        'INVALID_OPTIONS',
        `invalid cache key "${key.slice(0, 80)}": expected 64 hex digits`,
      );
    }
    return join(this.dir, 'entries', `${key}.json`);
  }

  #blobPath(digest: Digest): string {
    return join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  // In the cache folder itself, so that the rename never crosses file systems.
  #temporaryPath(): string {
    return join(this.dir, `.tmp-${process.pid}-${randomBytes(8).toString('hex')}`);
  }
}

/** Returns `$XDG_CACHE_HOME/storepack/layers`, or `~/.cache/storepack/layers` when it is unset. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG base directory specification requires a relative value to be ignored.
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'storepack', 'layers');
}

/** Hashes the facts that fix a layer blob's bytes into a cache key of 64 hex digits. */
export function hashCacheKey(facts: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson({ cacheEntryVersion: CACHE_ENTRY_VERSION, ...facts }))
    .digest('hex');
}

function parseEntry(text: string, key: string): EntryFacts | undefined {
  try {
    const entry = JSON.parse(text) as Record<string, unknown>;
    const valid =
      entry.version === CACHE_ENTRY_VERSION &&
      entry.key === key &&
      typeof entry.digest === 'string' &&
      entry.digest.startsWith('sha256:') &&
      isDigest(entry.digest) &&
      typeof entry.diffId === 'string' &&
      isDigest(entry.diffId) &&
      Number.isSafeInteger(entry.size) &&
      Number.isSafeInteger(entry.uncompressedSize) &&
      ['none', 'gzip', 'zstd'].includes(entry.compression as string) &&
      Array.isArray(entry.storePaths);
    return valid ? (entry as unknown as EntryFacts) : undefined;
  } catch {
    return undefined;
  }
}

function isSystemError(error: unknown): boolean {
  return error instanceof Error && 'syscall' in error && !(error instanceof LayerError);
}

function cacheError(action: string, cause: unknown): LayerError {
  return new LayerError('CACHE', `${action}: ${describeCause(cause)}`, { cause });
}
