import {
  chmod,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
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
import type { LayerSource } from './layer-source.js';
import { prepareLayer } from './prepare-layer.js';

const TREE = '/nix/store/1b2s7ka4hgqn0lwyqrwxzjyj0wq9ysfg-tree-1.0';
const SINGLE = '/nix/store/2c3d8kb5jhrp1mxzr9sy0kzk1xr0zvgh-single.txt';
const ITEM_LINK = '/nix/store/3d4f9lc6kisq2nyz0at01l0l2ys1awhi-link';
const LONG_DIR = 'd'.repeat(60);
const LONG_FILE = `${'f'.repeat(80)}.txt`;
const LONG_TARGET = `${'../'.repeat(30)}nix/store/0000000000000000000000000000000-gone/${'t'.repeat(40)}`;

/** File modes of one way of writing the fixture; a second way uses other modes and mtimes. */
interface Modes {
  file: number;
  executable: number;
  ownerExecutable: number;
  folder: number;
  readOnlyFolder: number;
}

const PLAIN_MODES: Modes = {
  file: 0o644,
  executable: 0o755,
  ownerExecutable: 0o744,
  folder: 0o755,
  readOnlyFolder: 0o555,
};
const UMASK_077_MODES: Modes = {
  file: 0o600,
  executable: 0o700,
  ownerExecutable: 0o500,
  folder: 0o700,
  readOnlyFolder: 0o500,
};

/**
 * Writes a store under `root` with every shape a layer must carry. The tree item has nested, empty
 * and read-only folders, empty files, executables, and relative, absolute, dangling and long
 * symlinks. It also has a path past 150 bytes, non-ASCII names, spaces and a hard link pair. The
 * other two items are a single file and a symlink.
 */
async function writeShapesStore(root: string, modes: Modes, mtime: number): Promise<void> {
  const tree = join(root, TREE);
  await writeFileAt(join(tree, 'bin/hello'), '#!/bin/sh\necho hello\n', modes.executable);
  await writeFileAt(join(tree, 'bin/owner-only'), '#!/bin/sh\n', modes.ownerExecutable);
  await symlink('hello', join(tree, 'bin/hi'));
  await symlink(
    '/nix/store/4f5g0md7ljtr3p0a1bu12m1m3zt2bxij-bash-5.2/bin/sh',
    join(tree, 'bin/sh'),
  );
  await writeFileAt(join(tree, 'lib/empty'), '', modes.file);
  await mkdir(join(tree, 'lib/empty-folder/nested-empty'), { recursive: true });
  await writeFileAt(join(tree, 'lib/read-only/data.txt'), 'read-only folder content\n', modes.file);
  await writeFileAt(join(tree, 'lib/sizes/511'), Buffer.alloc(511, 1), modes.file);
  await writeFileAt(join(tree, 'lib/sizes/512'), Buffer.alloc(512, 2), modes.file);
  await writeFileAt(join(tree, 'lib/sizes/513'), Buffer.alloc(513, 3), modes.file);
  await writeFileAt(
    join(tree, 'lib/sizes/one-mebibyte-and-one'),
    patternBytes(1024 * 1024 + 1),
    modes.file,
  );
  await mkdir(join(tree, 'share'));
  await symlink(LONG_TARGET, join(tree, 'share/long-target'));
  await symlink('ünïcödé/naïve file.txt', join(tree, 'share/non-ascii-target'));
  await writeFileAt(join(tree, 'share', LONG_DIR, LONG_DIR, LONG_FILE), 'deep\n', modes.file);
  await writeFileAt(join(tree, 'share', `${'n'.repeat(101)}`), 'name of 101 bytes\n', modes.file);
  await writeFileAt(
    join(tree, 'share', `${'p'.repeat(120)}`, 'in-a-long-folder'),
    'x\n',
    modes.file,
  );
  await writeFileAt(join(tree, 'share/ünïcödé/naïve file.txt'), 'non-ASCII\n', modes.file);
  await writeFileAt(join(tree, 'share/ünïcödé/ｚ-fullwidth'), 'U+FF5A\n', modes.file);
  await writeFileAt(join(tree, 'share/ünïcödé/🦊-fox'), 'U+1F98A\n', modes.file);
  await writeFileAt(join(tree, 'share/with spaces/a b  c'), 'spaces\n', modes.file);
  await writeFileAt(join(tree, 'share/hard-links/first'), 'stored once\n', modes.file);
  await link(join(tree, 'share/hard-links/first'), join(tree, 'share/hard-links/second'));
  await utimes(join(tree, 'bin/hello'), mtime, mtime);
  await chmodFolders(tree, modes);

  await writeFileAt(join(root, SINGLE), 'a store item that is a file\n', modes.file);
  await symlink(`${TREE}/bin`, join(root, ITEM_LINK));
}

async function chmodFolders(tree: string, modes: Modes): Promise<void> {
  for (const folder of [
    'bin',
    'lib',
    'lib/empty-folder',
    'lib/empty-folder/nested-empty',
    'share',
    '',
  ]) {
    await chmod(join(tree, folder), modes.folder);
  }
  await chmod(join(tree, 'lib/read-only'), modes.readOnlyFolder);
}

function patternBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) {
    bytes[index] = (index * 7 + (index >> 9)) & 0xff;
  }
  return bytes;
}

