import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The bundle of the command and its workspace libraries that `scripts/bundle.mjs` writes. */
const BUNDLE_FILE = 'storepack.js';

/** The list of build-info files that the bundle was made from, written beside it. */
const SOURCES_FILE = 'storepack.json';

/** The command's own module, which imports the libraries from their packages. */
const MODULES_FILE = 'main.js';

/**
 * Returns the file in `distFolder` that the `storepack` command runs: the bundle, which loads in
 * about a third of the time, while it is at least as new as every build-info file it was made
 * from, and `main.js` otherwise. A library compiled again with `tsc -b` alone thus never leaves
 * the command running the code from before. A build-info file that is missing, as in a package
 * installed from the registry, does not count.
 */
export function commandEntry(distFolder: string): string {
  const modules = path.join(distFolder, MODULES_FILE);
  const bundle = modificationTime(path.join(distFolder, BUNDLE_FILE));
  if (bundle === undefined) {
    return modules;
  }
  let builtFrom: unknown;
  try {
    builtFrom = JSON.parse(readFileSync(path.join(distFolder, SOURCES_FILE), 'utf8')).builtFrom;
  } catch {
    return modules;
  }
  if (!Array.isArray(builtFrom) || !builtFrom.every((file) => typeof file === 'string')) {
    return modules;
  }
  const isCurrent = builtFrom.every(
    (file: string) => (modificationTime(path.resolve(distFolder, file)) ?? 0) <= bundle,
  );
  return isCurrent ? path.join(distFolder, BUNDLE_FILE) : modules;
}

function modificationTime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
