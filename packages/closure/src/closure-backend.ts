import type { ClosureItem, ClosureSourceName } from './closure.js';
import { readFileClosure } from './closure-file.js';
import { readCommandClosure } from './command-closure.js';
import { checkItemsOnDisk, readDatabaseClosure, throwNotInDatabase } from './database-closure.js';
import { ClosureError } from './errors.js';
import type { Logger } from './logger.js';
import { scanClosure } from './scan-closure.js';

/** The store that every backend reads: its directory, its database and where its items are. */
export interface StoreContext {
  /** Store directory, e.g. `/gnu/store`. */
  storeDir: string;
  /** Folder that contains the store, like Nix's `local?root=DIR`, when not `/`. */
  root: string | undefined;
  /** Store database file: the one given, else the default one of the store directory. */
  databaseFile: string | undefined;
  /** Maps a store path to the file that contains it on disk. */
  onDisk: (storePath: string) => string;
  /** Receiver of debug and warning events. */
  logger: Logger | undefined;
}

/** A source of references that reads the closure of a set of roots. */
export interface ClosureBackend {
  /** Name of the source, as `Closure.source` reports it. */
  readonly source: ClosureSourceName;
  /** Reads every item of the closure of `roots`, which are store paths of items. */
  readClosure(roots: string[]): Promise<ClosureItem[]>;
}

/**
 * Reads the store database. Roots it does not list throw `NOT_IN_DATABASE`, and items it lists
 * that are missing on disk throw `MISSING_REFERENCE`.
 */
export function databaseBackend(store: StoreContext): ClosureBackend {
  return {
    source: 'db',
    async readClosure(roots) {
      const file = store.databaseFile;
      if (file === undefined) {
        throw new ClosureError(
          'DATABASE',
          `reading the closure from the store database: ${store.storeDir} has no default database, so pass its file`,
        );
      }
      const result = await readDatabaseClosure(file, roots, store.logger);
      if (result.missingRoots !== undefined) {
        return throwNotInDatabase(file, result.missingRoots);
      }
      await checkItemsOnDisk(result.items, store.onDisk);
      return result.items;
    },
  };
}

/** Runs the store's own command, `nix-store` or `guix gc`, and checks its items on disk. */
export function commandBackend(store: StoreContext): ClosureBackend {
  return {
    source: 'command',
    async readClosure(roots) {
      const items = await readCommandClosure(store, roots, store.logger);
      await checkItemsOnDisk(items, store.onDisk);
      return items;
    },
  };
}

/** Scans the bytes of the items on disk for the hash parts of the store's items. */
export function scanBackend(store: StoreContext): ClosureBackend {
  return {
    source: 'scan',
    readClosure: (roots) => scanClosure(store.storeDir, roots, store.onDisk, store.logger),
  };
}

/** Reads a closure file; the items need not be on disk. */
export function fileBackend(file: string, store: StoreContext): ClosureBackend {
  return {
    source: 'file',
    readClosure: (roots) => readFileClosure(file, store.storeDir, roots, store.logger),
  };
}
