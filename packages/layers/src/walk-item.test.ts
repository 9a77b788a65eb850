import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LayerError } from './errors.js';
import { makeTempDir, readAll, removeTree, run, runTar, writeFileAt } from './layer-fixtures.js';
import { prepareLayer } from './prepare-layer.js';

const ITEM = '/nix/store/9l0m5si2royx8v5g6gz67s6s8f47hon1-odd-files';

describe('walking store items', () => {
  let root: string;
  let item: string;

  beforeEach(async () => {
    root = await makeTempDir();
    item = join(root, ITEM);
    await writeFileAt(join(item, 'regular'), 'fine\n');
  });

  afterEach(async () => {
    await removeTree(root);
  });

  async function prepareError(): Promise<unknown> {
    return prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root }).catch(
      (error: unknown) => error,
    );
  }

  it('rejects a FIFO', async () => {
    await run('mkfifo', [join(item, 'fifo')]);

    const error = await prepareError();

    expect(error).toBeInstanceOf(LayerError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_FILE_TYPE', path: join(item, 'fifo') });
    expect((error as Error).message).toContain(
      `reading ${join(item, 'fifo')}: unsupported file type FIFO`,
    );
  });

  it('rejects a unix socket', async () => {
    const socketPath = join(item, 'socket');
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const error = await prepareError();

      expect(error).toMatchObject({ code: 'UNSUPPORTED_FILE_TYPE', path: socketPath });
      expect((error as Error).message).toContain('unsupported file type socket');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects a character device item', async () => {
    const error = await prepareLayer({ storeDir: '/dev', storePaths: ['/dev/null'] }).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ code: 'UNSUPPORTED_FILE_TYPE', path: '/dev/null' });
    expect((error as Error).message).toContain('unsupported file type character device');
  });

  it('keeps a leading byte order mark in a name', async () => {
    await writeFile(join(item, '\uFEFFbom'), 'x');

    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    const archive = join(root, 'layer.tar');
    const out = join(root, 'out');
    await writeFile(archive, await readAll(layer.createStream()));
    await mkdir(out);
    await runTar(['-xf', archive, '-C', out]);

    expect((await readdir(join(out, ITEM))).sort()).toEqual(['regular', '\uFEFFbom']);
  });

  it('fails with READ on a missing store path', async () => {
    const missing = '/nix/store/0m1n6tj3spzy9w6h7h078t7t9g58ipo2-missing';

    const error = await prepareLayer({ storeDir: '/nix/store', storePaths: [missing], root }).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ code: 'READ', path: join(root, missing) });
    expect((error as Error).message).toBe(
      `reading ${join(root, missing)}: no such file or directory`,
    );
  });

  it('fails with READ on a folder that is not a folder any more', async () => {
    await mkdir(join(item, 'sub'));
    await writeFile(join(item, 'sub/file'), 'x');

    const error = await prepareLayer({
      storeDir: '/nix/store',
      storePaths: [ITEM],
      root: join(item, 'regular'),
    }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'READ' });
    expect((error as Error).message).toContain('not a directory');
  });
});
