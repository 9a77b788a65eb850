import type { Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import type { ClosureItem } from './closure.js';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';
import { ReferenceScanner } from './reference-scanner.js';
import { checkItemName, hashPartLength } from './store-path.js';

const chunkSize = 64 * 1024;
const slash = Buffer.from('/');

// Entries of a store directory that look like items but are not: build locks and the
// scratch copies a daemon makes while building or checking a derivation.
const nonItemSuffixes = ['.lock', '.chroot', '.check'];

/**
 * Lists the store items of a store directory on disk as a map from hash part to item name.
 * Entries that are not items (`.links`, locks, temporary folders) are left out.
 */
export async function listStoreItems(storeDirOnDisk: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(storeDirOnDisk);
  } catch (error) {
    throw new ClosureError(
      'READ',
      `listing store directory ${storeDirOnDisk}: ${describeCause(error)}`,
      {
        path: storeDirOnDisk,
        cause: error,
      },
    );
  }

  const items = new Map<string, string>();
  for (const name of names.sort()) {
    if (
      checkItemName(name) !== undefined ||
      nonItemSuffixes.some((suffix) => name.endsWith(suffix))
    ) {
      continue;
    }
    items.set(name.slice(0, hashPartLength), name);
  }
  return items;
}

/**
 * Finds the closure of `roots` by scanning item bytes breadth-first: every file, symlink target
 * and file name of an item is searched for the hash parts of the items in the store directory.
 */
export async function scanClosure(
  storeDir: string,
  roots: string[],
  onDisk: (storePath: string) => string,
  logger?: Logger,
): Promise<ClosureItem[]> {
  const storeItems = await listStoreItems(onDisk(storeDir));
  const hashParts = new Set(storeItems.keys());
  logger?.debug('scanning store items for references', { storeDir, candidates: storeItems.size });

  const queue = [...roots];
  const queued = new Set(roots);
  const items: ClosureItem[] = [];
  for (let index = 0; index < queue.length; index += 1) {
    const storePath = queue[index] as string;
    const scanner = new ReferenceScanner(hashParts);
    await scanEntry(Buffer.from(onDisk(storePath)), scanner, Buffer.alloc(chunkSize), logger);

    const references = [...scanner.found]
      .map((hashPart) => `${storeDir}/${storeItems.get(hashPart)}`)
      .sort();
    for (const reference of references) {
      if (!queued.has(reference)) {
        queued.add(reference);
        queue.push(reference);
      }
    }
    items.push({ path: storePath, references });
  }
  return items;
}

/**
 * Scans one file system entry without following symlinks, recursing into folders. Paths are bytes,
 * so that file names that are not UTF-8 still open.
 */
async function scanEntry(
  file: Buffer,
  scanner: ReferenceScanner,
  buffer: Buffer,
  logger?: Logger,
): Promise<void> {
  const stats = await lstat(file).catch((error: unknown) => {
    throw readError(file, error);
  });

  if (stats.isSymbolicLink()) {
    const target = await readlink(file, { encoding: 'buffer' }).catch((error: unknown) => {
      throw readError(file, error);
    });
    scanner.scanWhole(target);
  } else if (stats.isFile()) {
    await scanFile(file, scanner, buffer);
  } else if (stats.isDirectory()) {
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(file, { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      throw readError(file, error);
    }
    entries.sort((left, right) => Buffer.compare(left.name, right.name));
    for (const entry of entries) {
      // A file name is part of the item's serialisation, so Nix finds references in names too.
      scanner.scanWhole(entry.name);
      await scanEntry(Buffer.concat([file, slash, entry.name]), scanner, buffer, logger);
    }
  } else {
    logger?.warn('skipping a file that cannot be part of a store item', { file: file.toString() });
  }
}

async function scanFile(file: Buffer, scanner: ReferenceScanner, buffer: Buffer): Promise<void> {
  scanner.reset();
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) {
        break;
      }
      scanner.update(buffer.subarray(0, bytesRead));
    }
  } catch (error) {
    throw readError(file, error);
  } finally {
    await handle?.close();
  }
  scanner.reset();
}

function readError(file: Buffer, error: unknown): ClosureError {
  if (error instanceof ClosureError) {
    return error;
  }
  const name = file.toString();
  return new ClosureError('READ', `reading ${name}: ${describeCause(error)}`, {
    path: name,
    cause: error,
  });
}
