import { randomBytes } from 'node:crypto';
import { lstat, open, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ImageError } from './errors.js';
import { FileOutput } from './file-output.js';
import { asWriteError } from './write-error.js';

/**
 * Writes a file through `write` under a temporary name in the target's folder and renames it to
 * `path` once complete, so that `path` never contains a partial file. On failure the temporary file
 * is removed and the target is left as it was.
 *
 * A symlink at `path` is followed, so the file it points to is replaced. The new file gets the
 * read, write and execute bits of the file it replaces, but the owner and group of the process
 * that writes it, no ACLs, and none of the old file's hard links. A device or FIFO at `path`,
 * such as `/dev/null`, is written in place, since renaming over it would replace it. A folder at
 * `path` is an error before anything is written.
 */
export async function writeFileAtomically<T>(
  path: string,
  write: (output: Writable) => Promise<T>,
): Promise<T> {
  const destination = await resolveDestination(path);
  if (destination.special) {
    return writeInPlace(path, write);
  }

  // A short name of its own, so that a target name close to the 255-byte limit still works.
  const temporaryPath = join(
    dirname(destination.path),
    `.storepack-${randomBytes(6).toString('hex')}.partial`,
  );
  const output = await openTemporaryFile(path, temporaryPath, destination.mode);

  try {
    const result = await write(output);
    output.end();
    await finished(output);
    await rename(temporaryPath, destination.path);
    return result;
  } catch (error) {
    output.destroy();
    await rm(temporaryPath, { force: true });
    throw asWriteError(path, error);
  }
}

/** The file that writing a path replaces or creates. */
interface Destination {
  path: string;
  /** A device or FIFO, written in place. */
  special: boolean;
  /** The permission bits of the regular file it replaces. */
  mode?: number;
}

/** Finds the file that writing `path` replaces, following symlinks, and whether it is special. */
async function resolveDestination(path: string): Promise<Destination> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      return undefined;
    }
    throw asWriteError(path, error);
  });

  if (stats === undefined) {
    return { path: await danglingLinkTarget(path), special: false };
  }
  if (stats.isDirectory()) {
    throw new ImageError('WRITE', `writing ${path}: is a directory: give a file name`, { path });
  }
  if (stats.isFile()) {
    return { path: await realpath(path), special: false, mode: stats.mode & 0o777 };
  }
  return { path, special: true };
}

/** Returns the path a chain of symlinks at `path` ends in, or `path` itself when it is no symlink. */
async function danglingLinkTarget(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops += 1) {
    const stats = await lstat(current).catch(() => undefined);
    if (stats === undefined || !stats.isSymbolicLink()) {
      return current;
    }
    const target = await readlink(current);
    current = isAbsolute(target) ? target : resolve(dirname(current), target);
  }
  throw new ImageError('WRITE', `writing ${path}: too many levels of symbolic links`, { path });
}

async function writeInPlace<T>(path: string, write: (output: Writable) => Promise<T>): Promise<T> {
  const output = await openInPlace(path);
  try {
    const result = await write(output);
    output.end();
    await finished(output);
    return result;
  } catch (error) {
    output.destroy();
    throw asWriteError(path, error);
  }
}

/**
 * Creates the temporary file `file` beside `target` for a `FileOutput`. With `mode`, the permission
 * bits of the file it replaces, the file is created with no bits that `mode` lacks and then given
 * exactly `mode`. A folder where no file can be created raises an error that names the folder,
 * because `target` itself may be writable.
 */
async function openTemporaryFile(
  target: string,
  file: string,
  mode: number | undefined,
): Promise<Writable> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', mode ?? 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      const folder = dirname(file);
      throw new ImageError(
        'WRITE',
        `writing ${target}: permission denied in ${folder === '.' ? 'the current folder' : `the folder ${folder}`}: the image is written there under a temporary name and then renamed, so the folder must be writable`,
        { path: target, cause: error },
      );
    }
    throw asWriteError(target, error);
  }
  if (mode !== undefined) {
    // Some file systems, such as vfat, can reject chmod. The file then keeps the bits it was
    // created with, `mode` less the umask, which are never more than the old file had.
    await handle.chmod(mode).catch(() => undefined);
  }
  return new FileOutput(handle.fd, { close: () => handle.close() });
}

/**
 * Opens a device or FIFO for writing, as a stream that writes on the thread pool, because a
 * synchronous write to a FIFO waits for its reader.
 */
async function openInPlace(path: string): Promise<Writable> {
  try {
    const handle = await open(path, 'w', 0o644);
    return handle.createWriteStream();
  } catch (error) {
    throw asWriteError(path, error);
  }
}
