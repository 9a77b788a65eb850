// Helpers for this package's tests; tsconfig.json leaves this file out of the build.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Creates an empty folder under the system's temporary folder, readable by every user. */
export async function makeTempDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'storepack-layers-'));
  await chmod(path, 0o755);
  return path;
}

/** Deletes a folder tree, first making its read-only folders writable so that non-root can too. */
export async function removeTree(path: string): Promise<void> {
  await execFileAsync('chmod', ['-R', 'u+rwx', path]).catch(() => undefined);
  await rm(path, { recursive: true, force: true });
}

/** Writes a file, creating its parent folders, and sets its mode. */
export async function writeFileAt(
  path: string,
  content: string | Buffer,
  mode = 0o644,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

/** Collects every byte of a stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Waits for a stream to fail and returns its error; throws if the stream ends instead. */
export async function streamError(stream: Readable): Promise<unknown> {
  try {
    await readAll(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the layer stream to fail, but it ended');
}

/** Computes the hex SHA-256 of some bytes. */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs GNU tar with UTC times and literal names and returns its standard output. */
export async function runTar(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('tar', args, {
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** One line of `tar -tvf --numeric-owner --full-time`. */
export interface TarListing {
  mode: string;
  owner: string;
  size: number;
  time: string;
  name: string;
  /** Symlink target after ` -> `, or hard link target after ` link to `. */
  target?: string;
}

/** Lists an archive with GNU tar and parses every line. */
export async function listTar(archive: string): Promise<TarListing[]> {
  const output = await runTar([
    '-tvf',
    archive,
    '--numeric-owner',
    '--full-time',
    '--quoting-style=literal',
  ]);
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(\S{10}) (\d+\/\d+) +(\d+) (\S+ \S+) (.*)$/.exec(line);
      if (match === null) {
        throw new Error(`unexpected tar listing line: ${line}`);
      }
      const [, mode = '', owner = '', size = '', time = '', rest = ''] = match;
      const separator = mode.startsWith('l')
        ? ' -> '
        : mode.startsWith('h')
          ? ' link to '
          : undefined;
      const at = separator === undefined ? -1 : rest.indexOf(separator);
      return at === -1
        ? { mode, owner, size: Number(size), time, name: rest }
        : {
            mode,
            owner,
            size: Number(size),
            time,
            name: rest.slice(0, at),
            target: rest.slice(at + (separator as string).length),
          };
    });
}

/** Runs `diff -r --no-dereference`, which compares symlinks by target; returns its output. */
export async function diffTrees(left: string, right: string): Promise<string> {
  try {
    await execFileAsync('diff', ['-r', '--no-dereference', left, right]);
    return '';
  } catch (error) {
    const {
      stdout = '',
      stderr = '',
      message,
    } = error as { stdout?: string; stderr?: string; message: string };
    return `${stdout}${stderr}` || message;
  }
}

/** Runs a program and returns its standard output. */
export async function run(program: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(program, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Lists the files below `folder` that this process has open, from /proc/self/fd. */
export async function openFilesBelow(folder: string): Promise<string[]> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith(`${folder}/`));
}

/**
 * Copies each chunk of a stream whose chunks are only valid until the next one is requested, as
 * that contract requires, and records which memory each chunk was in.
 */
export async function copyChunks(
  chunks: AsyncIterable<Buffer>,
): Promise<{ copies: Buffer[]; memory: Set<ArrayBufferLike> }> {
  const copies: Buffer[] = [];
  const memory = new Set<ArrayBufferLike>();
  for await (const chunk of chunks) {
    copies.push(Buffer.from(chunk));
    memory.add(chunk.buffer);
  }
  return { copies, memory };
}

/**
 * Text-like bytes that compress well, with a pattern that depends on `seed`. A Uint8Array, whose
 * `slice` copies, unlike a Buffer's.
 */
export function textSample(size: number, seed: number): Uint8Array {
  const words = ['store', 'layer', 'closure', 'glibc', 'lib', 'bin', '\n', '/nix/', '\0\0\0'];
  const bytes = new Uint8Array(size);
  let state = seed;
  let offset = 0;
  while (offset < size) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const word = Buffer.from(words[state % words.length] as string);
    bytes.set(word.subarray(0, size - offset), offset);
    offset += word.length;
  }
  return bytes;
}
