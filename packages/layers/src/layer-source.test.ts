import { describe, expect, it } from 'vitest';
import { LayerError } from './errors.js';
import { checkSource, type LayerSource } from './layer-source.js';
import { prepareLayer } from './prepare-layer.js';

const HELLO = '/nix/store/1b2s7ka4hgqn0lwyqrwxzjyj0wq9ysfg-hello-2.12';

function source(overrides: Partial<LayerSource>): LayerSource {
  return { storeDir: '/nix/store', storePaths: [], ...overrides };
}

describe('checkSource', () => {
  it.each<[string, Partial<LayerSource>, string]>([
    // The store folder must be absolute.
    ['a relative store folder', { storeDir: 'nix/store' }, 'invalid store folder "nix/store"'],
    // `/` as the store folder would put items at the image root.
    ['the root as store folder', { storeDir: '/' }, 'invalid store folder "/"'],
    // A doubled slash is not a normalised path.
    ['a doubled slash', { storeDir: '/nix//store' }, 'invalid store folder "/nix//store"'],
    // `..` would climb out of the image root.
    ['a parent reference', { storeDir: '/nix/../store' }, 'invalid store folder "/nix/../store"'],
    // Store paths must sit in the store folder.
    [
      'a path outside the store',
      { storePaths: ['/gnu/store/abc-hello'] },
      'invalid store path "/gnu/store/abc-hello"',
    ],
    // A path below an item is part of that item, not an item itself.
    [
      'a path inside an item',
      { storePaths: [`${HELLO}/bin`] },
      `invalid store path "${HELLO}/bin"`,
    ],
    // The store folder itself is not an item.
    [
      'the store folder as item',
      { storePaths: ['/nix/store/'] },
      'invalid store path "/nix/store/"',
    ],
    ['a dot item', { storePaths: ['/nix/store/..'] }, 'invalid store path "/nix/store/.."'],
    // An item listed twice would be written twice.
    [
      'a duplicate item',
      { storePaths: [HELLO, HELLO] },
      `invalid store paths: ${HELLO} is listed twice`,
    ],
    // Symlink paths must be absolute image paths.
    [
      'a relative symlink path',
      { symlinks: [{ path: 'bin', target: HELLO }] },
      'invalid symlink path "bin"',
    ],
    [
      'a symlink path with a trailing slash',
      { symlinks: [{ path: '/bin/', target: HELLO }] },
      'invalid symlink path "/bin/"',
    ],
    // Linux has no symlinks with an empty target.
    [
      'an empty symlink target',
      { symlinks: [{ path: '/bin', target: '' }] },
      'invalid symlink /bin: empty target',
    ],
    // tar mtimes are whole seconds from 1970.
    ['a fractional mtime', { mtime: 1.5 }, 'invalid mtime 1.5'],
    ['a negative mtime', { mtime: -1 }, 'invalid mtime -1'],
    ['a NaN mtime', { mtime: Number.NaN }, 'invalid mtime NaN'],
  ])('rejects %s', (_name, overrides, message) => {
    const check = () => checkSource(source(overrides));

    expect(check).toThrow(LayerError);
    expect(check).toThrow(expect.objectContaining({ code: 'INVALID_SOURCE' }));
    expect(check).toThrow(message);
  });

  it('accepts a store folder with a trailing slash', () => {
    const checked = checkSource(
      source({ storeDir: '/gnu/store/', storePaths: ['/gnu/store/abc-hello'] }),
    );

    expect(checked.storeDirParts).toEqual(['gnu', 'store']);
    expect(checked.items).toEqual([
      {
        storePath: '/gnu/store/abc-hello',
        baseName: 'abc-hello',
        diskPath: '/gnu/store/abc-hello',
      },
    ]);
    expect(checked.mtime.getTime()).toBe(1000);
  });

  it('reads items below the root', () => {
    const checked = checkSource(source({ storePaths: [HELLO], root: '/tmp/chroot' }));

    expect(checked.items[0]?.diskPath).toBe(`/tmp/chroot${HELLO}`);
  });
});

describe('extra symlinks', () => {
  it.each<[string, string, string]>([
    // A symlink cannot replace the store folders.
    [
      'the store folder',
      '/nix/store',
      'invalid symlink /nix/store: /nix/store is already in the layer',
    ],
    // Nor an item, whose content would be lost.
    ['an item', HELLO, `invalid symlink ${HELLO}: ${HELLO} is already in the layer`],
    // Nor go inside an item, which would change the item.
    [
      'a path in an item',
      `${HELLO}/bin/extra`,
      `invalid symlink ${HELLO}/bin/extra: ${HELLO} is already in the layer`,
    ],
    // Nor sit below another symlink.
    ['a path below a symlink', '/bin/sh', 'invalid symlink /bin/sh: /bin is already in the layer'],
  ])('rejects one at %s', async (_name, path, message) => {
    const symlinks = [
      { path: '/bin', target: `${HELLO}/bin` },
      { path, target: '/somewhere' },
    ];

    const error = await prepareLayer(
      source({ storePaths: [HELLO], symlinks, root: '/nonexistent' }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LayerError);
    expect(error).toMatchObject({ code: 'INVALID_SOURCE', message });
  });
});
