// Pins the bytes of a fixed tree's layer: its size, entry count and diff ID were recorded once
// and must never change, whatever writes the tar, since cached layers and published images rely
// on them. The tree contains each header form: short and prefix-split names, PAX names and targets,
// raw-byte names, empty, small and multi-chunk files, and extra symlinks with their folders.
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeTempDir, readAll, removeTree, sha256Hex } from './layer-fixtures.js';
import { prepareLayer } from './prepare-layer.js';

const ITEM = '/nix/store/3c5q7r0m9n2b4v6x8z1a3s5d7f9g1h3j-fixed';
const SECOND = '/nix/store/0a2s4d6f8g1h3j5k7l9z1x3c5v7b9n2m-second.txt';

let root: string;

beforeEach(async () => {
  root = await makeTempDir();
});

afterEach(async () => {
  await removeTree(root);
});

/** Fills `size` bytes with a pattern that depends on `seed`, so every file has its own content. */
function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index++) {
    bytes[index] = (index * 31 + seed * 7 + (index >> 9)) & 0xff;
  }
  return bytes;
}

it('gives the recorded bytes for a fixed tree', async () => {
  const item = join(root, ITEM);
  const deep = join(item, 'share', 'a'.repeat(60), 'b'.repeat(60));
  await mkdir(deep, { recursive: true });
  await mkdir(join(item, 'bin'));
  await writeFile(join(item, 'empty'), '');
  await writeFile(join(item, 'bin', 'tool'), pattern(1000, 1));
  await chmod(join(item, 'bin', 'tool'), 0o755);
  await writeFile(join(item, 'exactly-512'), pattern(512, 2));
  await writeFile(join(deep, 'c'.repeat(30)), pattern(300 * 1024, 3));
  await writeFile(join(item, 'x'.repeat(100)), pattern(10, 4));
  await writeFile(join(item, 'y'.repeat(101)), pattern(11, 5));
  await writeFile(join(item, 'naïve.txt'), pattern(12, 6));
  await writeFile(join(item, 'big'), pattern(2 * 1024 * 1024 + 3, 7));
  await writeFile(Buffer.from(`${item}/raw-\xff\xfe`, 'latin1'), pattern(5, 8));
  await symlink('bin/tool', join(item, 'link'));
  await symlink(`../${'t'.repeat(120)}`, join(item, 'long-link'));
  await symlink(Buffer.from('target-\xff', 'latin1'), Buffer.from(`${item}/raw-link`));
  await mkdir(join(root, '/nix/store'), { recursive: true });
  await writeFile(join(root, SECOND), pattern(700, 9));

  const layer = await prepareLayer({
    storeDir: '/nix/store',
    storePaths: [ITEM, SECOND],
    root,
    symlinks: [
      { path: '/bin', target: `${ITEM}/bin` },
      { path: '/usr/bin/env', target: `${ITEM}/bin/tool` },
    ],
    mtime: 1_700_000_000,
  });
  const tar = await readAll(layer.createStream());

  expect(tar.length).toBe(layer.size);
  expect({ size: layer.size, entryCount: layer.entryCount, diffId: layer.diffId() }).toEqual({
    size: 2427904,
    entryCount: 24,
    diffId: 'sha256:2b335be446e08c92425542f0695f290817f0dcd6478a3c64165f692285f81f07',
  });
  expect(`sha256:${sha256Hex(tar)}`).toBe(layer.diffId());
});
