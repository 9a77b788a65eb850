import { link, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  diffTrees,
  listTar,
  makeTempDir,
  readAll,
  removeTree,
  runTar,
  sha256Hex,
  writeFileAt,
} from './layer-fixtures.js';
import { prepareLayer } from './prepare-layer.js';

const ITEM = '/nix/store/7j8k3qg0pmwv6s3d4ex45q4q6c25fmlz-shapes';

/** Writes the content of the item folder for one shape. */
type WriteShape = (item: string) => Promise<void>;

/** Builds a relative path of `total` bytes from folders of `component` bytes and a file name. */
function deepPath(total: number, component = 50): string {
  const parts: string[] = [];
  let length = 0;
  while (total - length > component + 1) {
    parts.push(String(parts.length).padStart(component, 'd'));
    length += component + 1;
  }
  parts.push('f'.repeat(total - length));
  return parts.join('/');
}

const ITEM_PREFIX = `${ITEM.slice(1)}/`.length;

const shapes: [string, WriteShape][] = [
  ['an empty item folder', async () => undefined],
  ...[0, 1, 511, 512, 513, 1024 * 1024, 1024 * 1024 + 1].map((size): [string, WriteShape] => [
    `a file of ${size} bytes`,
    (item) => writeFileAt(join(item, 'file'), Buffer.alloc(size, size % 251)),
  ]),
  ...[99, 100, 101, 154, 155, 156, 255, 256, 257, 300].map((length): [string, WriteShape] => [
    `a file path of ${length} bytes`,
    (item) => writeFileAt(join(item, deepPath(length - ITEM_PREFIX)), 'x'),
  ]),
  ...[98, 99, 100, 101, 150, 200].map((length): [string, WriteShape] => [
    `a folder name of ${length} bytes`,
    (item) => writeFileAt(join(item, 'g'.repeat(length), 'inside'), 'x'),
  ]),
  ...[99, 100, 101, 255, 1000].map((length): [string, WriteShape] => [
    `a symlink target of ${length} bytes`,
    async (item) => {
      await mkdir(item, { recursive: true });
      await symlink(deepPath(length), join(item, 'link'));
    },
  ]),
  ...[40, 44, 45, 46, 47, 48, 230, 240, 250].map((length): [string, WriteShape] => [
    `a non-ASCII name of ${length} bytes`,
    (item) => writeFileAt(join(item, `é${'a'.repeat(length - 2)}`), 'x'),
  ]),
  ...[440, 450, 460, 470, 480, 490, 500, 1500].map((length): [string, WriteShape] => [
    `a non-ASCII path of ${length} bytes`,
    (item) => writeFileAt(join(item, `ü${deepPath(length - ITEM_PREFIX - 2)}`), 'x'),
  ]),
  [
    'a hard link with a long target',
    async (item) => {
      const first = join(item, deepPath(200 - ITEM_PREFIX));
      await writeFileAt(first, 'linked\n');
      await link(first, join(item, 'second'));
    },
  ],
  [
    'a hard link pair inside one folder',
    async (item) => {
      await writeFileAt(join(item, 'a'), 'linked\n');
      await link(join(item, 'a'), join(item, 'b'));
    },
  ],
  [
    '2000 files in one folder',
    async (item) => {
      await mkdir(item, { recursive: true });
      for (let index = 0; index < 2000; index += 1) {
        await writeFile(join(item, `file-${index}`), String(index));
      }
    },
  ],
];

describe('layer shapes', () => {
  let work: string;

  beforeEach(async () => {
    work = await makeTempDir();
  });

  afterEach(async () => {
    await removeTree(work);
  });

  it.each(shapes)('round trip of %s', async (_name, writeShape) => {
    const root = join(work, 'root');
    const item = join(root, ITEM);
    await mkdir(item, { recursive: true });
    await writeShape(item);
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    const archive = join(work, 'layer.tar');
    const out = join(work, 'out');

    const bytes = await readAll(layer.createStream());
    await writeFile(archive, bytes);
    await mkdir(out);
    await runTar(['-xf', archive, '-C', out]);

    expect(bytes.length).toBe(layer.size);
    expect(layer.diffId()).toBe(`sha256:${sha256Hex(bytes)}`);
    expect(await listTar(archive)).toHaveLength(layer.entryCount);
    expect(await diffTrees(item, join(out, ITEM))).toBe('');
  });

  it('round trip of a layer with no items', async () => {
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [] });
    const archive = join(work, 'layer.tar');

    const bytes = await readAll(layer.createStream());
    await writeFile(archive, bytes);

    expect(bytes.length).toBe(layer.size);
    expect(bytes.length).toBe(2 * 512 + 1024);
    expect((await listTar(archive)).map((line) => line.name)).toEqual(['nix/', 'nix/store/']);
  });

  it('writes each hard link in full', async () => {
    const root = join(work, 'root');
    const item = join(root, ITEM);
    await writeFileAt(join(item, 'a'), Buffer.alloc(4096, 1));
    await link(join(item, 'a'), join(item, 'b'));
    const out = join(work, 'out');
    const archive = join(work, 'layer.tar');

    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    await writeFile(archive, await readAll(layer.createStream()));
    await mkdir(out);
    await runTar(['-xf', archive, '-C', out]);

    // Folders nix/, nix/store/, the item, then files a and b with 4096 bytes each, two end blocks.
    expect(layer.size).toBe(3 * 512 + 2 * (512 + 4096) + 1024);
    expect(await readFile(join(out, ITEM, 'b'))).toEqual(Buffer.alloc(4096, 1));
  });

  it('gives linked and copied stores the same bytes', async () => {
    const other = '/nix/store/8k9l4rh1qnxw7t4f5fy56r5r7d36gnm0-other';
    const linked = join(work, 'linked');
    const copied = join(work, 'copied');
    for (const root of [linked, copied]) {
      await writeFileAt(join(root, ITEM, 'a'), 'same content\n');
      await writeFileAt(join(root, ITEM, 'b'), 'same content\n');
      await mkdir(join(root, other), { recursive: true });
    }
    // As after `nix-store --optimise`: one inode behind three paths in two items.
    await rm(join(linked, ITEM, 'b'));
    await link(join(linked, ITEM, 'a'), join(linked, ITEM, 'b'));
    await link(join(linked, ITEM, 'a'), join(linked, other, 'a'));
    await writeFileAt(join(copied, other, 'a'), 'same content\n');

    const source = { storeDir: '/nix/store', storePaths: [other, ITEM] };
    const fromLinked = await prepareLayer({ ...source, root: linked });
    const fromCopied = await prepareLayer({ ...source, root: copied });
    const linkedBytes = await readAll(fromLinked.createStream());
    const copiedBytes = await readAll(fromCopied.createStream());

    expect(linkedBytes.equals(copiedBytes)).toBe(true);
    expect(fromLinked.diffId()).toBe(fromCopied.diffId());
  });

  it('stores a file linked from outside the layer', async () => {
    const root = join(work, 'root');
    const item = join(root, ITEM);
    await writeFileAt(join(item, 'a'), 'shared with a file outside\n');
    await link(join(item, 'a'), join(work, 'outside'));
    const archive = join(work, 'layer.tar');

    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    await writeFile(archive, await readAll(layer.createStream()));

    const listing = await listTar(archive);
    expect(listing.at(-1)).toMatchObject({
      mode: '-r--r--r--',
      name: `${ITEM.slice(1)}/a`,
      size: 27,
    });
  });
});
