import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@storepack/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildLayer, buildLayers, layerCacheKey } from './build-layers.js';
import { compressLayer } from './compress-layer.js';
import { defaultCacheDir, LayerCache } from './layer-cache.js';
import { makeTempDir, readAll, removeTree, sha256Hex, writeFileAt } from './layer-fixtures.js';
import type { LayerSource } from './layer-source.js';
import type { Logger } from './logger.js';
import { prepareLayer } from './prepare-layer.js';
import { ZstdPool } from './zstd-pool.js';

const HELLO = '/nix/store/6j7k2pf9nlvt5qbb3dw34o4o5bv4dzkl-hello-2.12';
const LIBC = '/nix/store/7k8l3qg0omwu6rcc4ex45p5p6cw5eaml-glibc-2.39';

describe('LayerCache', () => {
  let root: string;
  let cacheDir: string;
  let warnings: { message: string; fields?: Record<string, unknown> }[];
  let cache: LayerCache;

  beforeEach(async () => {
    root = await makeTempDir();
    cacheDir = join(root, 'cache');
    await writeFileAt(join(root, 'store', HELLO, 'bin/hello'), 'hello binary\n'.repeat(500), 0o755);
    await writeFileAt(join(root, 'store', LIBC, 'lib/libc.so.6'), 'libc\n'.repeat(5000));
    warnings = [];
    const logger: Logger = {
      debug: () => undefined,
      warn: (message, fields) => warnings.push({ message, ...(fields ? { fields } : {}) }),
    };
    cache = new LayerCache({ dir: cacheDir, logger });
  });

  afterEach(async () => {
    await removeTree(root);
  });

  const source = (storePaths = [HELLO, LIBC], mtime = 1): LayerSource => ({
    storeDir: '/nix/store',
    storePaths,
    root: join(root, 'store'),
    mtime,
  });

  it('reuses a blob without reading the store', async () => {
    const first = await buildLayer(source(), { compression: 'gzip', cache });
    await removeTree(join(root, 'store'));

    const second = await buildLayer(source(), { compression: 'gzip', cache });

    expect(second.digest).toBe(first.digest);
    expect(second.diffId).toBe(first.diffId);
    expect(second.size).toBe(first.size);
    const blob = await readAll(second.createStream());
    expect(`sha256:${sha256Hex(blob)}`).toBe(first.digest);
    expect(blob.length).toBe(first.size);
  });

  it('records the facts of the blob', async () => {
    const layer = await buildLayer(source(), { compression: 'zstd', cache });

    const blob = await readFile(layer.path);

    expect(layer.path).toBe(join(cacheDir, 'blobs/sha256', layer.digest.slice(7)));
    expect(layer.digest).toBe(`sha256:${sha256Hex(blob)}`);
    expect(layer.size).toBe(blob.length);
    expect(layer.compression).toBe('zstd');
    expect(layer.storePaths).toEqual([HELLO, LIBC]);
    expect(layer.uncompressedSize).toBeGreaterThan(layer.size);
  });

  it.each([
    ['compression', source0(), { ...source0() }, 'gzip', 'zstd'],
    ['mtime', source0(), { ...source0(), mtime: 2 }, 'gzip', 'gzip'],
    ['store paths', source0(), { ...source0(), storePaths: [HELLO] }, 'gzip', 'gzip'],
    [
      'symlinks',
      source0(),
      { ...source0(), symlinks: [{ path: '/bin', target: `${HELLO}/bin` }] },
      'gzip',
      'gzip',
    ],
    ['store folder root', source0(), { ...source0(), root: '/elsewhere' }, 'gzip', 'gzip'],
  ] as const)(
    'changes the key with the %s',
    (_case, left, right, leftCompression, rightCompression) => {
      expect(layerCacheKey(left, leftCompression)).not.toBe(layerCacheKey(right, rightCompression));
    },
  );

  it('keeps the key when store paths come in another order', () => {
    expect(layerCacheKey({ ...source0(), storePaths: [LIBC, HELLO] }, 'gzip')).toBe(
      layerCacheKey(source0(), 'gzip'),
    );
  });

  it.each([
    ['corrupted', (path: string) => flipByte(path)],
    ['truncated', (path: string) => truncate(path, 100)],
    ['deleted', (path: string) => rm(path)],
  ])('rebuilds a %s blob', async (_case, damage) => {
    const first = await buildLayer(source(), { compression: 'gzip', cache });
    await damage(first.path);

    const second = await buildLayer(source(), { compression: 'gzip', cache });

    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toBe('discarding layer cache entry');
    expect(second.digest).toBe(first.digest);
    expect(`sha256:${sha256Hex(await readFile(second.path))}`).toBe(first.digest);
  });

  it('rebuilds after an unreadable entry', async () => {
    const first = await buildLayer(source(), { compression: 'none', cache });
    const entries = await readdir(join(cacheDir, 'entries'));
    await writeFile(join(cacheDir, 'entries', entries[0] as string), '{"version":1,');

    const second = await buildLayer(source(), { compression: 'none', cache });

    expect(warnings.map((warning) => warning.fields?.problem)).toEqual(['unreadable entry']);
    expect(second.digest).toBe(first.digest);
  });

  it('lets two builds of one layer run at once', async () => {
    const builds = await Promise.all([
      buildLayer(source(), { compression: 'zstd', cache }),
      buildLayer(source(), { compression: 'zstd', cache }),
    ]);

    expect(builds[0].digest).toBe(builds[1].digest);
    expect(`sha256:${sha256Hex(await readFile(builds[0].path))}`).toBe(builds[0].digest);
    // Only the entries and blobs folders remain: no temporary file is left behind.
    expect((await readdir(cacheDir)).sort()).toEqual(['blobs', 'entries']);
    expect(await readdir(join(cacheDir, 'entries'))).toHaveLength(1);
  });

  it('builds several layers in order', async () => {
    const sources = [source([LIBC]), source([HELLO]), source([HELLO, LIBC])];

    const layers = await buildLayers(sources, { compression: 'gzip', cache, concurrency: 2 });

    expect(layers.map((layer) => layer.storePaths)).toEqual([[LIBC], [HELLO], [HELLO, LIBC]]);
    expect(new Set(layers.map((layer) => layer.digest)).size).toBe(3);
  });

  it('starts the largest layers first', async () => {
    // A layer's build starts by looking up its key in the cache.
    const lookedUp: string[] = [];
    class RecordingCache extends LayerCache {
      override get(key: string) {
        lookedUp.push(key);
        return super.get(key);
      }
    }
    const sources = [source([LIBC]), source([HELLO]), source([HELLO, LIBC])];

    const layers = await buildLayers(sources, {
      compression: 'gzip',
      cache: new RecordingCache({ dir: cacheDir }),
      concurrency: 1,
      sizeHints: [10, 30, 20],
    });

    const keyOf = (index: number) => layerCacheKey(sources[index] as LayerSource, 'gzip');
    expect(lookedUp).toEqual([keyOf(1), keyOf(2), keyOf(0)]);
    expect(layers.map((layer) => layer.storePaths)).toEqual([[LIBC], [HELLO], [HELLO, LIBC]]);
  });

  it('rejects size hints that do not fit the layers', async () => {
    for (const sizeHints of [[1], [1, Number.NaN], [1, -1]]) {
      await expect(
        buildLayers([source([LIBC]), source([HELLO])], { compression: 'gzip', cache, sizeHints }),
      ).rejects.toThrow(/invalid size hints .*expected a number of bytes for each of the 2 layers/);
    }
  });

  it('reports the first failure of several layers', async () => {
    const missing = '/nix/store/8l9m4rh1pnxv7sdd5fy56q6q7dx6fbnm-missing';

    const error = await buildLayers([source([HELLO]), source([missing])], {
      compression: 'gzip',
      cache,
    }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'READ', path: join(root, 'store', missing) });
  });

  // The blob fills a tmpfs to the last page, so that only the entry's write runs out of space.
  // Mounting needs root, as CI runs.
  it('leaves no temporary entry when the disk fills', async () => {
    const layer = await prepareLayer(source());
    const disk = join(root, 'disk');
    await mkdir(disk);
    const pages = Math.ceil(layer.size / 4096);
    await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${pages * 4096}`, 'tmpfs', disk]);
    try {
      const small = new LayerCache({ dir: join(disk, 'cache') });

      const error = await small
        .put('a'.repeat(64), compressLayer(layer, 'none'))
        .catch((caught: unknown) => caught);
      const left = (await readdir(join(disk, 'cache'))).filter((name) => name.startsWith('.tmp-'));

      expect(error).toMatchObject({ code: 'CACHE' });
      expect((error as Error).message).toBe(
        `writing an entry into the layer cache ${join(disk, 'cache')}: no space left on device`,
      );
      expect(left).toEqual([]);
    } finally {
      await runCommand('umount', [disk]);
    }
  });

  it('lets an idle zstd pool go once its layers are built', async () => {
    const pool = new ZstdPool(2);
    const closing = vi.spyOn(pool, 'closeIfIdle');
    try {
      await buildLayers([source([HELLO]), source([LIBC])], {
        compression: 'zstd',
        cache,
        zstdPool: pool,
      });

      expect(closing).toHaveBeenCalledTimes(1);
      await expect(closing.mock.results[0]?.value).resolves.toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('starts no layer once the build is aborted', async () => {
    const controller = new AbortController();
    let prepared = 0;
    const logger: Logger = {
      debug: (message) => {
        if (message !== 'layer prepared') {
          return;
        }
        prepared += 1;
        if (prepared === 2) {
          controller.abort(new Error('stopped by the test'));
        }
      },
      warn: () => undefined,
    };

    const error = await buildLayers([source([HELLO]), source([LIBC]), source([HELLO, LIBC])], {
      compression: 'zstd',
      cache,
      concurrency: 1,
      signal: controller.signal,
      logger,
    }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ message: 'stopped by the test' });
    expect(prepared).toBe(2);
    expect((await readdir(cacheDir)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    expect((await readdir(join(cacheDir, 'entries'))).length).toBeLessThanOrEqual(1);
  });

  it.each(['zstd', 'gzip'] as const)(
    'leaves nothing behind when a %s layer is aborted while it streams',
    async (compression) => {
      const controller = new AbortController();
      const logger: Logger = {
        debug: (message) => {
          if (message === 'layer prepared') {
            controller.abort(new Error('stopped by the test'));
          }
        },
        warn: () => undefined,
      };

      const error = await buildLayers([source([HELLO]), source([LIBC])], {
        compression,
        cache,
        signal: controller.signal,
        logger,
      }).catch((caught: unknown) => caught);

      expect(error).toMatchObject({ message: 'stopped by the test' });
      expect((await readdir(cacheDir)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
      expect(await readdir(join(cacheDir, 'entries'))).toEqual([]);
    },
  );

  it('defaults to the XDG cache folder', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/user' })).toBe(
      '/var/cache/user/storepack/layers',
    );
    expect(defaultCacheDir({})).toBe(join(homedir(), '.cache/storepack/layers'));
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(
      join(homedir(), '.cache/storepack/layers'),
    );
  });
});

/** Returns a fixed source for key tests, which read no files. */
function source0(): LayerSource {
  return { storeDir: '/nix/store', storePaths: [HELLO, LIBC], root: '/store', mtime: 1 };
}

async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
  await writeFile(path, bytes);
}
