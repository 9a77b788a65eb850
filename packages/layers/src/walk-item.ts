import type { Dirent, Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { decodeName, displayName, type EntryName, joinName } from './entry-name.js';
import { LayerError, readError } from './errors.js';
import { DIRECTORY_MODE, type LayerEntry, storeFileMode } from './layer-entry.js';

/** Entries collected so far. */
export interface WalkState {
  entries: LayerEntry[];
}

/**
 * Appends the entries of the file, symlink or folder at `diskPath`, named `name` in the archive,
 * parents before children and siblings sorted by the bytes of their names. Symlinks are never
 * followed.
 *
 * Every call is synchronous: with thousands of small calls, a thread pool round trip each costs
 * more than the calls themselves. Folder listings give each child's type, so symlinks need no
 * lstat call, and files and folders one each.
 */
export function walkItem(diskPath: string, name: string, state: WalkState): void {
  addStats(diskPath, name, lstatAt(diskPath), state);
}

function addStats(diskPath: EntryName, name: EntryName, stats: Stats, state: WalkState): void {
  if (stats.isDirectory()) {
    addDirectory(diskPath, name, state);
  } else if (stats.isSymbolicLink()) {
    addSymlink(diskPath, name, state);
  } else if (stats.isFile()) {
    addFile(diskPath, name, stats, state);
  } else {
    const displayedPath = displayName(diskPath);
    throw new LayerError(
      'UNSUPPORTED_FILE_TYPE',
      `reading ${displayedPath}: unsupported file type ${fileType(stats)}: a store item holds only regular files, folders and symlinks`,
      { path: displayedPath },
    );
  }
}

function addDirectory(diskPath: EntryName, name: EntryName, state: WalkState): void {
  state.entries.push({ type: 'directory', name: joinName(name, ''), mode: DIRECTORY_MODE });
  for (const child of readChildren(diskPath)) {
    const childName = decodeName(child.name);
    const childPath = joinName(diskPath, childName);
    const entryName = joinName(name, childName);
    if (child.isDirectory()) {
      addDirectory(childPath, entryName, state);
    } else if (child.isSymbolicLink()) {
      addSymlink(childPath, entryName, state);
    } else {
      addStats(childPath, entryName, lstatAt(childPath), state);
    }
  }
}

function addSymlink(diskPath: EntryName, name: EntryName, state: WalkState): void {
  let target: Buffer;
  try {
    target = readlinkSync(diskPath, { encoding: 'buffer' });
  } catch (error) {
    throw readError(displayName(diskPath), error);
  }
  state.entries.push({ type: 'symlink', name, target: decodeName(target) });
}

function addFile(diskPath: EntryName, name: EntryName, stats: Stats, state: WalkState): void {
  // Every path of a hard-linked file is written with its full content, as a NAR serialises it,
  // so a store that `nix-store --optimise` or Guix deduplicated gives the same bytes as one that
  // is not.
  if (stats.size > Number.MAX_SAFE_INTEGER) {
    const displayedPath = displayName(diskPath);
    throw new LayerError(
      'FILE_TOO_LARGE',
      `reading ${displayedPath}: file of ${stats.size} bytes is too large: layers take files up to ${Number.MAX_SAFE_INTEGER} bytes`,
      { path: displayedPath },
    );
  }
  state.entries.push({
    type: 'file',
    name,
    mode: storeFileMode(stats.mode),
    size: stats.size,
    diskPath,
    dev: stats.dev,
    ino: stats.ino,
    mtimeMs: stats.mtimeMs,
  });
}

/**
 * Lists a folder's children, with their types, sorted by the bytes of their names. readdir follows
 * a symlink, so the folder is checked with lstat once listed: one that a symlink replaced fails
 * here instead of having the symlink's target listed in its place.
 *
 * NOTE: files are found and later read by path, so a folder swapped for a symlink and back while
 * the layer is prepared or streamed can still go unnoticed. A store is read-only, so this matters
 * only for a `root` folder that others can write to while the build runs.
 */
function readChildren(diskPath: EntryName): Dirent<Buffer>[] {
  let children: Dirent<Buffer>[];
  try {
    children = readdirSync(diskPath, { encoding: 'buffer', withFileTypes: true });
  } catch (error) {
    throw readError(displayName(diskPath), error);
  }
  if (!lstatAt(diskPath).isDirectory()) {
    const displayedPath = displayName(diskPath);
    throw new LayerError(
      'CHANGED_WHILE_READING',
      `reading ${displayedPath}: folder changed while it was listed: it is no longer a folder`,
      { path: displayedPath },
    );
  }
  return children.sort((a, b) => Buffer.compare(a.name, b.name));
}

function lstatAt(diskPath: EntryName): Stats {
  try {
    return lstatSync(diskPath);
  } catch (error) {
    throw readError(displayName(diskPath), error);
  }
}

function fileType(stats: Stats): string {
  if (stats.isSocket()) return 'socket';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return `mode ${stats.mode.toString(8)}`;
}
