import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildLayer, buildLayers } from './build-layers.js';
import { LayerCache } from './layer-cache.js';
import { makeTempDir, removeTree, textSample as sample, writeFileAt } from './layer-fixtures.js';
import type { LayerSource } from './layer-source.js';
import type { Logger } from './logger.js';
import { ZstdPool } from './zstd-pool.js';

const ITEMS = ['a', 'b', 'c', 'd', 'e'].map(
  (name, index) => `/nix/store/${String(index).repeat(32)}-item-${name}`,
);

describe('buildLayers', () => {
  let root: string;

  beforeEach(async () => {
    root = await makeTempDir();
    for (const [index, item] of ITEMS.entries()) {
      await writeFileAt(
        join(root, 'store', item, 'share/data'),
        Buffer.from(sample(256 * 1024, index + 1)),
      );
    }
  });

  afterEach(async () => {
    await removeTree(root);
  });

  const source = (item: string): LayerSource => ({
    storeDir: '/nix/store',
    storePaths: [item],
    root: join(root, 'store'),
    mtime: 1,
  });

  it('overlaps the zstd layers of a lane', async () => {
    const pool = new ZstdPool(1);
    const events: string[] = [];
    const logger: Logger = {
      debug: (message) => {
        events.push(message);
      },
      warn: () => undefined,
    };
    const cache = new LayerCache({ dir: join(root, 'cache'), logger });
    try {
      // Level 19 keeps the only worker busy for a while, so the layers' frames queue behind it.
      let whileBlocked: string[] = [];
      const blocking = pool.compress(sample(16 * 1024 * 1024, 9), 19).then(() => {
        whileBlocked = [...events];
      });

      const built = await buildLayers(ITEMS.map(source), {
        compression: 'zstd',
        cache,
        concurrency: 1,
        zstdPool: pool,
        logger,
      });
      await blocking;

      // Each layer is one frame, and a lane lets three frames wait for the worker. So the fourth
      // layer is prepared but cannot send its frame yet, and the fifth has not started.
      expect(whileBlocked.filter((event) => event === 'layer prepared')).toHaveLength(4);
      expect(whileBlocked.filter((event) => event === 'layer cached')).toEqual([]);

      const alone = new LayerCache({ dir: join(root, 'alone') });
      for (const [index, item] of ITEMS.entries()) {
        const expected = await buildLayer(source(item), { compression: 'zstd', cache: alone });
        expect(built[index]?.digest).toBe(expected.digest);
        expect(built[index]?.diffId).toBe(expected.diffId);
      }
    } finally {
      await pool.close();
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a concurrency of %s', async (concurrency) => {
    const cache = new LayerCache({ dir: join(root, 'cache') });

    await expect(
      buildLayers(ITEMS.map(source), { compression: 'zstd', cache, concurrency }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: `invalid concurrency ${concurrency}: expected a whole number of layers at once, 1 or more`,
    });
  });
});
