// Reads layers back with umoci: each case builds its layers with the package's API, writes them into
// an OCI image layout, unpacks the image with `umoci unpack --rootless` and compares the rootfs with
// the source tree. GNU tar reads the same shapes back in tar-edge-cases.test.ts and its neighbours.
//
// zstd is left out: umoci 0.4.7 rejects a `tar+zstd` layer with "blob is not correct mediatype",
// so it cannot read such a blob. compress-layer.test.ts reads zstd blobs with zstd and skopeo.
//
// Files whose size changes while read, sockets, FIFOs and device files make no layer, so there is
// no image to unpack. stream-layer.test.ts and walk-item.test.ts cover them.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  statfs,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  Annotations,
  blobPath,
  canonicalJson,
  createDescriptor,
  createImageConfig,
  createOciIndex,
  createOciLayout,
  createOciManifest,
  type Descriptor,
  type Digest,
  hostSystem,
  type LayerCompression,
  layerMediaType,
  MediaTypes,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
  platformFromSystem,
} from '@storepack/image-spec';
import { runCommand } from '@storepack/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildLayers, compressLayer, LayerCache, type LayerSource, prepareLayer } from './index.js';
import { makeTempDir, removeTree, writeFileAt } from './layer-fixtures.js';

const STORE_DIR = '/nix/store';
const ITEM = '/nix/store/1a2b3c4d5f6g7h8i9j0k1l2m3n4p5q6r-umoci-case';
const OTHER = '/nix/store/6r5q4p3n2m1l0k9j8i7h6g5f4d3c2b1a-umoci-other';
const FILE_ITEM = '/nix/store/7s8t9v0w1x2y3z4a5b6c7d8f9g0h1i2j-single-file';
const LINK_ITEM = '/nix/store/8t9v0w1x2y3z4a5b6c7d8f9g0h1i2j3k-single-link';

/** A layer blob in the layout, with the facts a manifest and a config need. */
interface LayerBlob {
  descriptor: Descriptor;
  diffId: Digest;
}

/** One entry of a folder tree, as `describeTree` finds it. */
interface TreeEntry {
  /** Path below the tree's top, each byte outside printable ASCII written as `\xNN`. */
  path: string;
  type: 'directory' | 'file' | 'symlink';
  /** Permission bits, with set-user-ID, set-group-ID and sticky. */
  mode: number;
  /** `size sha256` of a file's content. */
  content?: string;
  /** A symlink's target, escaped as `path` is. */
  target?: string;
  /** `device:inode` of a file, to find hard links. */
  inode?: string;
}

/** Joins a folder path and raw name bytes into a path that Node's fs functions take. */
function rawPath(folder: string | Buffer, ...names: (string | Buffer)[]): Buffer {
  const parts = [Buffer.from(folder)];
  for (const name of names) {
    parts.push(Buffer.from('/'), Buffer.from(name));
  }
  return Buffer.concat(parts);
}

