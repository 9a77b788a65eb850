import { join, posix } from 'node:path';
import { LayerError } from './errors.js';

/** An extra symlink at an absolute image path, e.g. `{ path: '/bin', target: '/nix/store/…-hello/bin' }`. */
export interface LayerSymlink {
  /** Absolute path of the link inside the image. */
  path: string;
  /** The link's target, written verbatim. */
  target: string;
}

/** The latest modification time a layer takes, in seconds since the epoch. */
const MAX_MTIME = 8_640_000_000_000;

/** An extra folder at an absolute image path, e.g. `{ path: '/tmp', mode: 0o1777 }`. */
export interface LayerDirectory {
  /** Absolute path of the folder inside the image. */
  path: string;
  /** Permission bits, including the sticky bit, such as `0o1777`. */
  mode: number;
}

/** The store items, extra symlinks and folders, and timestamp that one layer is made of. */
export interface LayerSource {
  /** The store folder, `/nix/store` or `/gnu/store`; its folders are written once, before the items. */
  storeDir: string;
  /** Absolute store paths of the items in this layer; an item is a folder, a file or a symlink. */
  storePaths: string[];
  /** Read item files from `root + storePath`, as Nix reads a `local?root=DIR` store. */
  root?: string;
  /** Symlinks added outside the items, such as `/bin`. */
  symlinks?: LayerSymlink[];
  /** Folders added outside the items, such as `/tmp`; they may hold extra symlinks. */
  directories?: LayerDirectory[];
  /** Modification time of every entry, in seconds since the epoch; 1 by default, as in the store. */
  mtime?: number;
}

/** A store item checked against the store folder. */
export interface SourceItem {
  /** The item's path in the store and the image, e.g. `/nix/store/…-hello-2.12`. */
  storePath: string;
  /** The item's last path component, e.g. `…-hello-2.12`. */
  baseName: string;
  /** Path the item is read from: `storePath`, or `root + storePath`. */
  diskPath: string;
}

/** A layer source after its paths and mtime have been checked. */
export interface CheckedSource {
  /** Components of the store folder, e.g. `['nix', 'store']`. */
  storeDirParts: string[];
  items: SourceItem[];
  /** Extra symlinks, each path split into components. */
  symlinks: { parts: string[]; target: string }[];
  /** Extra folders, each path split into components, with their modes. */
  directories: { parts: string[]; mode: number }[];
  mtime: Date;
}

/**
 * Checks that the store folder and the symlink paths are absolute and normalised, that every store
 * path sits directly in the store folder and appears once, and that `mtime` is whole seconds ≥ 0.
 */
export function checkSource(source: LayerSource): CheckedSource {
  const hasTrailingSlash = source.storeDir.length > 1 && source.storeDir.endsWith('/');
  const storeDir = hasTrailingSlash ? source.storeDir.slice(0, -1) : source.storeDir;
  const storeDirParts = splitAbsolute(storeDir, 'store folder');

  const seen = new Set<string>();
  const items = source.storePaths.map((storePath): SourceItem => {
    const baseName = storePath.slice(storeDir.length + 1);
    const isDirectChild =
      storePath.startsWith(`${storeDir}/`) && baseName !== '' && !baseName.includes('/');
    if (!isDirectChild || baseName === '.' || baseName === '..') {
      throw new LayerError(
        'INVALID_SOURCE',
        `invalid store path "${storePath.slice(0, 200)}": expected ${storeDir}/<hash>-<name>`,
        { path: storePath },
      );
    }
    if (seen.has(storePath)) {
      throw new LayerError('INVALID_SOURCE', `invalid store paths: ${storePath} is listed twice`, {
        path: storePath,
      });
    }
    seen.add(storePath);
    const diskPath = source.root === undefined ? storePath : join(source.root, storePath);
    return { storePath, baseName, diskPath };
  });

  const symlinks = (source.symlinks ?? []).map((symlink) => {
    if (symlink.target === '') {
      throw new LayerError('INVALID_SOURCE', `invalid symlink ${symlink.path}: empty target`, {
        path: symlink.path,
      });
    }
    return { parts: splitAbsolute(symlink.path, 'symlink path'), target: symlink.target };
  });

  const directories = (source.directories ?? []).map((directory) => {
    if (!Number.isInteger(directory.mode) || directory.mode < 0 || directory.mode > 0o7777) {
      throw new LayerError(
        'INVALID_SOURCE',
        `invalid folder ${directory.path}: mode ${String(directory.mode).slice(0, 20)} is not between 0 and 0o7777`,
        { path: directory.path },
      );
    }
    return { parts: splitAbsolute(directory.path, 'folder path'), mode: directory.mode };
  });

  const mtime = source.mtime ?? 1;
  // 8.64e12 s is the last second a JavaScript Date can hold, about the year 275,760.
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > MAX_MTIME) {
    throw new LayerError(
      'INVALID_SOURCE',
      `invalid mtime ${String(mtime).slice(0, 40)}: expected whole seconds from 0 to ${MAX_MTIME} since 1970-01-01, such as 1`,
    );
  }

  return { storeDirParts, items, symlinks, directories, mtime: new Date(mtime * 1000) };
}

/** Splits an absolute, normalised path other than `/` into its components. */
function splitAbsolute(path: string, description: string): string[] {
  if (
    !path.startsWith('/') ||
    path === '/' ||
    posix.normalize(path) !== path ||
    path.endsWith('/')
  ) {
    throw new LayerError(
      'INVALID_SOURCE',
      `invalid ${description} "${path.slice(0, 200)}": expected an absolute, normalised path below /, such as /nix/store`,
      { path },
    );
  }
  return path.slice(1).split('/');
}
