import { lstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ClosureItem } from './closure.js';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';
import { type StoreDatabase, withStoreDatabase } from './store-database.js';

/** Outcome of a database lookup: the closure, or the roots that the database does not list. */
export type DatabaseClosureResult =
  | { items: ClosureItem[]; missingRoots?: undefined }
  | { items?: undefined; missingRoots: string[] };

/**
 * Reads the closure of `roots` from the store database `file` by walking its Refs table
 * breadth-first. Returns the roots that are not valid paths instead when there are any.
 */
export async function readDatabaseClosure(
  file: string,
  roots: string[],
  logger?: Logger,
): Promise<DatabaseClosureResult> {
  const result = await withStoreDatabase(
    file,
    (database) => walkReferences(database, roots),
    logger,
  );
  logger?.debug('read closure from store database', {
    file,
    roots: roots.length,
    items: result.items?.length,
    missingRoots: result.missingRoots?.length,
  });
  return result;
}

/** Throws `NOT_IN_DATABASE` for the first missing root, naming a WAL file that was not read. */
export async function throwNotInDatabase(file: string, missingRoots: string[]): Promise<never> {
  const first = missingRoots[0] as string;
  let hint = '';
  const wal = await stat(`${file}-wal`).catch(() => undefined);
  if (wal !== undefined && wal.size > 0) {
    hint = `, and ${file}-wal, which may register it, is not read because the database is opened immutable`;
  }
  const others = missingRoots.length > 1 ? ` (and ${missingRoots.length - 1} more roots)` : '';
  throw new ClosureError(
    'NOT_IN_DATABASE',
    `${first}${others} is not a valid path in store database ${file}${hint}`,
    {
      path: first,
    },
  );
}

/**
 * Checks that every item of a closure read from the database exists at `diskRoot + path`,
 * because a database can list paths that were deleted or never copied. Throws `MISSING_REFERENCE`.
 */
export async function checkItemsOnDisk(
  items: ClosureItem[],
  onDisk: (storePath: string) => string,
): Promise<void> {
  const referrers = new Map<string, string>();
  for (const item of items) {
    for (const reference of item.references) {
      if (!referrers.has(reference) && reference !== item.path) {
        referrers.set(reference, item.path);
      }
    }
  }

  // Synchronous calls, because awaiting one lstat per item through the thread pool took over a
  // second for 10,000 items, while these take a few milliseconds.
  for (const item of items) {
    try {
      lstatSync(onDisk(item.path));
    } catch (error) {
      const referrer = referrers.get(item.path);
      const subject =
        referrer === undefined ? `root ${item.path}` : `${referrer} refers to ${item.path}, which`;
      throw new ClosureError(
        'MISSING_REFERENCE',
        `${subject} is listed by the store database but missing at ${onDisk(item.path)}: ${describeCause(error)}`,
        {
          path: item.path,
          cause: error,
        },
      );
    }
  }
}

function walkReferences(database: StoreDatabase, roots: string[]): DatabaseClosureResult {
  const queue = [];
  const missingRoots = [];
  for (const root of roots) {
    const row = database.validPath(root);
    if (row === undefined) {
      missingRoots.push(root);
    } else {
      queue.push(row);
    }
  }
  if (missingRoots.length > 0) {
    return { missingRoots };
  }

  const items = new Map<number, ClosureItem>();
  const queued = new Set(queue.map((row) => row.id));
  for (let index = 0; index < queue.length; index += 1) {
    const row = queue[index] as (typeof queue)[number];
    const references: string[] = [];

    for (const reference of database.references(row.id)) {
      if (reference.path === undefined) {
        throw new ClosureError(
          'MISSING_REFERENCE',
          `reading store database ${database.file}: ${row.path} refers to row ${reference.id} of Refs, which has no ValidPaths entry`,
          {
            path: row.path,
          },
        );
      }
      references.push(reference.path);
      if (!queued.has(reference.id)) {
        queued.add(reference.id);
        queue.push({ id: reference.id, path: reference.path, narSize: reference.narSize });
      }
    }

    const item: ClosureItem = { path: row.path, references: references.sort() };
    if (row.narSize !== undefined) {
      item.narSize = row.narSize;
    }
    items.set(row.id, item);
  }
  return { items: [...items.values()] };
}
