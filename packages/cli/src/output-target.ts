import { fstatSync, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { FileOutput, type ImageTarget } from '@storepack/image';
import { UsageError } from './usage-error.js';

/**
 * Paths that name the process's own standard output. Written like any path, they would be opened
 * anew, truncating a file that the shell opened for appending, or replaced by a rename.
 */
const STANDARD_OUTPUT_PATHS = new Set(['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1']);

/** Tells whether `-o output` means standard output: `-` or one of the paths that name it. */
export function isStandardOutput(output: string): boolean {
  return output === '-' || STANDARD_OUTPUT_PATHS.has(output);
}

/**
 * Returns the target that `-o output` names: a path, or standard output. A file or block device on
 * standard output is written with the writes that suit it (Node would write each chunk in one
 * call), from its current offset, so that `>>` appends. A pipe, socket or character device gets
 * Node's stream. A terminal is rejected, and so is what Node cannot write to, such as a folder
 * or a datagram socket, for which Node's stream would drop every byte.
 */
export function outputTarget(output: string): ImageTarget {
  if (!isStandardOutput(output)) {
    return { path: output };
  }
  if (process.stdout.isTTY) {
    throw new UsageError(
      'build: not writing an image archive to a terminal: redirect standard output or use -o FILE',
    );
  }
  const stats = fstatSync(1);
  if (stats.isFile() || stats.isBlockDevice()) {
    return { stream: new FileOutput(1), name: 'standard output' };
  }
  if (stats.isCharacterDevice() || process.stdout instanceof Socket) {
    return { stream: process.stdout };
  }
  throw new UsageError(
    `build: cannot write an image to standard output, which is ${describe(stats)}: redirect it to a file or pipe, or use -o FILE`,
  );
}

function describe(stats: Stats): string {
  if (stats.isDirectory()) {
    return 'a folder';
  }
  if (stats.isSocket()) {
    return 'a socket that carries no byte stream';
  }
  return 'neither a file, a pipe, a stream socket nor a device';
}
