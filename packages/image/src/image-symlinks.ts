import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { LayerSymlink } from '@storepack/layers';
import { ImageError } from './errors.js';
import type { SymlinkSpec } from './image-settings.js';

/**
 * Resolves the symlinks to add to the image. A relative target is taken inside `mainItem`, and every
 * target must lie in an item of the closure, so that no link points outside the image. Without
 * `specs`, the image gets the original's `/bin` link when the main item has a `bin/`.
 */
export async function resolveImageSymlinks(
  specs: SymlinkSpec[] | undefined,
  mainItem: string,
  closureItems: ReadonlySet<string>,
  storeDir: string,
  root: string | undefined,
): Promise<LayerSymlink[]> {
  if (specs === undefined) {
    const bin = await lstat(join(root ?? '/', mainItem, 'bin')).catch(() => undefined);
    const hasBin = bin !== undefined && (bin.isDirectory() || bin.isSymbolicLink());
    return hasBin ? [{ path: '/bin', target: `${mainItem}/bin` }] : [];
  }

  return specs.map(({ link, target }) => {
    const absolute = posix.normalize(
      target.startsWith('/') ? target : posix.join(mainItem, target),
    );
    const item = absolute.startsWith(`${storeDir}/`)
      ? absolute
          .split('/')
          .slice(0, storeDir.split('/').length + 1)
          .join('/')
      : undefined;
    if (item === undefined || !closureItems.has(item)) {
      throw new ImageError(
        'INVALID_OPTION',
        `invalid --symlink "${link}=${target}": its target ${absolute} is outside the image, which holds only the closure's store items`,
      );
    }
    return { path: posix.normalize(link), target: absolute };
  });
}