/** Writes name bytes as text, each byte outside printable ASCII, and `\`, as `\xNN`. */
function escapeName(bytes: Buffer): string {
  return Array.from(bytes, (byte) =>
    byte >= 0x20 && byte < 0x7f && byte !== 0x5c
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, '0')}`,
  ).join('');
}

/** Computes `size sha256` of a file, streaming it so that an 8 GiB file never sits in memory. */
async function hashFile(path: Buffer): Promise<string> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return `${size} ${hash.digest('hex')}`;
}

/** Lists every entry below `top`, never following symlinks, parents first and names in byte order. */
async function describeTree(top: string | Buffer): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const visit = async (path: Buffer, relative: string) => {
    const names = (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare);
    for (const name of names) {
      const childPath = rawPath(path, name);
      const childRelative = `${relative}${escapeName(name)}`;
      const stats = await lstat(childPath, { bigint: true });
      const mode = Number(stats.mode & 0o7777n);
      if (stats.isDirectory()) {
        entries.push({ path: `${childRelative}/`, type: 'directory', mode });
        await visit(childPath, `${childRelative}/`);
      } else if (stats.isSymbolicLink()) {
        const target = await readlink(childPath, { encoding: 'buffer' });
        entries.push({ path: childRelative, type: 'symlink', mode, target: escapeName(target) });
      } else if (stats.isFile()) {
        entries.push({
          path: childRelative,
          type: 'file',
          mode,
          content: await hashFile(childPath),
          inode: `${stats.dev}:${stats.ino}`,
        });
      } else {
        throw new Error(
          `describing ${escapeName(childPath)}: unsupported file type, expected a file, folder or symlink`,
        );
      }
    }
  };
  await visit(Buffer.from(top), '');
  return entries;
}

/**
 * Returns the mode that an entry of the source tree has after the layer is unpacked. A layer gives
 * folders 0555 and files 0555 or 0444, as the store does. umoci 0.4.7 with --rootless keeps those
 * modes, read-only folders included. It changes only what is outside the layer: it makes the bundle
 * folder 0700 and the rootfs folder 0755. Symlinks are left out, because Linux ignores their mode.
 */
function unpackedMode(entry: TreeEntry): number | undefined {
  if (entry.type === 'symlink') {
    return undefined;
  }
  if (entry.type === 'directory') {
    return 0o555;
  }
  return (entry.mode & 0o111) === 0 ? 0o444 : 0o555;
}

/** Groups the paths of files that share an inode, for each inode with more than one path. */
function hardLinkGroups(entries: TreeEntry[]): string[][] {
  const byInode = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.inode !== undefined) {
      byInode.set(entry.inode, [...(byInode.get(entry.inode) ?? []), entry.path]);
    }
  }
  return [...byInode.values()].filter((paths) => paths.length > 1);
}

/**
 * Checks that an unpacked tree has the source tree's names, file bytes, symlink targets and the
 * modes of `unpackedMode`. Every hard link of the source comes back as separate files with the
 * same bytes, because a layer writes each path of a hard-linked file in full, as a NAR does.
 */
async function expectSameTree(source: string | Buffer, unpacked: string | Buffer): Promise<void> {
  const expected = await describeTree(source);
  const actual = await describeTree(unpacked);
  const pick = (entries: TreeEntry[], field: 'content' | 'target') =>
    entries.flatMap((entry) =>
      entry[field] === undefined ? [] : [`${entry.path} ${entry[field]}`],
    );

  expect(
    actual.map((entry) => `${entry.type} ${entry.path}`),
    'names and types',
  ).toEqual(expected.map((entry) => `${entry.type} ${entry.path}`));
  expect(pick(actual, 'content'), 'file sizes and hashes').toEqual(pick(expected, 'content'));
  expect(pick(actual, 'target'), 'symlink targets').toEqual(pick(expected, 'target'));
  expect(
    actual.map(
      (entry) => `${entry.path} ${entry.type === 'symlink' ? '-' : entry.mode.toString(8)}`,
    ),
    'modes',
  ).toEqual(expected.map((entry) => `${entry.path} ${unpackedMode(entry)?.toString(8) ?? '-'}`));
  expect(hardLinkGroups(actual), 'hard links').toEqual([]);
}

/** Writes a blob to a temporary file in the layout, then moves it to its digest's path. */
async function writeBlob(
  layout: string,
  stream: NodeJS.ReadableStream,
  digestAfter: () => Digest,
): Promise<Digest> {
  const incoming = join(layout, 'incoming.tmp');
  await pipeline(stream, createWriteStream(incoming));
  const digest = digestAfter();
  await rename(incoming, join(layout, blobPath(digest)));
  return digest;
}

/** Prepares and compresses one layer of `source` and writes its blob into the layout. */
async function addLayer(
  layout: string,
  source: LayerSource,
  compression: LayerCompression,
): Promise<LayerBlob> {
  const layer = await prepareLayer(source);
  const compressed = compressLayer(layer, compression);
  const digest = await writeBlob(layout, compressed.createStream(), () => compressed.digest());
  return {
    descriptor: { mediaType: layerMediaType(compression, 'oci'), digest, size: compressed.size() },
    diffId: layer.diffId(),
  };
}

/**
 * Writes the images of an OCI layout, each a config and a manifest over already written layer
 * blobs, then `index.json` with one entry per tag and the `oci-layout` file.
 */
async function writeImages(
  layout: string,
  images: { tag: string; layers: LayerBlob[] }[],
): Promise<void> {
  const manifests: Descriptor[] = [];
  for (const { tag, layers } of images) {
    const config = createImageConfig({
      platform: platformFromSystem(hostSystem()),
      created: new Date(1000),
      diffIds: layers.map((layer) => layer.diffId),
    });
    const configBytes = canonicalJson(config);
    const configDescriptor = createDescriptor(MediaTypes.ociConfig, configBytes);
    await writeFile(join(layout, blobPath(configDescriptor.digest)), configBytes);

    const manifest = createOciManifest({
      config: configDescriptor,
      layers: layers.map((layer) => layer.descriptor),
    });
    const manifestBytes = canonicalJson(manifest);
    const manifestDescriptor = createDescriptor(MediaTypes.ociManifest, manifestBytes, {
      annotations: { [Annotations.refName]: tag },
    });
    await writeFile(join(layout, blobPath(manifestDescriptor.digest)), manifestBytes);
    manifests.push(manifestDescriptor);
  }
  await writeFile(join(layout, OCI_INDEX_FILE), canonicalJson(createOciIndex(manifests)));
  await writeFile(join(layout, OCI_LAYOUT_FILE), canonicalJson(createOciLayout()));
}

/** Unpacks a tagged image of the layout with umoci as a rootless user would, and returns its rootfs. */
async function unpack(layout: string, tag: string, bundle: string): Promise<string> {
  await runCommand('umoci', ['unpack', '--rootless', '--image', `${layout}:${tag}`, bundle], {
    timeoutMs: 30 * 60_000,
  });
  return join(bundle, 'rootfs');
}

/** A store tree to build a layer from, unpack and compare. */
interface TreeCase {
  name: string;
  storePaths: string[];
  /** Creates the store paths below `root`. */
  build(root: string): Promise<void>;
  /** Files in the source that share an inode, each group's paths below the store folder. */
  sourceHardLinks?: string[][];
}

const TREE_CASES: TreeCase[] = [
  {
    name: 'long names and targets',
    storePaths: [ITEM],
    async build(root) {
      const item = join(root, ITEM);
      // A ustar header has 100 bytes for the name and 100 for the link target, so longer ones go
      // in PAX records.
      await writeFileAt(join(item, 'n'.repeat(99)), 'ninety-nine\n');
      await writeFileAt(join(item, 'n'.repeat(100)), 'one hundred\n');
      await writeFileAt(join(item, 'n'.repeat(101)), 'one hundred and one\n');
      await writeFileAt(join(item, 'l'.repeat(255)), 'longest name Linux allows\n');
      await writeFileAt(join(item, `${'deep/'.repeat(40)}file`), 'deep\n');
      await writeFileAt(join(item, 'd'.repeat(180), 'inner'), 'inside a long folder\n');
      await symlink(`../${'t'.repeat(97)}`, join(item, 'target-100'));
      await symlink(`../${'t'.repeat(98)}`, join(item, 'target-101'));
      await symlink(`${OTHER}/share/${'x'.repeat(200)}`, join(item, 'absolute-target'));
      await symlink(`${'deep/'.repeat(40)}file`, join(item, 's'.repeat(150)));
    },
  },
  {
    name: 'names that are not UTF-8',
    storePaths: [ITEM],
    async build(root) {
      const item = join(root, ITEM);
      const latin1 = Buffer.from('caf\xe9', 'latin1');
      const broken = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]);
      const longBroken = Buffer.concat([Buffer.alloc(150, 0x61), Buffer.from([0xc3, 0x28])]);
      await mkdir(rawPath(item, latin1), { recursive: true });
      await writeFile(rawPath(item, latin1, broken), 'inside\n');
      await writeFile(rawPath(item, longBroken), 'long\n');
      await writeFile(rawPath(item, 'naïve 日本'), 'valid UTF-8\n');
      await writeFile(rawPath(item, Buffer.from('back\\slash')), 'escaped\n');
      await symlink(rawPath('..', latin1, broken), rawPath(item, 'to-latin1'));
      await symlink(rawPath('x', Buffer.from([0x80, 0x81])), rawPath(item, Buffer.from([0xc0])));
    },
  },
  {
    name: 'empty files and folders',
    storePaths: [ITEM, OTHER, FILE_ITEM, LINK_ITEM],
    async build(root) {
      const item = join(root, ITEM);
      await writeFileAt(join(item, 'empty'), '');
      await writeFileAt(join(item, 'bin/empty-tool'), '', 0o755);
      await mkdir(join(item, 'share/empty'), { recursive: true });
      await mkdir(join(item, 'a/b/c/d'), { recursive: true });
      // Store items may themselves be an empty folder, a single file or a symlink.
      await mkdir(join(root, OTHER), { recursive: true });
      await writeFileAt(join(root, FILE_ITEM), '');
      await symlink(`${ITEM}/empty`, join(root, LINK_ITEM));
    },
  },
  {
    name: 'executables',
    storePaths: [ITEM],
    async build(root) {
      const item = join(root, ITEM);
      const modes = [0o755, 0o555, 0o700, 0o750, 0o711, 0o4755, 0o644, 0o444, 0o600, 0o640];
      for (const mode of modes) {
        await writeFileAt(
          join(item, `bin/mode-${mode.toString(8)}`),
          `#!/bin/sh\n# ${mode}\n`,
          mode,
        );
      }
    },
  },
  {
    name: 'read-only folders',
    storePaths: [ITEM, OTHER],
    async build(root) {
      const item = join(root, ITEM);
      await writeFileAt(join(item, 'bin/tool'), '#!/bin/sh\n', 0o555);
      await writeFileAt(join(item, 'lib/sub/data'), 'data\n', 0o444);
      await mkdir(join(item, 'lib/empty'), { recursive: true });
      await mkdir(join(root, OTHER), { recursive: true });
      // As in a store: every folder, the items included, is 0555, deepest first.
      for (const folder of ['bin', 'lib/sub', 'lib/empty', 'lib', '']) {
        await chmod(join(item, folder), 0o555);
      }
      await chmod(join(root, OTHER), 0o555);
    },
  },
  {
    name: 'hard links inside one item',
    storePaths: [ITEM],
    sourceHardLinks: [
      [
        `${basename(ITEM)}/lib/libshared.so`,
        `${basename(ITEM)}/lib/libshared.so.1`,
        `${basename(ITEM)}/lib64/libshared.so`,
      ],
      [`${basename(ITEM)}/share/a`, `${basename(ITEM)}/share/b`],
    ],
    async build(root) {
      const item = join(root, ITEM);
      await writeFileAt(join(item, 'lib/libshared.so'), 'shared library\n'.repeat(100), 0o555);
      await mkdir(join(item, 'lib64'));
      await link(join(item, 'lib/libshared.so'), join(item, 'lib/libshared.so.1'));
      await link(join(item, 'lib/libshared.so'), join(item, 'lib64/libshared.so'));
      await writeFileAt(join(item, 'share/a'), 'same text\n', 0o444);
      await link(join(item, 'share/a'), join(item, 'share/b'));
    },
  },
];

