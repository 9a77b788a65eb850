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
 * A symlink at `path` is followed, so the file it points to is replaced. A device or FIFO at
 * `path`, such as `/dev/null`, is written in place, since renaming over it would replace it.
 * A folder at `path` is an error before anything is written.
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
  const output = await openForWriting(path, temporaryPath, 'wx', true);

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

/** Finds the file that writing `path` replaces, following symlinks, and whether it is special. */
async function resolveDestination(path: string): Promise<{ path: string; special: boolean }> {
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
    return { path: await realpath(path), special: false };
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
  const output = await openForWriting(path, path, 'w', false);
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
 * Opens `file` for `write`. A regular file gets a `FileOutput`. A device or FIFO gets a stream
 * that writes on the thread pool, because a synchronous write to a FIFO waits for its reader.
 */
async function openForWriting(
  target: string,
  file: string,
  flags: string,
  regular: boolean,
): Promise<Writable> {
  try {
    const handle = await open(file, flags, 0o644);
    return regular
      ? new FileOutput(handle.fd, { close: () => handle.close() })
      : handle.createWriteStream();
  } catch (error) {
    throw asWriteError(target, error);
  }
}
