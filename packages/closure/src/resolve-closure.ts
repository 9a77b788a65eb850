import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Closure, ClosureItem } from './closure.js';
import {
  type ClosureBackend,
  commandBackend,
  databaseBackend,
  fileBackend,
  type StoreContext,
  scanBackend,
} from './closure-backend.js';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';
import { isOnPath } from './store-command.js';
import { defaultDatabasePath } from './store-database.js';
import { parseStorePath } from './store-path.js';

/** Options of {@link resolveClosure}. */
export interface ResolveClosureOptions {
  /**
   * Source of the references: `db` reads the store database, `command` runs `nix-store` or
   * `guix gc`, `scan` searches the items' bytes, and any other value is a closure file (JSON of
   * `nix path-info --json --recursive`, an `exportReferencesGraph` file or a registration).
   * `auto` (the default) takes the database when it opens and lists every root, else the store
   * command when it is on PATH and the store is its default one, else a scan.
   */
  from?: 'auto' | 'db' | 'command' | 'scan' | (string & {});
  /** Store database file. Defaults to the usual one for the store directory, under `root`. */
  db?: string;
  /** Store directory, e.g. `/gnu/store`. Defaults to the one of the first root. */
  storeDir?: string;
  /** Folder that contains the store, like Nix's `local?root=DIR`: items are read at `root + path`. */
  root?: string;
  /** Receiver of debug and warning events. */
  logger?: Logger;
}

/**
 * Resolves the runtime closure of `roots`, absolute store paths or paths inside store items.
 * Items and their references come out sorted, so equal stores give equal closures.
 */
export async function resolveClosure(
  roots: string[],
  options: ResolveClosureOptions = {},
): Promise<Closure> {
  const from = options.from ?? 'auto';
  if (from === '') {
    throw new ClosureError(
      'INVALID_OPTION',
      'closure source "" is invalid: expected auto, db, command, scan or a closure file',
    );
  }
  const first = roots[0];
  if (first === undefined) {
    throw new ClosureError(
      'INVALID_OPTION',
      'resolving a closure needs at least one root store path, none given',
    );
  }

  const storeDir = parseStorePath(first, options.storeDir).storeDir;
  const root = options.root === undefined ? undefined : path.resolve(options.root);
  const store: StoreContext = {
    storeDir,
    root,
    databaseFile: options.db ?? defaultDatabasePath(storeDir, root),
    onDisk: (storePath) => (root === undefined ? storePath : path.join(root, storePath)),
    logger: options.logger,
  };

  const rootItems = new Set<string>();
  for (const rootPath of roots) {
    rootItems.add(parseStorePath(rootPath, storeDir).path);
  }
  const rootPaths = [...rootItems].sort();

  let backend: ClosureBackend;
  let items: ClosureItem[];
  if (from === 'db' || from === 'command' || from === 'scan') {
    await checkRootsExist(roots, store);
    const backends = { db: databaseBackend, command: commandBackend, scan: scanBackend };
    backend = backends[from as keyof typeof backends](store);
    items = await backend.readClosure(rootPaths);
  } else if (from === 'auto') {
    await checkRootsExist(roots, store);
    ({ backend, items } = await readFirstAvailable(store, options.db !== undefined, rootPaths));
  } else {
    // A closure file describes the items, which need not be on this machine.
    backend = fileBackend(from, store);
    items = await backend.readClosure(rootPaths);
  }

  items.sort(comparePaths);
  return { storeDir, roots: rootPaths, items, source: backend.source };
}

// Compares by UTF-16 code units, which orders ASCII store paths like `sort` in the C locale.
function comparePaths(left: ClosureItem, right: ClosureItem): number {
  if (left.path === right.path) {
    return 0;
  }
  return left.path < right.path ? -1 : 1;
}

/**
 * Tries the database, then the store command, then a scan, and returns the first closure read.
 * A database the caller named (`explicitDatabase`) must open: its failure is an error.
 */
async function readFirstAvailable(
  store: StoreContext,
  explicitDatabase: boolean,
  roots: string[],
): Promise<{ backend: ClosureBackend; items: ClosureItem[] }> {
  const { logger } = store;

  if (store.databaseFile === undefined) {
    logger?.debug('skipping the store database: the store directory has no default one', {
      storeDir: store.storeDir,
    });
  } else {
    const backend = databaseBackend(store);
    try {
      return { backend, items: await backend.readClosure(roots) };
    } catch (error) {
      if (!(error instanceof ClosureError)) {
        throw error;
      }
      if (error.code === 'NOT_IN_DATABASE') {
        logger?.warn('skipping the store database: it does not list every root', {
          db: store.databaseFile,
          error: error.message,
        });
      } else if (error.code === 'DATABASE' && !explicitDatabase) {
        // A store copied without its database is the usual case for a scan; any other failure
        // of the default database is worth a warning.
        const missing = (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
        const log = missing ? logger?.debug : logger?.warn;
        log?.call(logger, 'skipping the store database: it cannot be read', {
          db: store.databaseFile,
          error: error.message,
        });
      } else {
        throw error;
      }
    }
  }

  // Only the store's default database is worth asking for through the command: nix-store would
  // create an empty store for a folder without one, and guix reads only its daemon's store.
  const program = store.storeDir === '/gnu/store' ? 'guix' : 'nix-store';
  const defaultStore =
    store.root === undefined &&
    !explicitDatabase &&
    (store.storeDir === '/nix/store' || store.storeDir === '/gnu/store');
  if (defaultStore && isOnPath(program)) {
    const backend = commandBackend(store);
    try {
      return { backend, items: await backend.readClosure(roots) };
    } catch (error) {
      if (!(error instanceof ClosureError && error.code === 'COMMAND')) {
        throw error;
      }
      logger?.warn(`skipping ${program}: it failed`, { error: error.message });
    }
  }

  logger?.debug('scanning the items for references', { storeDir: store.storeDir });
  const backend = scanBackend(store);
  return { backend, items: await backend.readClosure(roots) };
}

async function checkRootsExist(roots: string[], store: StoreContext): Promise<void> {
  for (const root of roots) {
    const file = store.onDisk(path.posix.normalize(root));
    try {
      await lstat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const missing = code === 'ENOENT' || code === 'ENOTDIR';
      const where = file === root ? '' : ` at ${file}`;
      const message = missing ? `root ${root} not found${where}` : `reading root ${root}${where}`;
      throw new ClosureError(
        missing ? 'NOT_FOUND' : 'READ',
        `${message}: ${describeCause(error)}`,
        {
          path: root,
          cause: error,
        },
      );
    }
  }
}
