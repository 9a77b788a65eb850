import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ClosureItem } from './closure.js';
import { ClosureError } from './errors.js';
import type { Logger } from './logger.js';
import { closureFromGraph, type ReferenceGraph } from './reference-graph.js';
import { parseRegistration } from './registration-file.js';
import { outputLines, runStoreCommand } from './store-command.js';
import { defaultDatabasePath } from './store-database.js';

/** The store and database that a store command should read. */
export interface CommandStore {
  /** Store directory, e.g. `/nix/store`. */
  storeDir: string;
  /** Folder that contains the store, like Nix's `local?root=DIR`, when not `/`. */
  root?: string | undefined;
  /** The store database file. */
  databaseFile?: string | undefined;
}

/** The program that queries a store, with the arguments that select the store. */
export interface StoreProgram {
  /** `nix-store`, or `guix` for Guix's own store. */
  program: 'nix-store' | 'guix';
  /** `--store URI` for a store other than the default one of `nix-store`, else nothing. */
  storeArgs: string[];
}

// Paths per `nix-store --dump-db` call, so that the command line stays far below ARG_MAX.
const dumpBatchSize = 1000;
// `guix gc --references` calls that run at once.
const guixConcurrency = 4;

/**
 * Chooses the store command for a store: `guix` for Guix's own store (`/gnu/store` with
 * `/var/guix/db/db.sqlite`), else `nix-store`, with `--store local?store=…&state=…` for any store
 * other than `/nix/store` with `/nix/var/nix/db/db.sqlite`.
 */
export function storeProgram(store: CommandStore): StoreProgram {
  const { storeDir, root } = store;
  const databaseFile = store.databaseFile ?? defaultDatabasePath(storeDir, root);
  if (storeDir === '/gnu/store' && databaseFile === defaultDatabasePath(storeDir, root)) {
    if (root !== undefined) {
      throw new ClosureError(
        'COMMAND',
        `reading the closure with guix gc: guix reads only the store of its running daemon, not one under ${root}: use the database or a scan`,
      );
    }
    return { program: 'guix', storeArgs: [] };
  }
  if (
    storeDir === '/nix/store' &&
    root === undefined &&
    databaseFile === defaultDatabasePath(storeDir)
  ) {
    return { program: 'nix-store', storeArgs: [] };
  }
  if (databaseFile === undefined) {
    throw new ClosureError(
      'COMMAND',
      `reading the closure with nix-store: ${storeDir} has no default database, so pass its file`,
    );
  }

  // The database is <state>/db/db.sqlite, as in /nix/var/nix/db/db.sqlite.
  const state = path.dirname(path.dirname(path.resolve(databaseFile)));
  const parameters = [`store=${storeDir}`, `state=${state}`];
  if (root !== undefined) {
    parameters.push(`real=${path.join(path.resolve(root), storeDir)}`);
  }
  // NOTE: Nix 2.8 splits store URI parameters at & and = without percent-decoding them, so a
  // folder whose name has one of & = ? # cannot be passed.
  const bad = parameters.find((parameter) => /[&?#]|=.*=/.test(parameter));
  if (bad !== undefined) {
    throw new ClosureError(
      'COMMAND',
      `reading the closure with nix-store: cannot pass ${bad} in a store URI, because it contains & = ? or #`,
    );
  }
  return { program: 'nix-store', storeArgs: ['--store', `local?${parameters.join('&')}`] };
}

/**
 * Reads the closure of `roots` with the store's own command: `nix-store --query --requisites`
 * and `nix-store --dump-db` for Nix, `guix gc --requisites` and `guix gc --references` for Guix.
 */
export async function readCommandClosure(
  store: CommandStore,
  roots: string[],
  logger?: Logger,
): Promise<ClosureItem[]> {
  const { program, storeArgs } = storeProgram(store);
  if (storeArgs.length > 0) {
    // nix-store creates an empty store where it finds no database, so check it first.
    const databaseFile =
      store.databaseFile ?? (defaultDatabasePath(store.storeDir, store.root) as string);
    await stat(databaseFile).catch((error: unknown) => {
      throw new ClosureError(
        'COMMAND',
        `reading the closure with nix-store: no store database at ${databaseFile}, and nix-store would create an empty store there`,
        { path: databaseFile, cause: error },
      );
    });
  }

  const graph =
    program === 'guix' ? await guixGraph(roots) : await nixGraph(store.storeDir, storeArgs, roots);
  logger?.debug('read closure with the store command', { program, storeArgs, items: graph.size });
  return closureFromGraph(graph, roots, `the output of ${program}`, 'NOT_IN_DATABASE');
}

async function nixGraph(
  storeDir: string,
  storeArgs: string[],
  roots: string[],
): Promise<ReferenceGraph> {
  const requisites = outputLines(
    (await runStoreCommand('nix-store', [...storeArgs, '--query', '--requisites', ...roots]))
      .stdout,
  );

  // `--dump-db PATHS` prints the registration of each path: NAR hash, size, deriver, references.
  const graph: ReferenceGraph = new Map();
  for (let start = 0; start < requisites.length; start += dumpBatchSize) {
    const batch = requisites.slice(start, start + dumpBatchSize);
    const { stdout } = await runStoreCommand('nix-store', [...storeArgs, '--dump-db', ...batch]);
    for (const [path, entry] of parseRegistration(
      stdout,
      storeDir,
      'output of nix-store --dump-db',
    )) {
      graph.set(path, entry);
    }
  }
  return graph;
}

// NOTE: this path is written from Guix's documentation of `guix gc` and has not run against a real
// guix-daemon, because no test machine has one.
async function guixGraph(roots: string[]): Promise<ReferenceGraph> {
  const requisites = outputLines(
    (await runStoreCommand('guix', ['gc', '--requisites', ...roots])).stdout,
  );

  const graph: ReferenceGraph = new Map();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requisites.length) {
      const item = requisites[next++] as string;
      const { stdout } = await runStoreCommand('guix', ['gc', '--references', item]);
      graph.set(item, { references: outputLines(stdout) });
    }
  };
  await Promise.all(Array.from({ length: guixConcurrency }, worker));
  return graph;
}
