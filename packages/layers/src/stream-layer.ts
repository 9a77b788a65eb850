import { Readable } from 'node:stream';
import { createDigester, type Digest } from '@storepack/image-spec';
import { pack as createPack } from 'tar-stream';
import { LayerError } from './errors.js';
import { feedEntries } from './feed-entries.js';
import type { LayerEntry } from './layer-entry.js';

/** Diff ID of a finished stream and the byte count it was computed over. */
export interface StreamResult {
  diffId: Digest;
  bytes: number;
}

/**
 * Streams the tar of `entries`, hashing the bytes as they pass. `onEnd` runs when the stream emits
 * 'end', before any listener the caller adds later. The stream fails with a LayerError when a file
 * cannot be read or changed since it was recorded, or when the byte count differs from `size`.
 * Nothing is read before the first chunk is requested.
 */
export function streamLayer(
  entries: readonly LayerEntry[],
  mtime: Date,
  size: number,
  onEnd: (result: StreamResult) => void,
): Readable {
  let result: StreamResult | undefined;

  async function* generate(): AsyncGenerator<Buffer> {
    const pack = createPack();
    let feedError: unknown;
    const feeding = feedEntries(pack, entries, mtime).catch((error: unknown) => {
      feedError = error;
      pack.destroy(error as Error);
    });

    const digester = createDigester('sha256');
    let bytes = 0;
    try {
      for await (const chunk of pack as AsyncIterable<Buffer>) {
        bytes += chunk.byteLength;
        if (bytes > size) {
          throw sizeError(size, `more than ${size}`);
        }
        digester.update(chunk);
        yield chunk;
      }
    } catch (error) {
      throw feedError ?? error;
    } finally {
      pack.destroy();
      await feeding;
    }

    if (feedError !== undefined) {
      throw feedError;
    }
    if (bytes !== size) {
      throw sizeError(size, String(bytes));
    }
    result = { diffId: digester.digest(), bytes };
  }

  const stream = Readable.from(generate(), { objectMode: false });
  stream.once('end', () => {
    if (result !== undefined) {
      onEnd(result);
    }
  });
  return stream;
}

function sizeError(expected: number, actual: string): LayerError {
  return new LayerError(
    'SIZE_MISMATCH',
    `streaming layer: produced ${actual} bytes, ${expected} computed in advance`,
  );
}
