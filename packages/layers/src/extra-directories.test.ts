import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from './layer-fixtures.js';
import { prepareLayer } from './prepare-layer.js';

const item = '/nix/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-extra-dirs-'));
  await mkdir(path.join(work, 'root', item, 'bin'), { recursive: true });
  await writeFile(path.join(work, 'root', item, 'bin', 'app'), 'app\n');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function extract(source: Parameters<typeof prepareLayer>[0]): Promise<string> {
  const layer = await prepareLayer(source);
  const archive = path.join(work, 'layer.tar');
  await writeFile(archive, await readAll(layer.createStream()));
  const out = path.join(work, 'out');
  await mkdir(out);
  execFileSync('tar', ['-xpf', archive, '-C', out]);
  return execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
}

describe('extra folders', () => {
  it('writes /tmp with its sticky mode', async () => {
    const listing = await extract({
      storeDir: '/nix/store',
      storePaths: [item],
      root: path.join(work, 'root'),
      directories: [{ path: '/tmp', mode: 0o1777 }],
    });

    expect(listing).toMatch(/^drwxrwxrwt 0\/0 +0 1970-01-01 00:00 tmp\/$/m);
    expect((await stat(path.join(work, 'out', 'tmp'))).mode & 0o7777).toBe(0o1777);
  });

  it('keeps a folder mode under a symlink', async () => {
    const listing = await extract({
      storeDir: '/nix/store',
      storePaths: [item],
      root: path.join(work, 'root'),
      directories: [{ path: '/usr/bin', mode: 0o555 }],
      symlinks: [{ path: '/usr/bin/app', target: `${item}/bin/app` }],
    });

    expect(listing).toMatch(/^drwxr-xr-x .* usr\/$/m);
    expect(listing).toMatch(/^dr-xr-xr-x .* usr\/bin\/$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* usr\/bin\/app -> /m);
  });

  it.each([
    ['the store folder', '/nix', /\/nix is already in the layer/],
    ['a relative path', 'tmp', /expected an absolute, normalised path/],
  ])('rejects %s', async (_case, folder, message) => {
    await expect(
      prepareLayer({
        storeDir: '/nix/store',
        storePaths: [item],
        root: path.join(work, 'root'),
        directories: [{ path: folder, mode: 0o755 }],
      }),
    ).rejects.toThrow(message);
  });

  it('rejects a mode beyond 0o7777', async () => {
    await expect(
      prepareLayer({
        storeDir: '/nix/store',
        storePaths: [item],
        directories: [{ path: '/tmp', mode: 0o17777 }],
      }),
    ).rejects.toThrow('invalid folder /tmp: mode 8191 is not between 0 and 0o7777');
  });
});
