import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomically } from './atomic-file.js';
import { ImageError } from './errors.js';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'storepack-atomic-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('writeFileAtomically', () => {
  it('renames the complete file into place', async () => {
    const target = path.join(folder, 'image.tar');
    const result = await writeFileAtomically(target, async (output) => {
      output.write('layer bytes');
      return 'written';
    });

    expect(result).toBe('written');
    expect(await readFile(target, 'utf8')).toBe('layer bytes');
    expect(await readdir(folder)).toEqual(['image.tar']);
  });

  it('keeps the old file when writing fails', async () => {
    const target = path.join(folder, 'image.tar');
    await writeFile(target, 'previous image');

    const writing = writeFileAtomically(target, async (output) => {
      output.write('half of a new image');
      throw new Error('layer stream failed');
    });

    await expect(writing).rejects.toThrow('layer stream failed');
    expect(await readFile(target, 'utf8')).toBe('previous image');
    expect(await readdir(folder)).toEqual(['image.tar']);
  });

  it('names the target when its folder is missing', async () => {
    const target = path.join(folder, 'missing', 'image.tar');
    const error = await writeFileAtomically(target, async () => undefined).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).code).toBe('WRITE');
    expect((error as ImageError).message).toBe(`writing ${target}: no such file or directory`);
  });

  it.each([
    ['600', 0o600],
    ['640', 0o640],
    ['666', 0o666],
    ['755', 0o755],
  ])('keeps mode %s of a replaced file', async (_octal, mode) => {
    const target = path.join(folder, 'image.tar');
    await writeFile(target, 'previous image');
    await chmod(target, mode);
    let modeWhileWriting: number | undefined;

    await writeFileAtomically(target, async (output) => {
      const [temporary] = (await readdir(folder)).filter((name) => name.endsWith('.partial'));
      modeWhileWriting = (await stat(path.join(folder, temporary as string))).mode & 0o777;
      output.write('new image');
    });

    expect(modeWhileWriting).toBe(mode);
    expect((await stat(target)).mode & 0o777).toBe(mode);
    expect(await readFile(target, 'utf8')).toBe('new image');
  });

  it('writes through a symlink to its target', async () => {
    await writeFile(path.join(folder, 'real.tar'), 'old');
    await symlink('real.tar', path.join(folder, 'link.tar'));

    await writeFileAtomically(path.join(folder, 'link.tar'), async (output) => {
      output.write('new');
    });

    expect(await readlink(path.join(folder, 'link.tar'))).toBe('real.tar');
    expect(await readFile(path.join(folder, 'real.tar'), 'utf8')).toBe('new');
  });

  it('creates the target of a dangling symlink', async () => {
    await symlink('created.tar', path.join(folder, 'link.tar'));

    await writeFileAtomically(path.join(folder, 'link.tar'), async (output) => {
      output.write('new');
    });

    expect((await lstat(path.join(folder, 'link.tar'))).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(folder, 'created.tar'), 'utf8')).toBe('new');
  });

  it('writes a device in place', async () => {
    await writeFileAtomically('/dev/null', async (output) => {
      output.write('discarded');
    });

    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('rejects a folder before writing', async () => {
    const target = path.join(folder, 'images');
    await mkdir(target);
    let called = false;

    const writing = writeFileAtomically(target, async () => {
      called = true;
    });

    await expect(writing).rejects.toThrow(`writing ${target}: is a directory`);
    expect(called).toBe(false);
    expect(await readdir(target)).toEqual([]);
  });
});
