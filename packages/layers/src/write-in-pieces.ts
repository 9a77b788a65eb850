import { writeSync } from 'node:fs';
import { PieceSizeChooser } from './piece-size-chooser.js';

/**
 * The smaller size of the write(2) calls that storepack makes to a regular file, and the size the
 * zstd workers write in. On the Linux 6.18 virtual machine storepack was first measured on,
 * writing 1 GiB into new page cache took 0.4 s in 16 KiB writes and 1.2 s to 2.8 s in 1 MiB
 * writes.
 */
export const WRITE_PIECE_SIZE = 16 * 1024;

/**
 * The larger size of the write(2) calls to a regular file. On another virtual machine of the same
 * kind, 1.1 GB took 0.23 s to 0.32 s in 128 KiB writes and 0.41 s to 0.46 s in 16 KiB writes, in
 * one set of five runs each. A build to a file there was 15 % faster in 128 KiB writes.
 */
const LARGE_PIECE_SIZE = 128 * 1024;

// NOTE: the chooser has run only on a machine where 128 KiB writes were the faster. That it keeps
// 16 KiB where those are the faster is shown by its tests with simulated times, not on a machine.
const chooser = new PieceSizeChooser([WRITE_PIECE_SIZE, LARGE_PIECE_SIZE]);

/**
 * Writes all of `bytes` to the file descriptor `fd` at its current offset, synchronously, in
 * pieces of 16 KiB or 128 KiB, whichever has taken less time per byte in this process (see
 * `PieceSizeChooser`). Writes under 128 KiB are not timed. A short write continues where it
 * stopped, as write(2) allows. For regular files only, because a write to a pipe or terminal
 * blocks the thread until it is read.
 */
export function writeInPieces(fd: number, bytes: Uint8Array): void {
  const size = chooser.next();
  // Only writes that both sizes split are timed, so that the two are compared on like writes.
  const timed = bytes.byteLength >= LARGE_PIECE_SIZE;
  const start = timed ? process.hrtime.bigint() : 0n;
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += writeSync(fd, bytes, offset, Math.min(size, bytes.byteLength - offset));
  }
  if (timed) {
    chooser.record(size, bytes.byteLength, process.hrtime.bigint() - start);
  }
}
