import { closeSync, constants, fstatSync, openSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { displayName } from './entry-name.js';
import { LayerError, readError } from './errors.js';
import type { RecordedFile } from './layer-entry.js';

// The callback API costs less per call than FileHandle.
const readAsync = promisify(read);

/**
 * Reads a recorded file whole into `target` at `offset`, which must have room for one byte more
 * than the recorded size, and checks it. The reads must give exactly the recorded size, and fstat
 * after reading must give a regular file of that size with the recorded device, inode and
 * modification time. Throws READ when the file cannot be opened or read, CHANGED_WHILE_READING
 * when it differs from the record.
 *
 * The calls are synchronous: for a small file a thread pool round trip per call costs more than
 * the call itself, so that thousands of small files stream several times faster this way.
 */
export function readWholeFileInto(file: RecordedFile, target: Buffer, offset: number): void {
  const fd = openRecordedFileSync(file);
  try {
    // One byte more than recorded, so that a file that grew shows in the same read. Reading stops
    // at the recorded size, without a read that returns 0 to show end-of-file: a file that grows
    // after the last read shows in the fstat check below, which compares the sizes.
    const wanted = file.size + 1;
    let length = 0;
    while (length < file.size) {
      const bytesRead = readAtSync(fd, file, target, offset + length, wanted - length, length);
      if (bytesRead === 0) {
        break;
      }
      length += bytesRead;
    }
    if (length < file.size) {
      throw changedError(file, `end of file after ${length} of the ${file.size} bytes recorded`);
    }
    if (length > file.size) {
      throw changedError(file, `more than the ${file.size} bytes recorded`);
    }
    checkStatsSync(fd, file);
  } finally {
    closeSync(fd);
  }
}

/** An open recorded file that passed its first check, ready to be read once. */
export interface OpenedFile {
  /**
   * Reads up to `length` bytes at `position` of the file into `target` at `offset` on the thread
   * pool and returns the count, which is never 0: end-of-file before the recorded size throws.
   */
  readInto(target: Buffer, offset: number, length: number, position: number): Promise<number>;
  /**
   * Checks, once every recorded byte was read, that end-of-file comes there and that fstat still
   * gives the recorded size. Callers hold back the last bytes until this passes, so that a file
   * that changed never yields a complete entry.
   */
  check(): void;
  /** Closes the file descriptor. */
  close(): void;
}

/**
 * Opens a recorded file and checks by fstat that it is still a regular file of the recorded size,
 * so that a file that changed fails before any of its entry goes out. Throws like
 * `readWholeFileInto`. Only the reads of the content run on the thread pool: open, fstat and
 * close are synchronous, as they cost less than a round trip there.
 */
export function openFile(file: RecordedFile): OpenedFile {
  const fd = openRecordedFileSync(file);
  try {
    checkStatsSync(fd, file);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return {
    async readInto(target, offset, length, position) {
      const bytesRead = await readAt(fd, file, target, offset, length, position);
      if (bytesRead === 0) {
        throw changedError(
          file,
          `end of file after ${position} of the ${file.size} bytes recorded`,
        );
      }
      return bytesRead;
    },
    check() {
      if (readAtSync(fd, file, Buffer.alloc(1), 0, 1, file.size) > 0) {
        throw changedError(file, `more than the ${file.size} bytes recorded`);
      }
      checkStatsSync(fd, file);
    },
    close: () => closeSync(fd),
  };
}

/**
 * Opens a file for reading without following a symlink that took its place. O_NONBLOCK keeps
 * open() from waiting for a writer if a FIFO took the file's place.
 */
function openRecordedFileSync(file: RecordedFile): number {
  try {
    return openSync(
      file.diskPath,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw changedError(file, 'no longer a regular file');
    }
    throw readError(displayName(file.diskPath), error);
  }
}

/** Reads like `readAt`, synchronously, with an explicit file position. */
function readAtSync(
  fd: number,
  file: RecordedFile,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): number {
  try {
    return readSync(fd, buffer, offset, length, position);
  } catch (error) {
    if (isNotRegularFileError(error)) {
      throw changedError(file, 'no longer a regular file');
    }
    throw readError(displayName(file.diskPath), error);
  }
}

function checkStatsSync(fd: number, file: RecordedFile): void {
  let stats: ReturnType<typeof fstatSync>;
  try {
    stats = fstatSync(fd);
  } catch (error) {
    throw readError(displayName(file.diskPath), error);
  }
  if (!stats.isFile()) {
    throw changedError(file, 'no longer a regular file');
  }
  if (stats.size !== file.size) {
    throw changedError(file, `${stats.size} bytes, ${file.size} recorded`);
  }
  if (stats.dev !== file.dev || stats.ino !== file.ino) {
    throw changedError(file, 'another file took its place');
  }
  // Writing or truncating a file sets its modification time, even where the size ends up equal.
  if (stats.mtimeMs !== file.mtimeMs) {
    throw changedError(file, 'modified since it was recorded');
  }
}

/**
 * Checks whether a read failed because the descriptor is not a regular file: a folder (EISDIR),
 * or a FIFO or socket, which take no file position (ESPIPE).
 */
function isNotRegularFileError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'ESPIPE';
}

/** Reads into `buffer` at `offset`. The file `position` defaults to `offset`. */
async function readAt(
  fd: number,
  file: RecordedFile,
  buffer: Buffer,
  offset: number,
  length: number,
  position = offset,
): Promise<number> {
  try {
    const { bytesRead } = await readAsync(fd, buffer, offset, length, position);
    return bytesRead;
  } catch (error) {
    if (isNotRegularFileError(error)) {
      throw changedError(file, 'no longer a regular file');
    }
    throw readError(displayName(file.diskPath), error);
  }
}

function changedError(file: RecordedFile, detail: string): LayerError {
  const displayedPath = displayName(file.diskPath);
  return new LayerError(
    'CHANGED_WHILE_READING',
    `reading ${displayedPath}: file changed after the layer was prepared: ${detail}`,
    { path: displayedPath },
  );
}
