import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Closure, ClosureItem } from './closure.js';
import { checkItemsOnDisk, readDatabaseClosure, throwNotInDatabase } from './database-closure.js';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';
import { scanClosure } from './scan-closure.js';
import { defaultDatabasePath } from './store-database.js';
import { parseStorePath } from './store-path.js';

/** Options of {@link resolveClosure}. */
export interface ResolveClosureOptions {
  /**
   * Source of the references: `db` reads the store database, `scan` searches the items' bytes,
   * and `auto` (the default) reads the database when it opens and lists every root, else scans.
   */
  from?: 'auto' | 'db' | 'scan';
  /** Store database file. Defaults to the usual one for the store directory, under `root`. */
  db?: string;
  /** Store directory, e.g. `/gnu/store`. Defaults to the one of the first root. */
  storeDir?: string;
  /** Folder that contains the store, like Nix's `local?root=DIR`: items are read at `root + path`. */
  root?: string;
  /** Receiver of debug and warning events. */
  logger?: Logger;
}

const sources = ['auto', 'db', 'scan'];

/**
 * Resolves the runtime closure of `roots`, absolute store paths or paths inside store items.
 * Items and their references come out sorted, so equal stores give equal closures.
 */
export async function resolveClosure(
  roots: string[],
  options: ResolveClosureOptions = {},
): Promise<Closure> {
  const from = options.from ?? 'auto';
  if (!sources.includes(from)) {
    throw new ClosureError(
      'INVALID_OPTION',
      `closure source ${JSON.stringify(from)} is invalid: expected auto, db or scan`,
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
  const diskRoot = options.root === undefined ? undefined : path.resolve(options.root);
  const onDisk = (storePath: string): string =>
    diskRoot === undefined ? storePath : path.join(diskRoot, storePath);

  const rootItems = new Set<string>();
  for (const root of roots) {
    rootItems.add(parseStorePath(root, storeDir).path);
    await checkRootExists(root, onDisk(path.posix.normalize(root)));
  }
  const rootPaths = [...rootItems].sort();
  const logger = options.logger;
  const databaseFile = options.db ?? defaultDatabasePath(storeDir, diskRoot);

  let items: ClosureItem[] | undefined;
  let source: Closure['source'] = 'db';
  if (from === 'db') {
    if (databaseFile === undefined) {
      throw new ClosureError(
        'DATABASE',
        `reading the closure from the store database: ${storeDir} has no default database, so pass its file`,
      );
    }
    const result = await readDatabaseClosure(databaseFile, rootPaths, logger);
    if (result.missingRoots !== undefined) {
      return throwNotInDatabase(databaseFile, result.missingRoots);
    }
    items = result.items;
  } else if (from === 'auto') {
    items = await tryDatabase(databaseFile, options.db !== undefined, storeDir, rootPaths, logger);
  }

  if (items === undefined) {
    items = await scanClosure(storeDir, rootPaths, onDisk, logger);
    source = 'scan';
  } else {
    await checkItemsOnDisk(items, onDisk);
  }

  items.sort(comparePaths);
  return { storeDir, roots: rootPaths, items, source };
}

// Compares by UTF-16 code units, which orders ASCII store paths like `sort` in the C locale.
function comparePaths(left: ClosureItem, right: ClosureItem): number {
  if (left.path === right.path) {
    return 0;
  }
  return left.path < right.path ? -1 : 1;
}

/**
 * Reads the closure from the database for `auto`, or returns undefined with the reason logged.
 * A database the caller named (`explicit`) must open: its failure is an error, not a reason to scan.
 */
async function tryDatabase(
  databaseFile: string | undefined,
  explicit: boolean,
  storeDir: string,
  roots: string[],
  logger: Logger | undefined,
): Promise<ClosureItem[] | undefined> {
  if (databaseFile === undefined) {
    logger?.debug('scanning because the store directory has no default database', { storeDir });
    return undefined;
  }

  try {
    const result = await readDatabaseClosure(databaseFile, roots, logger);
    if (result.missingRoots !== undefined) {
      logger?.warn('scanning because the store database does not list every root', {
        db: databaseFile,
        missingRoots: result.missingRoots,
      });
      return undefined;
    }
    return result.items;
  } catch (error) {
    if (error instanceof ClosureError && error.code === 'DATABASE' && !explicit) {
      // A store copied without its database is the usual case for a scan; any other failure of
      // the default database is worth a warning.
      const missing = (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
      const log = missing ? logger?.debug : logger?.warn;
      log?.call(logger, 'scanning because the store database cannot be read', {
        db: databaseFile,
        error: error.message,
      });
      return undefined;
    }
    throw error;
  }
}

async function checkRootExists(root: string, file: string): Promise<void> {
  try {
    await lstat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    const where = file === root ? '' : ` at ${file}`;
    const message = missing ? `root ${root} not found${where}` : `reading root ${root}${where}`;
    throw new ClosureError(missing ? 'NOT_FOUND' : 'READ', `${message}: ${describeCause(error)}`, {
      path: root,
      cause: error,
    });
  }
}
