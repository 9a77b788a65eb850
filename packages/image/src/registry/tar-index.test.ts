import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegion } from './push-source.js';
import { findRange, indexTar } from './tar-index.js';

let work: string;
const longName = `${'a-folder-name-long-enough/'.repeat(6)}file.json`;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-tar-index-'));
  const tree = path.join(work, 'tree');
  await mkdir(path.join(tree, path.dirname(longName)), { recursive: true });
  await writeFile(path.join(tree, longName), '{"long": true}');
  await writeFile(path.join(tree, 'manifest.json'), '[]');
  await writeFile(path.join(tree, 'empty'), '');
  await writeFile(path.join(tree, 'big.bin'), Buffer.alloc(70_000, 7));
  await symlink('big.bin', path.join(tree, 'link.bin'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('indexTar', () => {
  it.each(['gnu', 'posix', 'ustar'])('finds every member of a %s tar', async (format) => {
    const archive = path.join(work, `${format}.tar`);
    const members = format === 'ustar' ? ['manifest.json', 'empty', 'big.bin', 'link.bin'] : ['.'];
    await runCommand('tar', [
      `--format=${format}`,
      '-cf',
      archive,
      '-C',
      path.join(work, 'tree'),
      ...members,
    ]);
    const index = await indexTar(archive);

    const names = format === 'ustar' ? members : [...members, longName];
    for (const name of names.filter((entry) => entry !== '.')) {
      const range = findRange(index, name);
      expect(range, name).toBeDefined();
      const expected = await readFile(path.join(work, 'tree', name));
      expect(
        await readRegion({ path: archive, ...(range as { offset: number; size: number }) }),
      ).toEqual(expected);
    }
    if (format !== 'ustar') {
      expect(findRange(index, `./${longName}`)).toEqual(findRange(index, longName));
    }
  });

  it('rejects a file that is not a tar', async () => {
    const file = path.join(work, 'not.tar');
    await writeFile(file, Buffer.alloc(1024, 'x'));
    await expect(indexTar(file)).rejects.toThrow(
      /invalid tar header at offset 0: checksum mismatch/,
    );
  });
});