function shapesSource(root: string): LayerSource {
  return {
    storeDir: '/nix/store',
    storePaths: [TREE, SINGLE, ITEM_LINK],
    root,
    symlinks: [
      { path: '/bin', target: `${TREE}/bin` },
      { path: '/usr/bin/env', target: `${TREE}/bin/hello` },
    ],
  };
}

describe('prepareLayer', () => {
  let work: string;

  beforeEach(async () => {
    work = await makeTempDir();
  });

  afterEach(async () => {
    await removeTree(work);
  });

  it('streams exactly the prepared size', async () => {
    const root = join(work, 'root');
    await writeShapesStore(root, PLAIN_MODES, 1_700_000_000);

    const layer = await prepareLayer(shapesSource(root));
    const bytes = await readAll(layer.createStream());

    expect(bytes.length).toBe(layer.size);
    expect(layer.diffId()).toBe(`sha256:${sha256Hex(bytes)}`);
    expect(layer.storePaths).toEqual([TREE, SINGLE, ITEM_LINK]);
  });

  it('lists modes, owners and mtime with GNU tar', async () => {
    const root = join(work, 'root');
    await writeShapesStore(root, PLAIN_MODES, 1_700_000_000);
    const layer = await prepareLayer({ ...shapesSource(root), mtime: 1 });
    const archive = join(work, 'layer.tar');
    await writeFile(archive, await readAll(layer.createStream()));

    const listing = await listTar(archive);
    const byName = new Map(listing.map((line) => [line.name, line]));
    const tree = TREE.slice(1);

    expect(listing).toHaveLength(layer.entryCount);
    expect(listing.slice(0, 3).map((line) => line.name)).toEqual(['bin', 'nix/', 'nix/store/']);
    for (const line of listing) {
      expect(line.owner, line.name).toBe('0/0');
      expect(line.time, line.name).toBe('1970-01-01 00:00:01');
      expect(line.name, line.name).not.toMatch(/^(\/|\.\/)/);
    }
    expect(byName.get('nix/')?.mode).toBe('dr-xr-xr-x');
    expect(byName.get('nix/store/')?.mode).toBe('dr-xr-xr-x');
    expect(byName.get(`${tree}/`)?.mode).toBe('dr-xr-xr-x');
    expect(byName.get(`${tree}/lib/read-only/`)?.mode).toBe('dr-xr-xr-x');
    expect(byName.get(`${tree}/lib/empty-folder/nested-empty/`)?.mode).toBe('dr-xr-xr-x');
    expect(byName.get(`${tree}/bin/hello`)?.mode).toBe('-r-xr-xr-x');
    expect(byName.get(`${tree}/bin/owner-only`)?.mode).toBe('-r-xr-xr-x');
    expect(byName.get(`${tree}/lib/empty`)).toMatchObject({ mode: '-r--r--r--', size: 0 });
    expect(byName.get(`${tree}/lib/sizes/513`)).toMatchObject({ mode: '-r--r--r--', size: 513 });
    expect(byName.get(`${tree}/bin/hi`)).toMatchObject({ mode: 'lrwxrwxrwx', target: 'hello' });
    expect(byName.get(`${tree}/share/long-target`)?.target).toBe(LONG_TARGET);
    expect(byName.get(`${tree}/share/non-ascii-target`)?.target).toBe('ünïcödé/naïve file.txt');
    expect(byName.get(`${tree}/share/hard-links/second`)).toMatchObject({
      mode: '-r--r--r--',
      size: 12,
    });
    expect(byName.get(`${tree}/share/${LONG_DIR}/${LONG_DIR}/${LONG_FILE}`)?.size).toBe(5);
    expect(byName.get(`${tree}/share/${'p'.repeat(120)}/`)?.mode).toBe('dr-xr-xr-x');
    expect(byName.get(`${tree}/share/ünïcödé/naïve file.txt`)?.size).toBe(10);
    expect(byName.get(SINGLE.slice(1))).toMatchObject({ mode: '-r--r--r--', size: 28 });
    expect(byName.get(ITEM_LINK.slice(1))).toMatchObject({
      mode: 'lrwxrwxrwx',
      target: `${TREE}/bin`,
    });
    expect(byName.get('bin')).toMatchObject({ mode: 'lrwxrwxrwx', target: `${TREE}/bin` });
    expect(byName.get('usr/')?.mode).toBe('drwxr-xr-x');
    expect(byName.get('usr/bin/env')?.target).toBe(`${TREE}/bin/hello`);
  });

  it('orders entries as GNU tar --sort=name does', async () => {
    const root = join(work, 'root');
    await writeShapesStore(root, PLAIN_MODES, 1);
    const layer = await prepareLayer({
      storeDir: '/nix/store',
      storePaths: [ITEM_LINK, SINGLE, TREE],
      root,
    });
    const archive = join(work, 'layer.tar');
    await writeFile(archive, await readAll(layer.createStream()));

    const gnuArchive = join(work, 'gnu.tar');
    await runTar(['-cf', gnuArchive, '--sort=name', '-C', root, 'nix']);

    const ours = (await listTar(archive)).map((line) => line.name);
    const gnu = (await listTar(gnuArchive)).map((line) => line.name);
    expect(ours).toEqual(gnu);
    expect(ours.indexOf(`${TREE.slice(1)}/share/ünïcödé/ｚ-fullwidth`)).toBeLessThan(
      ours.indexOf(`${TREE.slice(1)}/share/ünïcödé/🦊-fox`),
    );
  });

  it('extracts with GNU tar to the same tree', async () => {
    const root = join(work, 'root');
    await writeShapesStore(root, PLAIN_MODES, 1_700_000_000);
    const layer = await prepareLayer(shapesSource(root));
    const archive = join(work, 'layer.tar');
    const out = join(work, 'out');
    await writeFile(archive, await readAll(layer.createStream()));
    await mkdir(out);

    await runTar(['-xf', archive, '-C', out]);

    for (const item of [TREE, SINGLE, ITEM_LINK]) {
      expect(await diffTrees(join(root, item), join(out, item))).toBe('');
    }
    expect(await readFile(join(out, TREE, 'share/hard-links/second'), 'utf8')).toBe(
      'stored once\n',
    );
    expect(await readlink(join(out, 'bin'))).toBe(`${TREE}/bin`);
    expect(await readlink(join(out, 'usr/bin/env'))).toBe(`${TREE}/bin/hello`);
    expect(await readlink(join(out, TREE, 'share/long-target'))).toBe(LONG_TARGET);
    expect(await readFile(join(out, TREE, 'share', LONG_DIR, LONG_DIR, LONG_FILE), 'utf8')).toBe(
      'deep\n',
    );
    expect((await lstat(join(out, TREE, 'bin/hello'))).mode & 0o7777).toBe(0o555);
    expect((await lstat(join(out, TREE, 'lib/empty'))).mode & 0o7777).toBe(0o444);
    expect((await lstat(join(out, TREE, 'lib/read-only'))).mode & 0o7777).toBe(0o555);
    expect((await lstat(join(out, TREE, 'bin/hello'))).mtimeMs).toBe(1000);
  });

  it('gives identical bytes on a second run', async () => {
    const root = join(work, 'root');
    await writeShapesStore(root, PLAIN_MODES, 1_700_000_000);

    const first = await readAll((await prepareLayer(shapesSource(root))).createStream());
    const second = await readAll((await prepareLayer(shapesSource(root))).createStream());

    expect(second.equals(first)).toBe(true);
  });

  it('ignores source modes and mtimes beyond the execute bit', async () => {
    const plainRoot = join(work, 'plain');
    const strictRoot = join(work, 'strict');
    await writeShapesStore(plainRoot, PLAIN_MODES, 1_700_000_000);
    await writeShapesStore(strictRoot, UMASK_077_MODES, 1_000_000_000);

    const plain = await readAll((await prepareLayer(shapesSource(plainRoot))).createStream());
    const strict = await readAll((await prepareLayer(shapesSource(strictRoot))).createStream());

    expect(sha256Hex(strict)).toBe(sha256Hex(plain));
  });

  it('writes the store folders of a Guix store', async () => {
    const root = join(work, 'root');
    await writeFileAt(
      join(root, 'gnu/store/5g6h1ne8mkus4q1b2cv23n2n4a03cyjk-hello/bin/hello'),
      'x',
      0o755,
    );
    const layer = await prepareLayer({
      storeDir: '/gnu/store/',
      storePaths: ['/gnu/store/5g6h1ne8mkus4q1b2cv23n2n4a03cyjk-hello'],
      root,
      mtime: 1_234_567_890,
    });
    const archive = join(work, 'layer.tar');
    await writeFile(archive, await readAll(layer.createStream()));

    const listing = await listTar(archive);

    expect(listing.map((line) => line.name)).toEqual([
      'gnu/',
      'gnu/store/',
      'gnu/store/5g6h1ne8mkus4q1b2cv23n2n4a03cyjk-hello/',
      'gnu/store/5g6h1ne8mkus4q1b2cv23n2n4a03cyjk-hello/bin/',
      'gnu/store/5g6h1ne8mkus4q1b2cv23n2n4a03cyjk-hello/bin/hello',
    ]);
    expect(listing.every((line) => line.time === '2009-02-13 23:31:30')).toBe(true);
  });

  it('rejects a second createStream', async () => {
    const root = join(work, 'root');
    await writeFileAt(join(root, SINGLE), 'x');
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [SINGLE], root });
    await readAll(layer.createStream());

    expect(() => layer.createStream()).toThrow(
      expect.objectContaining({ code: 'ALREADY_STREAMED' }),
    );
  });

  it('takes a file just below 8 GiB', async () => {
    const root = join(work, 'root');
    await writeFileAt(join(root, SINGLE), '');
    await truncate(join(root, SINGLE), 8 * 1024 ** 3 - 1);

    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [SINGLE], root });

    // Three folder and file headers, the content rounded up to 512 bytes and two end blocks.
    expect(layer.size).toBe(3 * 512 + 8 * 1024 ** 3 + 1024);
  });
});
