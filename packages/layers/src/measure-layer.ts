import type { LayerEntry } from './layer-entry.js';
import { paddedSize } from './layer-entry.js';
import { BLOCK_SIZE, entryHeaderLength } from './tar-header.js';

/** The two zero blocks that end a tar archive. */
export const END_OF_ARCHIVE_SIZE = 2 * BLOCK_SIZE;

/**
 * Computes the exact byte length of the tar that streaming `entries` produces: every entry's
 * header bytes (PAX headers included), the padded file sizes and the end-of-archive blocks.
 * `mtime` is in seconds since the epoch.
 */
export function measureLayer(entries: readonly LayerEntry[], mtime: number): number {
  let total = END_OF_ARCHIVE_SIZE;
  for (const entry of entries) {
    total += entryHeaderLength(entry, mtime);
    if (entry.type === 'file') {
      total += paddedSize(entry.size);
    }
  }
  return total;
}
