import { pack as createPack } from 'tar-stream';
import { binaryNameHeader } from './binary-name-header.js';
import { type LayerEntry, paddedSize, tarHeader } from './layer-entry.js';

/**
 * Computes the exact byte length of the tar that streaming `entries` produces. tar-stream packs
 * every header once with no content, which gives the header blocks (PAX records included) and the
 * end-of-archive blocks. The padded file sizes are added to that. A header's length depends on
 * the size only through the PAX `size` record of a file of 8 GiB or more, which is kept.
 */
export async function measureLayer(entries: readonly LayerEntry[], mtime: Date): Promise<number> {
  const pack = createPack();
  let headerBytes = 0;
  const counting = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      headerBytes += chunk.byteLength;
    }
  })();

  let contentBytes = 0;
  try {
    for (const entry of entries) {
      if (entry.type === 'file') {
        contentBytes += paddedSize(entry.size);
      }
      // The PAX records keep the real size, so the header bytes are those of the streamed layer.
      const header = { ...tarHeader(entry, mtime), size: 0 };
      const extended = binaryNameHeader(entry, mtime);
      if (extended !== undefined) {
        pack.push(extended);
      }
      await new Promise<void>((resolve, reject) => {
        pack.entry(header, Buffer.alloc(0), (error) => (error ? reject(error) : resolve()));
      });
    }
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    await counting.catch(() => undefined);
    throw error;
  }
  await counting;
  return headerBytes + contentBytes;
}