describe('umoci read-back', () => {
  let work: string;
  let root: string;
  let layout: string;

  beforeEach(async () => {
    work = await makeTempDir();
    root = join(work, 'root');
    layout = join(work, 'layout');
    await mkdir(join(root, STORE_DIR), { recursive: true });
    await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
  });

  afterEach(async () => {
    // umoci leaves the rootfs's 0555 folders as they are, so removeTree makes them writable first.
    await removeTree(work);
  });

  const cases = TREE_CASES.flatMap((treeCase) =>
    (['none', 'gzip'] as const).map((compression) => ({ ...treeCase, compression })),
  );

  it.each(cases)('unpacks $name ($compression)', async (treeCase) => {
    const { storePaths, compression } = treeCase;
    await treeCase.build(root);
    const blob = await addLayer(layout, { storeDir: STORE_DIR, storePaths, root }, compression);
    await writeImages(layout, [{ tag: 'test', layers: [blob] }]);

    const rootfs = await unpack(layout, 'test', join(work, 'bundle'));

    // A gzip blob starts with 1f 8b, a tar with the name of its first entry, `nix/`.
    const blobStart = await readFile(join(layout, blobPath(blob.descriptor.digest)));
    expect(blobStart.subarray(0, 4).toString('hex')).toBe(
      compression === 'gzip' ? '1f8b0800' : '6e69782f',
    );
    expect(hardLinkGroups(await describeTree(join(root, STORE_DIR))), 'source hard links').toEqual(
      treeCase.sourceHardLinks ?? [],
    );
    await expectSameTree(root, rootfs);
  });

  it.each(['none', 'gzip'] as const)(
    'unpacks hard links across layers (%s)',
    async (compression) => {
      // As after `nix-store --optimise`: one inode in .links behind a file of each item.
      const content = 'shared library\n'.repeat(200);
      const linked = join(root, STORE_DIR, '.links/0f2kzvmyr6k2c0bldpj6l0wvvy56hqhb');
      await writeFileAt(linked, content, 0o444);
      for (const storePath of [ITEM, OTHER]) {
        await mkdir(join(root, storePath, 'lib'), { recursive: true });
        await link(linked, join(root, storePath, 'lib/libshared.so'));
      }
      await writeFileAt(join(root, OTHER, 'only-other'), 'other\n');
      const cache = new LayerCache({ dir: join(work, 'cache') });
      const built = await buildLayers(
        [ITEM, OTHER].map((storePath) => ({ storeDir: STORE_DIR, storePaths: [storePath], root })),
        { compression, cache, concurrency: 2 },
      );
      const blobs: LayerBlob[] = [];
      for (const layer of built) {
        await copyFile(layer.path, join(layout, blobPath(layer.digest)));
        blobs.push({
          descriptor: {
            mediaType: layerMediaType(compression, 'oci'),
            digest: layer.digest,
            size: layer.size,
          },
          diffId: layer.diffId,
        });
      }
      const [first, second] = blobs as [LayerBlob, LayerBlob];
      await writeImages(layout, [
        { tag: 'both', layers: [first, second] },
        { tag: 'first', layers: [first] },
        { tag: 'second', layers: [second] },
      ]);

      const both = await unpack(layout, 'both', join(work, 'both'));
      const firstOnly = await unpack(layout, 'first', join(work, 'first'));
      const secondOnly = await unpack(layout, 'second', join(work, 'second'));

      const storeNames = async (rootfs: string) => (await readdir(join(rootfs, STORE_DIR))).sort();
      expect(hardLinkGroups(await describeTree(join(root, STORE_DIR))), 'source links').toEqual([
        [
          '.links/0f2kzvmyr6k2c0bldpj6l0wvvy56hqhb',
          `${basename(ITEM)}/lib/libshared.so`,
          `${basename(OTHER)}/lib/libshared.so`,
        ],
      ]);
      expect(await storeNames(both)).toEqual([basename(ITEM), basename(OTHER)].sort());
      expect(await storeNames(firstOnly)).toEqual([basename(ITEM)]);
      expect(await storeNames(secondOnly)).toEqual([basename(OTHER)]);
      for (const storePath of [ITEM, OTHER]) {
        await expectSameTree(join(root, storePath), join(both, storePath));
      }
      await expectSameTree(join(root, ITEM), join(firstOnly, ITEM));
      await expectSameTree(join(root, OTHER), join(secondOnly, OTHER));
    },
  );

  it('unpacks a file over 8 GiB (gzip)', { timeout: 40 * 60_000 }, async () => {
    const size = 8 * 1024 ** 3 + 4101;
    // gzip keeps the blob of a file of zeros small, so only the unpacked file needs 8 GiB of disk.
    const { bavail, bsize } = await statfs(work);
    const needed = size + 1024 ** 3;
    if (bavail * bsize < needed) {
      throw new Error(
        `unpacking an 8 GiB file: ${work} has ${bavail * bsize} bytes free but the test needs ${needed}: free space or set TMPDIR to a larger disk`,
      );
    }
    const path = join(root, ITEM, 'huge.img');
    await writeFileAt(path, 'head');
    const file = await open(path, 'r+');
    await file.write(Buffer.from('tail!'), 0, 5, size - 5);
    await file.close();
    await writeFileAt(join(root, ITEM, 'small'), 'beside the large file\n');

    const blob = await addLayer(layout, { storeDir: STORE_DIR, storePaths: [ITEM], root }, 'gzip');
    await writeImages(layout, [{ tag: 'huge', layers: [blob] }]);
    const rootfs = await unpack(layout, 'huge', join(work, 'bundle'));

    const unpacked = await open(join(rootfs, ITEM, 'huge.img'), 'r');
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(5);
    await unpacked.read(head, 0, 4, 0);
    await unpacked.read(tail, 0, 5, size - 5);
    const stats = await unpacked.stat();
    await unpacked.close();
    expect(head.toString()).toBe('head');
    expect(tail.toString()).toBe('tail!');
    expect(stats.size).toBe(size);
    await expectSameTree(root, rootfs);
  });
});
