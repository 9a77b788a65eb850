import type { Header } from 'tar-stream';

/**
 * One entry of a layer, in archive order. Names are relative to the image root, with no leading
 * `/` or `./`; folder names end with `/`, as GNU tar writes them.
 */
export type LayerEntry =
  | { type: 'directory'; name: string; mode: number }
  | { type: 'file'; name: string; mode: number; size: number; diskPath: string }
  | { type: 'symlink'; name: string; target: string };

/** Mode of every folder, store items and store folder alike, as in a Nix or Guix store. */
export const DIRECTORY_MODE = 0o555;

/** Mode of folders that exist only to hold extra symlinks, such as `usr/` for `/usr/bin/env`. */
export const SYMLINK_PARENT_MODE = 0o755;

/** Mode of every symlink. Linux ignores a symlink's mode. */
export const SYMLINK_MODE = 0o777;

/** Normalises a regular file's mode as the store does: 0555 when any execute bit is set, else 0444. */
export function storeFileMode(mode: number): number {
  return (mode & 0o111) === 0 ? 0o444 : 0o555;
}

/**
 * Builds the tar-stream header of an entry: uid and gid 0, empty user and group names, device
 * numbers 0 and the given mtime, so that nothing of the machine that wrote the layer shows.
 */
export function tarHeader(entry: LayerEntry, mtime: Date): Header {
  const common = {
    name: entry.name,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    mtime,
    devmajor: 0,
    devminor: 0,
  };
  switch (entry.type) {
    case 'directory':
      return { ...common, type: 'directory', mode: entry.mode, size: 0, linkname: '' };
    case 'file':
      return { ...common, type: 'file', mode: entry.mode, size: entry.size, linkname: '' };
    case 'symlink':
      return { ...common, type: 'symlink', mode: SYMLINK_MODE, size: 0, linkname: entry.target };
  }
}

/** Rounds a file size up to whole 512-byte blocks, the space its content takes in the archive. */
export function paddedSize(size: number): number {
  return Math.ceil(size / 512) * 512;
}

/**
 * Version of the tar bytes that a layer source gives. It changes whenever the same source would
 * give other bytes, so that cached layers of an older version are not reused.
 */
export const LAYER_FORMAT_VERSION = 1;
