import { Readable } from 'node:stream';
import { pack as createPack, type Header, type Pack } from 'tar-stream';
import { createSha256, type Digest, sha256Digest } from './digest.js';
import { LayerError } from './errors.js';
import { type LayerEntry, tarHeader } from './layer-entry.js';
import { copyRecordedFile, openRecordedFile } from './read-file.js';

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

    const hash = createSha256();
    let bytes = 0;
    try {
      for await (const chunk of pack as AsyncIterable<Buffer>) {
        bytes += chunk.byteLength;
        if (bytes > size) {
          throw sizeError(size, `more than ${size}`);
        }
        hash.update(chunk);
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
    result = { diffId: sha256Digest(hash), bytes };
  }

  const stream = Readable.from(generate(), { objectMode: false });
  stream.once('end', () => {
    if (result !== undefined) {
      onEnd(result);
    }
  });
  return stream;
}

async function feedEntries(pack: Pack, entries: readonly LayerEntry[], mtime: Date): Promise<void> {
  for (const entry of entries) {
    const header = tarHeader(entry, mtime);
    if (entry.type !== 'file') {
      await new Promise<void>((resolve, reject) => {
        pack.entry(header, (error) => (error ? reject(error) : resolve()));
      });
      continue;
    }

    // The file is opened and checked before its header goes out.
    const handle = await openRecordedFile(entry);
    try {
      await addFileEntry(pack, header, async (write) => copyRecordedFile(handle, entry, write));
    } finally {
      await handle.close();
    }
  }
  pack.finalize();
}

/** Adds a file entry whose content `copy` writes, waiting on the pack's backpressure. */
async function addFileEntry(
  pack: Pack,
  header: Header,
  copy: (write: (chunk: Buffer) => Promise<void>) => Promise<void>,
): Promise<void> {
  let resolveFinished = (): void => undefined;
  let rejectFinished = (_error: Error): void => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    resolveFinished = resolve;
    rejectFinished = reject;
  });
  // A failed copy destroys the pack, which then rejects `finished` when no code awaits it.
  finished.catch(() => undefined);
  const sink = pack.entry(header, (error) => (error ? rejectFinished(error) : resolveFinished()));

  await copy(async (chunk) => {
    if (!sink.write(chunk)) {
      await Promise.race([
        new Promise<void>((resolve) => sink.once('drain', () => resolve())),
        finished,
      ]);
    }
  });
  // streamx declares end's argument as required; undefined ends the entry without writing.
  sink.end(undefined);
  await finished;
}

function sizeError(expected: number, actual: string): LayerError {
  return new LayerError(
    'SIZE_MISMATCH',
    `streaming layer: produced ${actual} bytes, ${expected} computed in advance`,
  );
}
