import type { BigIntStats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
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
 */
export async function walkItem(diskPath: string, name: string, state: WalkState): Promise<void> {
  const stats = await lstat(diskPath, { bigint: true }).catch((error: unknown) => {
    throw readError(diskPath, error);
  });
  await addPath(diskPath, name, stats, state);
}

async function addPath(
  diskPath: EntryName,
  name: EntryName,
  stats: BigIntStats,
  state: WalkState,
): Promise<void> {
  if (stats.isDirectory()) {
    state.entries.push({ type: 'directory', name: joinName(name, ''), mode: DIRECTORY_MODE });
    for (const child of await readChildren(diskPath)) {
      await addPath(child.diskPath, joinName(name, child.name), child.stats, state);
    }
    return;
  }

  if (stats.isSymbolicLink()) {
    let target: Buffer;
    try {
      target = readlinkSync(diskPath, { encoding: 'buffer' });
    } catch (error) {
      throw readError(displayName(diskPath), error);
    }
    state.entries.push({ type: 'symlink', name, target: decodeName(target) });
    return;
  }

  if (!stats.isFile()) {
    const displayedPath = displayName(diskPath);
    throw new LayerError(
      'UNSUPPORTED_FILE_TYPE',
      `reading ${displayedPath}: unsupported file type ${fileType(stats)}: a store item holds only regular files, folders and symlinks`,
      { path: displayedPath },
    );
  }

  // Every path of a hard-linked file is written with its full content, as a NAR serialises it,
  // so a store that `nix-store --optimise` or Guix deduplicated gives the same bytes as one that
  // is not.
  const mode = storeFileMode(Number(stats.mode));
  if (stats.size > BigInt(Number.MAX_SAFE_INTEGER)) {
    const displayedPath = displayName(diskPath);
    throw new LayerError(
      'FILE_TOO_LARGE',
      `reading ${displayedPath}: file of ${stats.size} bytes is too large: layers take files up to ${Number.MAX_SAFE_INTEGER} bytes`,
      { path: displayedPath },
    );
  }
  state.entries.push({ type: 'file', name, mode, size: Number(stats.size), diskPath });
}

/**
 * Lists a folder's children sorted by the bytes of their names, with their lstat results. The
 * calls here and for symlinks are synchronous, because with thousands of small calls a thread pool
 * round trip each costs more than the calls themselves.
 */
async function readChildren(diskPath: EntryName) {
  let rawNames: Buffer[];
  try {
    rawNames = readdirSync(diskPath, { encoding: 'buffer' });
  } catch (error) {
    throw readError(displayName(diskPath), error);
  }
  rawNames.sort(Buffer.compare);

  return rawNames.map((raw) => {
    const name = decodeName(raw);
    const childPath = joinName(diskPath, name);
    try {
      return { name, diskPath: childPath, stats: lstatSync(childPath, { bigint: true }) };
    } catch (error) {
      throw readError(displayName(childPath), error);
    }
  });
}

function fileType(stats: BigIntStats): string {
  if (stats.isSocket()) return 'socket';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return `mode ${stats.mode.toString(8)}`;
}
