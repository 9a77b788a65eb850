import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { LayerError, readError } from './errors.js';

/** Bytes read from a file at a time. */
const CHUNK_SIZE = 1024 * 1024;

/** A regular file as `prepareLayer` recorded it. */
export interface RecordedFile {
  diskPath: string;
  size: number;
}

/**
 * Opens a recorded file for reading, without following symlinks, and checks that it is still a
 * regular file of the recorded size. Throws READ when it cannot be opened, CHANGED_WHILE_READING
 * when it differs from the record.
 */
export async function openRecordedFile(file: RecordedFile): Promise<FileHandle> {
  // O_NONBLOCK keeps open() from waiting for a writer if a FIFO took the file's place.
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(file.diskPath, flags).catch((error: unknown) => {
    throw readError(file.diskPath, error);
  });
  try {
    await checkStats(handle, file);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * Reads an opened file once, passing its bytes to `write` in order, then checks that end-of-file
 * comes exactly at the recorded size and that fstat still gives that size. The last chunk is held
 * back until the checks pass, so a file that changed never yields a complete entry. Throws READ when
 * a read fails, CHANGED_WHILE_READING when the file differs from the record.
 */
export async function copyRecordedFile(
  handle: FileHandle,
  file: RecordedFile,
  write: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  let position = 0;
  let lastChunk: Buffer | undefined;
  while (position < file.size) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, file.size - position));
    const { bytesRead } = await handle
      .read(buffer, 0, buffer.length, position)
      .catch((error: unknown) => {
        throw readError(file.diskPath, error);
      });
    if (bytesRead === 0) {
      throw changedError(file, `end of file after ${position} of the ${file.size} bytes recorded`);
    }
    if (lastChunk !== undefined) {
      await write(lastChunk);
    }
    lastChunk = buffer.subarray(0, bytesRead);
    position += bytesRead;
  }

  const probe = await handle.read(Buffer.alloc(1), 0, 1, position).catch((error: unknown) => {
    throw readError(file.diskPath, error);
  });
  if (probe.bytesRead > 0) {
    throw changedError(file, `more than the ${file.size} bytes recorded`);
  }
  await checkStats(handle, file);

  if (lastChunk !== undefined) {
    await write(lastChunk);
  }
}

async function checkStats(handle: FileHandle, file: RecordedFile): Promise<void> {
  const stats = await handle.stat().catch((error: unknown) => {
    throw readError(file.diskPath, error);
  });
  if (!stats.isFile()) {
    throw changedError(file, 'no longer a regular file');
  }
  if (stats.size !== file.size) {
    throw changedError(file, `${stats.size} bytes, ${file.size} recorded`);
  }
}

function changedError(file: RecordedFile, detail: string): LayerError {
  return new LayerError(
    'CHANGED_WHILE_READING',
    `reading ${file.diskPath}: file changed after the layer was prepared: ${detail}`,
    { path: file.diskPath },
  );
}
