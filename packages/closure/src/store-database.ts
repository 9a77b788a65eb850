import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Returns the usual store database for a store directory: the Nix one for `/nix/store`, the
 * Guix one for `/gnu/store`, under `root` when given, and undefined for any other store directory.
 */
export function defaultDatabasePath(storeDir: string, root?: string): string | undefined {
  const databases: Record<string, string> = {
    '/nix/store': '/nix/var/nix/db/db.sqlite',
    '/gnu/store': '/var/guix/db/db.sqlite',
  };
  const database = databases[storeDir];
  if (database === undefined) {
    return undefined;
  }
  return root === undefined ? database : path.join(root, database);
}

/** A row of the ValidPaths table: a store item registered as valid. */
export interface ValidPath {
  /** Row id that the Refs table uses. */
  id: number;
  /** Store path of the item. */
  path: string;
  /** Size of the item's NAR serialisation in bytes, when recorded. */
  narSize: number | undefined;
}

/** A read-only view of a Nix or Guix store database (the `ValidPaths` and `Refs` tables). */
export interface StoreDatabase {
  /** File name of the database. */
  readonly file: string;
  /** Looks up a store path among the valid paths. */
  validPath(storePath: string): ValidPath | undefined;
  /** Lists the references of a valid path, with `path` undefined for a reference with no row. */
  references(id: number): { id: number; path: string | undefined; narSize: number | undefined }[];
}

const maxAttempts = 5;
const firstRetryDelayMs = 50;

/**
 * Opens the store database `file` read-only and immutable, runs `read` on it and closes it.
 * A busy or locked database is retried a few times before failing with `DATABASE`.
 */
export async function withStoreDatabase<T>(
  file: string,
  read: (database: StoreDatabase) => T,
  logger?: Logger,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return readOnce(file, read);
    } catch (error) {
      // NOTE: with immutable=1 SQLite takes no locks, so this retry only runs if SQLite still
      // reports SQLITE_BUSY or SQLITE_LOCKED, which no test provokes.
      if (!isBusy(error)) {
        throw error;
      }
      if (attempt === maxAttempts) {
        throw new ClosureError(
          'DATABASE',
          `reading store database ${file}: still busy after ${maxAttempts} attempts: ${describeCause(error)}`,
          {
            path: file,
            cause: error,
          },
        );
      }
      const delayMs = firstRetryDelayMs * 2 ** (attempt - 1);
      logger?.debug('store database busy, retrying', { file, attempt, delayMs });
      await sleep(delayMs);
    }
  }
}

function readOnce<T>(file: string, read: (database: StoreDatabase) => T): T {
  const connection = openImmutable(file);
  try {
    checkSchema(connection, file);
  } catch (error) {
    connection.close();
    if (error instanceof Database.SqliteError && !isBusy(error)) {
      throw new ClosureError(
        'DATABASE',
        `opening store database ${file}: ${describeSqliteError(error)}`,
        {
          path: file,
          cause: error,
        },
      );
    }
    throw error;
  }

  try {
    const selectPath = connection.prepare<[string], { id: number; narSize: number | null }>(
      'SELECT id, narSize FROM ValidPaths WHERE path = ?',
    );
    const selectReferences = connection.prepare<
      [number],
      { id: number; path: string | null; narSize: number | null }
    >(
      'SELECT Refs.reference AS id, ValidPaths.path AS path, ValidPaths.narSize AS narSize FROM Refs ' +
        'LEFT JOIN ValidPaths ON ValidPaths.id = Refs.reference WHERE Refs.referrer = ?',
    );

    return read({
      file,
      validPath(storePath) {
        const row = selectPath.get(storePath);
        return row === undefined
          ? undefined
          : { id: row.id, path: storePath, narSize: row.narSize ?? undefined };
      },
      references(id) {
        return selectReferences.all(id).map((row) => ({
          id: row.id,
          path: row.path ?? undefined,
          narSize: row.narSize ?? undefined,
        }));
      },
    });
  } catch (error) {
    if (error instanceof Database.SqliteError && !isBusy(error)) {
      throw new ClosureError(
        'DATABASE',
        `reading store database ${file}: ${describeSqliteError(error)}`,
        {
          path: file,
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    connection.close();
  }
}

/**
 * Opens `file` with SQLite's `immutable=1` URI parameter, so that reading a live database
 * creates no `-wal`, `-shm` or journal file next to it and takes no lock.
 */
function openImmutable(file: string): Database.Database {
  const absolute = path.resolve(file);
  try {
    const stats = statSync(absolute);
    if (!stats.isFile()) {
      throw new Error('not a regular file');
    }
    accessSync(absolute, constants.R_OK);
  } catch (error) {
    throw new ClosureError('DATABASE', `opening store database ${file}: ${describeCause(error)}`, {
      path: file,
      cause: error,
    });
  }

  // better-sqlite3 12 builds SQLite with SQLITE_USE_URI=0 and passes no SQLITE_OPEN_URI flag, but
  // its native addon reads the SQLITE_USE_URI environment variable once, when the first Database
  // is created, and "1" turns URI file names on for the whole process.
  process.env.SQLITE_USE_URI ??= '1';
  const uri = `file:${absolute.replace(/[%?#]/g, (character) => `%${character.charCodeAt(0).toString(16)}`)}?immutable=1`;
  try {
    return new Database(uri, { readonly: true, fileMustExist: true });
  } catch (error) {
    const cause =
      error instanceof Database.SqliteError && error.code === 'SQLITE_CANTOPEN'
        ? 'SQLite could not open it as a URI file name, which happens when better-sqlite3 was loaded before SQLITE_USE_URI=1 was set: set SQLITE_USE_URI=1 in the environment'
        : describeCause(error);
    throw new ClosureError('DATABASE', `opening store database ${file}: ${cause}`, {
      path: file,
      cause: error,
    });
  }
}

function checkSchema(connection: Database.Database, file: string): void {
  const tables = connection
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('ValidPaths', 'Refs')",
    )
    .all()
    .map((row) => row.name);
  for (const table of ['ValidPaths', 'Refs']) {
    if (!tables.includes(table)) {
      throw new ClosureError(
        'DATABASE',
        `opening store database ${file}: not a Nix or Guix store database (no ${table} table)`,
        {
          path: file,
        },
      );
    }
  }
}

function isBusy(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED'))
  );
}

function describeSqliteError(error: InstanceType<typeof Database.SqliteError>): string {
  return `${error.message.toLowerCase()} (${error.code})`;
}
