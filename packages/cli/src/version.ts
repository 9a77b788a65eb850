import { readFile } from 'node:fs/promises';

/** Returns the version of the installed `@storepack/cli` package, from its package.json. */
export async function version(): Promise<string> {
  const manifest = new URL('../package.json', import.meta.url);
  return JSON.parse(await readFile(manifest, 'utf8')).version;
}
