import { parseArgs } from 'node:util';
import { resolveClosure } from '@storepack/closure';
import { followToStorePath } from '@storepack/image';
import {
  formatClosureJson,
  formatDot,
  formatPaths,
  formatSizes,
  formatTree,
} from './closure-output.js';
import { stderrLogger } from './stderr-logger.js';
import { UsageError } from './usage-error.js';

/** Help text of `storepack closure`. */
export const closureHelp = `Usage: storepack closure [OPTION]... PATH...

Print the runtime closure of the store items PATH...: every item they refer to, directly
or not, one store path per line and sorted, as 'nix-store --query --requisites' and
'guix gc --requisites' print it.

Output (one of):
      --size              print each item's NAR size and closure size, human-readable,
                          as 'nix path-info -rsSh' and 'guix size' do; '?' when the
                          source does not record a size
      --tree              print the references as a tree, as 'nix-store --query --tree'
      --graph dot         print a Graphviz graph, as 'nix-store --query --graph'
      --json              print one JSON object (see JSON output below)

Closure:
      --closure-from FROM where the references come from: db (the store database),
                          command (nix-store, or guix gc for Guix's own store), scan (a
                          search of file contents for store hashes), a closure FILE, or
                          auto (default: the database when it opens and lists every
                          PATH, else the command for the default store when it is on
                          PATH, else a scan). FILE is JSON of 'nix path-info --json
                          --recursive', a file of exportReferencesGraph, or a
                          registration ('nix-store --dump-db', closureInfo); write ./db
                          for a file named db
      --db FILE           the store database to read (default: /nix/var/nix/db/db.sqlite for
                          /nix/store, /var/guix/db/db.sqlite for /gnu/store)
      --store-dir DIR     the store folder, such as /gnu/store (default: from the first PATH)
      --root DIR          read the items from DIR/<store path>, as Nix reads a 'local?root=DIR'
                          store
  -h, --help              print this help

JSON output:
  storeDir        the store folder
  roots           the store paths of PATH..., sorted
  source          "db", "command", "scan" or "file"
  narSize         bytes of the NAR serialisations of every item, null when one is unknown
  items[]         every item of the closure, sorted by path:
    path            store path
    references      store paths it refers to, itself included when it refers to itself
    referrers       store paths of the other items that refer to it
    narSize         bytes of its NAR serialisation, null when the source has none
    closureSize     bytes of the NAR serialisations of it and its closure, or null
    fileCount       files, symlinks and folders in it (scan only), or null

Exit status:
  0  the closure was printed
  1  the closure cannot be read (one line on standard error)
  2  the command line is invalid

Examples:
  storepack closure ./result
  storepack closure --size /gnu/store/…-hello-2.12 | sort -k3 -h
  storepack closure --graph dot ./result | dot -Tsvg > closure.svg
  storepack closure --closure-from ./path-info.json --json /nix/store/…-hello | jq '.narSize'
`;

/** Runs `storepack closure` with the arguments after the command name; returns the exit status. */
export async function runClosure(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      size: { type: 'boolean' },
      tree: { type: 'boolean' },
      graph: { type: 'string' },
      'closure-from': { type: 'string' },
      db: { type: 'string' },
      'store-dir': { type: 'string' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(closureHelp);
    return 0;
  }

  if (positionals.length === 0) {
    throw new UsageError('closure: no store path given (see storepack closure --help)');
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '') {
      throw new UsageError(`closure: --${name} is empty: give a value`);
    }
  }
  if (values.graph !== undefined && values.graph !== 'dot') {
    throw new UsageError(`closure: invalid --graph "${values.graph}": expected dot`);
  }
  const outputs = ['json', 'size', 'tree', 'graph'].filter(
    (name) => values[name as keyof typeof values] !== undefined,
  );
  if (outputs.length > 1 && !(outputs.length === 2 && values.json && values.size)) {
    throw new UsageError(
      `closure: --${outputs.join(' and --')} cannot be combined: choose one output`,
    );
  }

  const paths = await Promise.all(positionals.map((path) => followToStorePath(path)));
  const closure = await resolveClosure(paths, {
    logger: stderrLogger(Boolean(process.env.STOREPACK_DEBUG)),
    ...(values['closure-from'] === undefined ? {} : { from: values['closure-from'] }),
    ...(values.db === undefined ? {} : { db: values.db }),
    ...(values['store-dir'] === undefined ? {} : { storeDir: values['store-dir'] }),
    ...(values.root === undefined ? {} : { root: values.root }),
  });

  if (values.json) {
    process.stdout.write(formatClosureJson(closure));
  } else if (values.size) {
    process.stdout.write(formatSizes(closure));
  } else if (values.tree) {
    process.stdout.write(formatTree(closure));
  } else if (values.graph !== undefined) {
    process.stdout.write(formatDot(closure));
  } else {
    process.stdout.write(formatPaths(closure));
  }
  return 0;
}
