import type { Header, Pack } from 'tar-stream';
import { binaryNameHeader } from './binary-name-header.js';
import { type LayerEntry, tarHeader } from './layer-entry.js';
import { openFile, readWholeFile } from './read-file.js';

/** Files up to this size are read whole, with synchronous calls, before their header goes out. */
const WHOLE_FILE_MAX_SIZE = 256 * 1024;

type Sink = ReturnType<Pack['entry']>;

/**
 * Adds every entry to the pack in order, reading each file once, then finalises the pack. A file
 * is opened and checked before its header goes out, so that a file that changed fails first.
 */
export async function feedEntries(
  pack: Pack,
  entries: readonly LayerEntry[],
  mtime: Date,
): Promise<void> {
  for (const entry of entries) {
    const header = tarHeader(entry, mtime);
    const extended = binaryNameHeader(entry, mtime);
    if (entry.type === 'file' && entry.size <= WHOLE_FILE_MAX_SIZE) {
      const content = readWholeFile(entry);
      await writeEntry(pack, header, extended, (write) => write(content));
    } else if (entry.type === 'file') {
      const file = await openFile(entry);
      try {
        await writeEntry(pack, header, extended, (write) => file.copyTo(write));
      } finally {
        await file.close();
      }
    } else {
      await addEntry(pack, header, extended).finished;
    }
  }
  pack.finalize();
}

/** Adds an entry whose content `copy` writes, waiting on the pack's backpressure. */
async function writeEntry(
  pack: Pack,
  header: Header,
  extended: Buffer | undefined,
  copy: (write: (chunk: Buffer) => Promise<void>) => Promise<void>,
): Promise<void> {
  const { sink, finished } = addEntry(pack, header, extended);
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

/**
 * Adds an entry to the pack, after the PAX header `extended` when there is one. `finished` settles
 * when tar-stream is done with the entry, and rejects when the pack is destroyed before that.
 */
function addEntry(
  pack: Pack,
  header: Header,
  extended?: Buffer,
): { sink: Sink; finished: Promise<void> } {
  // Every earlier entry is finished, so these bytes come right before this entry's own header,
  // which tar-stream pushes once the entry opens.
  if (extended !== undefined) {
    pack.push(extended);
  }
  let sink: Sink | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
  });
  // A failed read destroys the pack, which rejects `finished` when no code awaits it any more and
  // emits 'error' on the entry's sink. The read's own error is the one the stream reports.
  finished.catch(() => undefined);
  sink?.on('error', () => undefined);
  return { sink: sink as Sink, finished };
}
