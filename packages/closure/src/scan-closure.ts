import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ClosureItem } from './closure.js';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';
import {
  narDirectorySize,
  narEntrySize,
  narMagicSize,
  narRegularSize,
  narSymlinkSize,
} from './nar-size.js';
import { ReferenceScanner } from './reference-scanner.js';
import { checkItemName, hashPartLength } from './store-path.js';

// Large reads mean few system calls; one buffer is reused for every file, so memory stays bounded.
const chunkSize = 1024 * 1024;
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

/** Measurements a scan takes of one item besides its references. */
interface ItemMeasure {
  narSize: number;
  fileCount: number;
}

/**
 * Finds the closure of `roots` by scanning item bytes breadth-first: every file, symlink target
 * and file name of an item is searched for the hash parts of the items in the store directory.
 * Each item also gets its NAR size and file count, measured on the way.
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

  const buffer = Buffer.allocUnsafe(chunkSize);
  const queue = [...roots];
  const queued = new Set(roots);
  const items: ClosureItem[] = [];
  for (let index = 0; index < queue.length; index += 1) {
    const storePath = queue[index] as string;
    const scanner = new ReferenceScanner(hashParts);
    const measure: ItemMeasure = { narSize: narMagicSize, fileCount: 0 };
    // Synchronous calls, because a promise-based read costs a thread-pool round trip per call,
    // which made the scan of many small files several times slower. The event loop gets a
    // turn between items.
    scanEntry(Buffer.from(onDisk(storePath)), undefined, scanner, buffer, measure, logger);
    await yieldToEventLoop();

    const references = [...scanner.found]
      .map((hashPart) => `${storeDir}/${storeItems.get(hashPart)}`)
      .sort();
    for (const reference of references) {
      if (!queued.has(reference)) {
        queued.add(reference);
        queue.push(reference);
      }
    }
    items.push({ path: storePath, references, ...measure });
  }
  return items;
}

/**
 * Scans one file system entry without following symlinks, recursing into folders. Paths are bytes,
 * so that file names that are not UTF-8 still open. `entry` is the folder entry, when known.
 */
function scanEntry(
  file: Buffer,
  entry: Dirent<Buffer> | undefined,
  scanner: ReferenceScanner,
  buffer: Buffer,
  measure: ItemMeasure,
  logger?: Logger,
): void {
  const kind = entry ?? attempt(file, () => lstatSync(file));
  measure.fileCount += 1;

  if (kind.isSymbolicLink()) {
    const target = attempt(file, () => readlinkSync(file, { encoding: 'buffer' }));
    scanner.scanWhole(target);
    measure.narSize += narSymlinkSize(target.length);
  } else if (kind.isFile()) {
    scanFile(file, scanner, buffer, measure);
  } else if (kind.isDirectory()) {
    const entries = attempt(file, () =>
      readdirSync(file, { encoding: 'buffer', withFileTypes: true }),
    );
    entries.sort((left, right) => Buffer.compare(left.name, right.name));
    measure.narSize += narDirectorySize;
    for (const child of entries) {
      // A file name is part of the item's serialisation, so Nix finds references in names too.
      scanner.scanWhole(child.name);
      measure.narSize += narEntrySize(child.name.length);
      scanEntry(Buffer.concat([file, slash, child.name]), child, scanner, buffer, measure, logger);
    }
  } else {
    measure.fileCount -= 1;
    logger?.warn('skipping a file that cannot be part of a store item', { file: file.toString() });
  }
}

function scanFile(
  file: Buffer,
  scanner: ReferenceScanner,
  buffer: Buffer,
  measure: ItemMeasure,
): void {
  scanner.reset();
  // The listing gave this as a regular file, but it may have been replaced since. O_NOFOLLOW keeps
  // a symlink from being followed, O_NONBLOCK keeps a FIFO from blocking the open, and fstat then
  // rejects anything that is not a regular file.
  const descriptor = attempt(file, () => {
    try {
      return openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'ELOOP' ? replacedError(file) : error;
    }
  });
  try {
    const stats = attempt(file, () => fstatSync(descriptor));
    if (!stats.isFile()) {
      throw replacedError(file);
    }
    // Nix records a file as executable when its owner may execute it.
    const executable = (stats.mode & 0o100) !== 0;
    let size = 0;
    for (;;) {
      const bytesRead = attempt(file, () => readSync(descriptor, buffer, 0, buffer.length, null));
      if (bytesRead === 0) {
        break;
      }
      size += bytesRead;
      scanner.update(buffer.subarray(0, bytesRead));
    }
    measure.narSize += narRegularSize(size, executable);
  } finally {
    closeSync(descriptor);
  }
  scanner.reset();
}

/** Returns the error for a file that the listing gave as regular but that is no longer one. */
function replacedError(file: Buffer): ClosureError {
  const name = file.toString();
  return new ClosureError(
    'READ',
    `reading ${name}: no longer a regular file: it changed while the closure was scanned`,
    { path: name },
  );
}

/** Runs one file system call on `file`, turning its failure into a `READ` error naming the file. */
function attempt<T>(file: Buffer, call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof ClosureError) {
      throw error;
    }
    const name = file.toString();
    throw new ClosureError('READ', `reading ${name}: ${describeCause(error)}`, {
      path: name,
      cause: error,
    });
  }
}
