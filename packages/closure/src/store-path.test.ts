import { describe, expect, it } from 'vitest';
import { ClosureError } from './errors.js';
import { parseStorePath, storeDirOf } from './store-path.js';

const hash = 'p3ixf7b9spiqvi2f06nbyvpbsg7sv3r5';

describe('parseStorePath', () => {
  it.each([
    {
      name: 'nix item',
      input: `/nix/store/${hash}-busybox-1.35.0`,
      storeDir: undefined,
      expected: {
        path: `/nix/store/${hash}-busybox-1.35.0`,
        storeDir: '/nix/store',
        hashPart: hash,
        name: 'busybox-1.35.0',
      },
    },
    {
      name: 'guix item',
      input: `/gnu/store/${hash}-bash-5.1`,
      storeDir: undefined,
      expected: {
        path: `/gnu/store/${hash}-bash-5.1`,
        storeDir: '/gnu/store',
        hashPart: hash,
        name: 'bash-5.1',
      },
    },
    {
      name: 'file inside an item',
      input: `/nix/store/${hash}-hello-2.12/bin/hello`,
      storeDir: undefined,
      expected: {
        path: `/nix/store/${hash}-hello-2.12`,
        storeDir: '/nix/store',
        hashPart: hash,
        name: 'hello-2.12',
      },
    },
    {
      name: 'trailing slash and doubled slashes',
      input: `/nix//store/${hash}-hello-2.12/`,
      storeDir: undefined,
      expected: {
        path: `/nix/store/${hash}-hello-2.12`,
        storeDir: '/nix/store',
        hashPart: hash,
        name: 'hello-2.12',
      },
    },
    {
      name: 'other store dir guessed',
      input: `/opt/my store/${hash}-a+b_c.d?e=f/lib`,
      storeDir: undefined,
      expected: {
        path: `/opt/my store/${hash}-a+b_c.d?e=f`,
        storeDir: '/opt/my store',
        hashPart: hash,
        name: 'a+b_c.d?e=f',
      },
    },
    {
      name: 'store dir given with trailing slash',
      input: `/tmp/s/${hash}-x`,
      storeDir: '/tmp/s/',
      expected: { path: `/tmp/s/${hash}-x`, storeDir: '/tmp/s', hashPart: hash, name: 'x' },
    },
  ])('parses $name', ({ input, storeDir, expected }) => {
    expect(parseStorePath(input, storeDir)).toEqual(expected);
  });

  it.each([
    // A relative path cannot name a store item.
    {
      name: 'relative path',
      input: `nix/store/${hash}-x`,
      storeDir: undefined,
      reason: 'expected an absolute path',
    },
    // The item lives in /gnu/store, but the caller fixed the store directory to /nix/store.
    {
      name: 'wrong store dir',
      input: `/gnu/store/${hash}-x`,
      storeDir: '/nix/store',
      reason: 'not inside the store directory /nix/store',
    },
    // The store directory alone is not an item.
    {
      name: 'store dir itself',
      input: '/nix/store',
      storeDir: undefined,
      reason: 'no component has the form',
    },
    // "e", "o", "u" and "t" are not Nix base32 digits.
    {
      name: 'bad hash chars',
      input: '/nix/store/e3ixf7b9spiqvi2f06nbyvpbsg7sv3r5-x',
      storeDir: undefined,
      reason: 'contains "e", which is not a Nix base32 digit',
    },
    // A hash part has 32 digits, this one 31.
    {
      name: 'hash too short',
      input: '/nix/store/3ixf7b9spiqvi2f06nbyvpbsg7sv3r5-x',
      storeDir: undefined,
      reason: 'has 31 characters, expected 32',
    },
    // Nothing follows the dash.
    {
      name: 'empty name',
      input: `/nix/store/${hash}-`,
      storeDir: undefined,
      reason: 'the name after the hash part is empty',
    },
    // Nix rejects names with characters outside A-Z a-z 0-9 + - . _ ? =.
    {
      name: 'space in name',
      input: `/nix/store/${hash}-a b`,
      storeDir: undefined,
      reason: 'has characters other than',
    },
    // No component looks like <hash>-<name>.
    {
      name: 'not a store path',
      input: '/usr/bin/jq',
      storeDir: undefined,
      reason: 'no component has the form',
    },
  ])('rejects $name', ({ input, storeDir, reason }) => {
    let caught: unknown;
    try {
      parseStorePath(input, storeDir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ClosureError);
    expect((caught as ClosureError).code).toBe('NOT_A_STORE_PATH');
    expect((caught as ClosureError).path).toBe(input);
    expect((caught as ClosureError).message).toContain(JSON.stringify(input));
    expect((caught as ClosureError).message).toContain(reason);
  });

  it('rejects relative store dir', () => {
    expect(() => parseStorePath(`/nix/store/${hash}-x`, 'nix/store')).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});

describe('storeDirOf', () => {
  it('returns the guix store dir', () => {
    expect(storeDirOf(`/gnu/store/${hash}-bash-5.1/bin/bash`)).toBe('/gnu/store');
  });

  it('throws for a non-store path', () => {
    expect(() => storeDirOf('/etc/passwd')).toThrow(
      expect.objectContaining({ code: 'NOT_A_STORE_PATH' }),
    );
  });
});
