import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { LayerError, readError } from './errors.js';
import { DIRECTORY_MODE, type LayerEntry, storeFileMode } from './layer-entry.js';

/** The first size a ustar header cannot hold: 8 GiB, the limit of 11 octal digits. */
export const MAX_FILE_SIZE = 8 * 1024 ** 3;

/** Entries collected so far. */
export interface WalkState {
  entries: LayerEntry[];
}

// ignoreBOM keeps a leading U+FEFF as part of the name instead of dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
  diskPath: string,
  name: string,
  stats: BigIntStats,
  state: WalkState,
): Promise<void> {
  if (stats.isDirectory()) {
    state.entries.push({ type: 'directory', name: `${name}/`, mode: DIRECTORY_MODE });
    for (const child of await readChildren(diskPath)) {
      await addPath(child.diskPath, `${name}/${child.name}`, child.stats, state);
    }
    return;
  }

  if (stats.isSymbolicLink()) {
    const target = await readlink(diskPath, { encoding: 'buffer' }).catch((error: unknown) => {
      throw readError(diskPath, error);
    });
    state.entries.push({
      type: 'symlink',
      name,
      target: decodeName(target, diskPath, 'symlink target'),
    });
    return;
  }

  if (!stats.isFile()) {
    throw new LayerError(
      'UNSUPPORTED_FILE_TYPE',
      `reading ${diskPath}: unsupported file type ${fileType(stats)}: a store item holds only regular files, folders and symlinks`,
      { path: diskPath },
    );
  }

  // Every path of a hard-linked file is written with its full content, as a NAR serialises it,
  // so a store that `nix-store --optimise` or Guix deduplicated gives the same bytes as one that
  // is not.
  const mode = storeFileMode(Number(stats.mode));
  const size = Number(stats.size);
  if (size >= MAX_FILE_SIZE) {
    // NOTE: files of 8 GiB or more are rejected because the ustar size field ends at 8 GiB - 1.
    // A PAX `size` record would carry them, once the size computation and readers are tested with it.
    throw new LayerError(
      'FILE_TOO_LARGE',
      `reading ${diskPath}: file of ${size} bytes is too large: layers take files below 8 GiB (${MAX_FILE_SIZE} bytes)`,
      { path: diskPath },
    );
  }
  state.entries.push({ type: 'file', name, mode, size, diskPath });
}

/** Lists a folder's children sorted by the bytes of their names, with their lstat results. */
async function readChildren(diskPath: string) {
  const rawNames = await readdir(diskPath, { encoding: 'buffer' }).catch((error: unknown) => {
    throw readError(diskPath, error);
  });
  rawNames.sort(Buffer.compare);

  const names = rawNames.map((raw) => decodeName(raw, diskPath, 'name'));
  return Promise.all(
    names.map(async (name) => {
      const childPath = `${diskPath}/${name}`;
      const stats = await lstat(childPath, { bigint: true }).catch((error: unknown) => {
        throw readError(childPath, error);
      });
      return { name, diskPath: childPath, stats };
    }),
  );
}

// NOTE: names and symlink targets that are not UTF-8 are rejected because tar-stream takes them as
// JS strings. A PAX `hdrcharset=BINARY` record would carry the raw bytes.
function decodeName(raw: Buffer, diskPath: string, description: string): string {
  try {
    return utf8.decode(raw);
  } catch (error) {
    throw new LayerError(
      'INVALID_NAME',
      `reading ${diskPath}: ${description} "${escapeBytes(raw)}" is not valid UTF-8`,
      { path: diskPath, cause: error },
    );
  }
}

/** Shows printable ASCII as is and every other byte as `\xNN`. */
function escapeBytes(raw: Buffer): string {
  return Array.from(raw, (byte) =>
    byte >= 0x20 && byte < 0x7f
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, '0')}`,
  ).join('');
}

function fileType(stats: BigIntStats): string {
  if (stats.isSocket()) return 'socket';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return `mode ${stats.mode.toString(8)}`;
}
