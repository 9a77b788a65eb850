import { lstat, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseStorePath } from '@storepack/closure';
import { ImageError } from './errors.js';

/**
 * Follows a link such as nix-build's `./result` to the store path it names; any other path is
 * returned as given, for the closure to check.
 */
export async function followToStorePath(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops += 1) {
    const stats = await lstat(current).catch(() => undefined);
    if (stats === undefined || !stats.isSymbolicLink() || isStorePath(current)) {
      return current;
    }
    const target = await readlink(current);
    current = isAbsolute(target) ? target : resolve(dirname(current), target);
  }
  throw new ImageError('INVALID_OPTION', `resolving ${path}: too many levels of symbolic links`, {
    path,
  });
}

function isStorePath(path: string): boolean {
  try {
    parseStorePath(path);
    return true;
  } catch {
    return false;
  }
}
