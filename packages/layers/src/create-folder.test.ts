import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFolder } from './create-folder.js';

const run = promisify(execFile);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-create-folder-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('createFolder', () => {
  it('makes missing parents', async () => {
    const folder = path.join(work, 'a', 'b', 'c');
    await createFolder(folder);
    expect((await stat(folder)).isDirectory()).toBe(true);
  });

  it('accepts an existing folder', async () => {
    await expect(createFolder(work)).resolves.toBeUndefined();
  });

  it('names a file in the way', async () => {
    const file = path.join(work, 'file');
    await writeFile(file, '');
    await expect(createFolder(path.join(file, 'sub'))).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});

// Mounting the read-only tmpfs needs root, as CI runs; elsewhere these tests fail with the reason.
describe('createFolder on a read-only file system', () => {
  let readOnly: string;
  let mounted = false;
  beforeAll(async () => {
    readOnly = path.join(work, 'read-only');
    await mkdir(readOnly);
    if (process.getuid?.() !== 0) {
      throw new Error(
        `mounting a read-only tmpfs at ${readOnly} needs root: run as root, as CI does`,
      );
    }
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', readOnly]);
    mounted = true;
  });
  afterAll(async () => {
    if (mounted) {
      await run('umount', [readOnly]);
    }
  });

  it('names the file system', async () => {
    await expect(createFolder(path.join(readOnly, 'cache', 'blobs'))).rejects.toMatchObject({
      code: 'EROFS',
      path: path.join(readOnly, 'cache'),
    });
  });
});
