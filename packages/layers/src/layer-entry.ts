import { type EntryName, nameBytes } from './entry-name.js';

/**
 * One entry of a layer, in archive order. Names are relative to the image root, with no leading
 * `/` or `./`; folder names end with `/`, as GNU tar writes them. A name, target or disk path is
 * raw bytes when it is not valid UTF-8.
 */
export type LayerEntry =
  | { type: 'directory'; name: EntryName; mode: number }
  | ({ type: 'file'; name: EntryName; mode: number } & RecordedFile)
  | { type: 'symlink'; name: EntryName; target: EntryName };

/**
 * A regular file as the walk recorded it with lstat: where it is, its size, and the device, inode
 * and modification time that tell whether the file read later is the same, unchanged.
 */
export interface RecordedFile {
  diskPath: EntryName;
  size: number;
  dev: number;
  ino: number;
  mtimeMs: number;
}

/** The first file size that a ustar size field of 11 octal digits cannot hold: 8 GiB. */
export const USTAR_SIZE_LIMIT = 8 * 1024 ** 3;

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

/** Checks whether an entry's name or symlink target is raw bytes, which need a binary PAX header. */
export function hasBinaryName(entry: LayerEntry): boolean {
  return (
    typeof entry.name !== 'string' || (entry.type === 'symlink' && typeof entry.target !== 'string')
  );
}

/**
 * Makes the ustar name of an entry whose real name goes in a PAX record: the last component with
 * every byte outside printable ASCII as `_`, cut to fit the 100-byte name field.
 */
export function asciiStandIn(name: EntryName, isDirectory: boolean): string {
  const bytes = nameBytes(name);
  const trimmed = isDirectory ? bytes.subarray(0, -1) : bytes;
  const last = trimmed.subarray(trimmed.lastIndexOf(0x2f) + 1);
  const ascii = Array.from(last, (byte) =>
    byte > 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '_',
  ).join('');
  return `${ascii.slice(0, 99)}${isDirectory ? '/' : ''}`;
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
