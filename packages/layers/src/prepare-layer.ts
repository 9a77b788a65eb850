import type { Readable } from 'node:stream';
import type { Digest } from '@storepack/image-spec';
import { collectEntries } from './collect-entries.js';
import { LayerError } from './errors.js';
import type { LayerEntry } from './layer-entry.js';
import { checkSource, type LayerSource } from './layer-source.js';
import type { Logger } from './logger.js';
import { measureLayer } from './measure-layer.js';
import {
  type ChunkMemory,
  layerChunks,
  layerFrames,
  type StreamResult,
  streamLayer,
} from './stream-layer.js';

/** A layer whose entries and exact tar size are known, ready to stream once. */
export interface PreparedLayer {
  /** Exact byte length of the tar stream that `createStream` produces. */
  readonly size: number;
  /** Number of tar entries: folders, files and symlinks, PAX headers not counted. */
  readonly entryCount: number;
  /** The store paths of the items in this layer, as given. */
  readonly storePaths: readonly string[];
  /**
   * Returns a stream of the uncompressed tar; callable once. The stream fails with a LayerError
   * when a file changed, vanished or cannot be read since `prepareLayer` recorded it. Every chunk
   * is a new buffer, unless `memory` is given: chunks are then written into buffers taken from
   * it, and the consumer hands each one back once it has written the chunk.
   */
  createStream(memory?: ChunkMemory): Readable;
  /**
   * Returns the same tar as `createStream`, but each chunk is only valid until the next one is
   * requested: its memory is then filled with later bytes. A consumer that copies or writes each
   * chunk before it requests the next one lets the layer stream without leaving garbage. Callable
   * once, and not together with `createStream`.
   */
  chunks(): AsyncIterable<Buffer>;
  /**
   * Returns the diff ID, the SHA-256 of the streamed tar; throws NOT_FINISHED before the stream
   * ended. On a machine with more than one core, the tar is hashed on a thread of its own. The
   * first call then waits for that thread to reach the end of the stream, a few milliseconds at most.
   */
  diffId(): Digest;
}

/** The tar of a layer for a consumer that hashes it, and records the diff ID when done. */
export interface UnhashedFrames {
  /** The tar in buffers from `memory`, each filled but the last, each the consumer's once received. */
  frames: AsyncIterable<Buffer>;
  finish(diffId: Digest, bytes: number): void;
}

/**
 * Returns the unhashed tar of a layer that `prepareLayer` made, in buffers taken from `memory`,
 * or undefined for a layer of another kind, which hashes its own stream.
 */
export function unhashedFrames(
  layer: PreparedLayer,
  memory: ChunkMemory,
): UnhashedFrames | undefined {
  return layer instanceof StoreLayer ? layer.unhashedFrames(memory) : undefined;
}

/** Settings for `prepareLayer`. */
export interface PrepareLayerOptions {
  logger?: Logger;
}

/**
 * Walks every item with lstat, never following symlinks, and computes the layer's entries and
 * exact size. Files are not read until the layer streams.
 */
export async function prepareLayer(
  source: LayerSource,
  options?: PrepareLayerOptions,
): Promise<PreparedLayer> {
  const checked = checkSource(source);
  const entries = collectEntries(checked);
  const mtime = Math.floor(checked.mtime.getTime() / 1000);
  const size = measureLayer(entries, mtime);
  options?.logger?.debug('layer prepared', {
    items: checked.items.length,
    entries: entries.length,
    bytes: size,
  });
  return new StoreLayer(entries, mtime, size, [...source.storePaths], options?.logger);
}

class StoreLayer implements PreparedLayer {
  readonly entryCount: number;
  #streamed = false;
  #result: StreamResult | undefined;

  constructor(
    private readonly entries: readonly LayerEntry[],
    private readonly mtime: number,
    readonly size: number,
    readonly storePaths: readonly string[],
    private readonly logger: Logger | undefined,
  ) {
    this.entryCount = entries.length;
  }

  createStream(memory?: ChunkMemory): Readable {
    this.#start();
    return streamLayer(
      this.entries,
      this.mtime,
      this.size,
      (result) => this.#finish(result),
      'thread',
      memory,
    );
  }

  chunks(): AsyncIterable<Buffer> {
    this.#start();
    return layerChunks(this.entries, this.mtime, this.size, (result) => this.#finish(result));
  }

  /** Returns the tar unhashed in buffers from `memory`, and a function to record its diff ID. */
  unhashedFrames(memory: ChunkMemory): UnhashedFrames {
    this.#start();
    return {
      frames: layerFrames(this.entries, this.mtime, this.size, memory),
      finish: (diffId, bytes) => this.#finish({ diffId: () => diffId, bytes }),
    };
  }

  #start(): void {
    if (this.#streamed) {
      throw new LayerError(
        'ALREADY_STREAMED',
        'streaming layer: the stream was already started: prepare the layer again',
      );
    }
    this.#streamed = true;
  }

  #finish(result: StreamResult): void {
    this.#result = result;
    this.logger?.debug('layer streamed', { entries: this.entryCount, bytes: result.bytes });
  }

  diffId(): Digest {
    if (this.#result === undefined) {
      throw new LayerError(
        'NOT_FINISHED',
        'computing diff ID: the layer stream has not ended: read it to the end first',
      );
    }
    return this.#result.diffId();
  }
}
