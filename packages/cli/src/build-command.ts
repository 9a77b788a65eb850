import { parseArgs } from 'node:util';
import {
  buildImage,
  defaultArchiveFileName,
  followToStorePath,
  type ImageTarget,
} from '@storepack/image';
import { withInterruption } from './interruption.js';
import { sourceDateEpoch } from './source-date-epoch.js';
import { stderrLogger } from './stderr-logger.js';
import { UsageError } from './usage-error.js';

/** Help text of `storepack build`. */
export const buildHelp = `Usage: storepack build [OPTION]... PATH...

Write a container image of the store items PATH... and their runtime closure, as a
docker-archive (the format of 'docker save' and 'docker load').

Options:
  -o, --output FILE       write the archive to FILE, or to standard output when FILE is '-'
                          (default: docker-image-<basename of the first PATH>.tar)
  -t, --tag NAME:TAG      name the image NAME:TAG; may be repeated
                          (default: <first word of the item's name>:<hash part>)
      --system SYSTEM     the image's platform as a Guix or Nix system name, such as
                          x86_64-linux or aarch64-linux (default: this machine's)
      --closure-from FROM where the closure comes from: db (the store database), scan (a
                          search of file contents for store hashes) or auto (default: the
                          database when it opens and holds every PATH, else a scan)
      --db FILE           the store database to read (default: /nix/var/nix/db/db.sqlite for
                          /nix/store, /var/guix/db/db.sqlite for /gnu/store)
      --store-dir DIR     the store folder, such as /gnu/store (default: from the first PATH)
      --root DIR          read the items from DIR/<store path>, as Nix reads a 'local?root=DIR'
                          store; in the image they sit at their store path
  -h, --help              print this help

Environment:
  SOURCE_DATE_EPOCH       the image's creation time in seconds since the epoch
                          (default: 1, that is 1970-01-01T00:00:01Z)

Examples:
  storepack build /gnu/store/…-hello-2.12 -o hello.tar && docker load < hello.tar
  storepack build ./result -o - | podman load
  storepack build --root ./copy --closure-from scan /nix/store/…-hello
`;

/** Runs `storepack build` with the arguments after the command name; returns the exit status. */
export async function runBuild(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      tag: { type: 'string', short: 't', multiple: true },
      system: { type: 'string' },
      'closure-from': { type: 'string' },
      db: { type: 'string' },
      'store-dir': { type: 'string' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(buildHelp);
    return 0;
  }

  const [firstPath] = positionals;
  if (firstPath === undefined) {
    throw new UsageError('build: no store path given (see storepack build --help)');
  }
  const closureFrom = values['closure-from'] ?? 'auto';
  if (closureFrom !== 'auto' && closureFrom !== 'db' && closureFrom !== 'scan') {
    throw new UsageError(
      `build: invalid --closure-from "${closureFrom}": expected auto, db or scan`,
    );
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '') {
      throw new UsageError(`build: --${name} is empty: give a value`);
    }
  }
  const created = sourceDateEpoch(process.env.SOURCE_DATE_EPOCH);
  const target = outputTarget(
    values.output ?? defaultArchiveFileName(await followToStorePath(firstPath)),
  );

  await withInterruption((signal) =>
    buildImage(
      {
        paths: positionals,
        closureFrom,
        logger: stderrLogger(Boolean(process.env.STOREPACK_DEBUG)),
        ...(created === undefined ? {} : { created }),
        ...(values.tag === undefined ? {} : { tags: values.tag }),
        ...(values.system === undefined ? {} : { system: values.system }),
        ...(values.db === undefined ? {} : { database: values.db }),
        ...(values['store-dir'] === undefined ? {} : { storeDir: values['store-dir'] }),
        ...(values.root === undefined ? {} : { root: values.root }),
      },
      target,
      { signal },
    ),
  );
  return 0;
}

function outputTarget(output: string): ImageTarget {
  if (output !== '-') {
    return { path: output };
  }
  if (process.stdout.isTTY) {
    throw new UsageError(
      'build: not writing an image archive to a terminal: redirect standard output or use -o FILE',
    );
  }
  return { stream: process.stdout };
}
