// The output disk fills up: storepack builds an image larger than a 2 MiB tmpfs into it, once per
// format. The build must fail with one line on stderr and leave nothing behind, on the tmpfs or in
// the temporary folder. Mounting needs root, as CI runs; elsewhere these tests fail and print why.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

const bin = fileURLToPath(new URL('../bin/storepack.js', import.meta.url));

const item = '/nix/store/5k9dw0b2yhq7m3xv1c8rj6s4nzp2lfa0-filler-1.0';

/** Size of the tmpfs that the image is written to. The item is twice as large, in bytes that do not compress. */
const DISK_SIZE = '2m';

let work: string;
let root: string;
let disk: string;
let mounted = false;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-disk-full-'));
  root = path.join(work, 'root');
  disk = path.join(work, 'disk');
  await mkdir(disk);

  // Four files of 1 MiB each, so every format needs about 4 MiB on the 2 MiB disk.
  await mkdir(path.join(root, item, 'share'), { recursive: true });
  for (const index of [1, 2, 3, 4]) {
    await writeFile(path.join(root, item, 'share', `part-${index}`), randomBytes(1024 * 1024));
  }

  if (process.getuid?.() !== 0) {
    throw new Error(
      `mounting a ${DISK_SIZE} tmpfs at ${disk} needs root: run the disk-full tests as root, as CI does`,
    );
  }
  try {
    await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${DISK_SIZE}`, 'tmpfs', disk]);
  } catch (error) {
    throw new Error(
      `mounting a ${DISK_SIZE} tmpfs at ${disk} failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  mounted = true;
});

afterAll(async () => {
  if (mounted) {
    await runCommand('umount', [disk]);
  }
  await rm(work, { recursive: true, force: true });
});

/** Arguments of `storepack build` for the filler item, read from `root`, followed by `flags`. */
function buildArgs(flags: string[]): string[] {
  return ['build', '--root', root, '--closure-from', 'scan', item, ...flags];
}

describe('storepack build on a full disk', () => {
  it.each([
    ['docker-archive', []],
    ['oci', []],
    ['oci-archive', []],
    // Blobs copied from the layer cache, through read buffers reused once the output wrote them.
    ['docker-archive', ['--compress', 'gzip', '--cache']],
  ])('fails cleanly for %s %j', async (format, flags) => {
    const output = path.join(disk, 'image.tar');
    // A private temporary folder, so that whatever the build leaves there is its own.
    const temporary = await mkdtemp(path.join(work, `tmp-${format}-`));
    const cacheFlags = flags.length > 0 ? [...flags, path.join(temporary, 'cache')] : [];
    try {
      const run = await runStorepack(buildArgs(['--format', format, ...cacheFlags, '-o', output]), {
        env: { TMPDIR: temporary },
      });

      expect(run.status, `stderr: ${run.stderr}`).toBe(1);
      expect(run.stdout.toString()).toBe('');
      expect(run.stderr).toBe(`storepack: writing ${output}: no space left on device\n`);
      expect(await readdir(disk), `left on the full disk after ${format}`).toEqual([]);
      // oci-archive writes its layout in a storepack-oci-archive-* folder there before the tar.
      const leftInTemporary = (await readdir(temporary)).filter((name) => name !== 'cache');
      expect(leftInTemporary, `left in TMPDIR after ${format}`).toEqual([]);
    } finally {
      await runCommand('find', [disk, '-mindepth', '1', '-delete']);
    }
  });

  it('names standard output on a full disk', async () => {
    const output = path.join(disk, 'image.tar');
    try {
      const { stdout } = await runCommand('bash', [
        '-c',
        `node "$1" build --root "$2" --closure-from scan "$3" -o - 2>&1 >"$4"; echo "status $?"`,
        'bash',
        bin,
        root,
        item,
        output,
      ]);
      expect(stdout).toBe(
        'storepack: writing standard output: no space left on device\nstatus 1\n',
      );
    } finally {
      await runCommand('find', [disk, '-mindepth', '1', '-delete']);
    }
  });

  it('builds the same image on a disk with room', async () => {
    // The failures above come from the full disk, not from the store or the flags.
    const output = path.join(work, 'roomy.tar');
    const run = await runStorepack(buildArgs(['--format', 'oci-archive', '-o', output]));

    expect(run.status, `stderr: ${run.stderr}`).toBe(0);
    expect((await stat(output)).size).toBeGreaterThan(4 * 1024 * 1024);
  });
});
