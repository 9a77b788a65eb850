import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
});
