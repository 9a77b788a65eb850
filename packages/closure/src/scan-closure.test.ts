import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosureError } from './errors.js';
import type { Logger } from './logger.js';
import { resolveClosure } from './resolve-closure.js';
import { listStoreItems } from './scan-closure.js';

// Distinct hash parts made of Nix base32 digits only.
const hashes = Array.from({ length: 8 }, (_, index) => `${index}`.repeat(32));

describe('scan of a hand-made store', () => {
  let scratch: string;
  let storeDir: string;
  const item = (index: number, name: string) => `${storeDir}/${hashes[index]}-${name}`;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'storepack-closure-scan-'));
    storeDir = path.join(scratch, 'store');
    await mkdir(storeDir);

    // a: a large executable file whose reference to b crosses the first 1 MiB read, a
    // self-reference, and hash parts of a lock file and of a missing item, which are not
    // references.
    await mkdir(`${item(1, 'a')}/bin`, { recursive: true });
    const big = Buffer.alloc(1_200_003, 0xff);
    big.write(`${item(2, 'b')}/lib`, 1_048_576 - 10 - storeDir.length, 'latin1');
    big.write(`${item(1, 'a')} ${hashes[6]} ${hashes[7]}`, 1_100_000, 'latin1');
    await writeFile(`${item(1, 'a')}/bin/big`, big);
    await chmod(`${item(1, 'a')}/bin/big`, 0o755);

    // b: only a symlink to a file of c, and a symlink to a folder outside the store that
    // mentions e, which must not be followed.
    await mkdir(item(2, 'b'));
    await symlink(`${item(3, 'c')}/file`, `${item(2, 'b')}/link`);
    await mkdir(path.join(scratch, 'outside'));
    await writeFile(path.join(scratch, 'outside', 'notes'), item(5, 'e'));
    await symlink(path.join(scratch, 'outside'), `${item(2, 'b')}/outside`);

    // c: refers to d by a file name only.
    await mkdir(item(3, 'c'));
    await writeFile(`${item(3, 'c')}/file`, 'plain');
    await writeFile(`${item(3, 'c')}/${hashes[4]}-d-name`, '');

    // d: an item that is a single file. e: refers to a, but nothing refers to e.
    await writeFile(item(4, 'd'), 'data');
    await writeFile(item(5, 'e'), item(1, 'a'));

    // Entries that look like items but are not.
    await writeFile(`${storeDir}/${hashes[6]}-f.lock`, '');
    await mkdir(`${storeDir}/.links`);
    await writeFile(`${storeDir}/.links/${hashes[7]}`, '');
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('lists store items only', async () => {
    const items = await listStoreItems(storeDir);
    expect([...items.values()]).toEqual([
      `${hashes[1]}-a`,
      `${hashes[2]}-b`,
      `${hashes[3]}-c`,
      `${hashes[4]}-d`,
      `${hashes[5]}-e`,
    ]);
  });

  it('finds references in bytes, links and names', async () => {
    const messages: string[] = [];
    const logger: Logger = {
      debug: (message) => messages.push(message),
      warn: (message) => messages.push(message),
    };

    const closure = await resolveClosure([`${item(1, 'a')}/bin/big`], { logger });

    expect(closure.source).toBe('scan');
    expect(closure.storeDir).toBe(storeDir);
    expect(closure.roots).toEqual([item(1, 'a')]);
    expect(closure.items.map(({ path, references }) => ({ path, references }))).toEqual([
      { path: item(1, 'a'), references: [item(1, 'a'), item(2, 'b')] },
      { path: item(2, 'b'), references: [item(3, 'c')] },
      { path: item(3, 'c'), references: [item(4, 'd')] },
      { path: item(4, 'd'), references: [] },
    ]);
    expect(messages).toContain('scanning the items for references');
  });

  it('measures NAR size like nix-store --dump', async () => {
    const closure = await resolveClosure([item(1, 'a')], { from: 'scan' });
    for (const { path: storePath, narSize } of closure.items) {
      const nar = execFileSync('nix-store', ['--dump', storePath], { maxBuffer: 16 * 1024 * 1024 });
      expect(narSize, storePath).toBe(nar.length);
    }
  });

  it('counts files, links and folders', async () => {
    const closure = await resolveClosure([item(1, 'a')], { from: 'scan' });
    const counts = Object.fromEntries(closure.items.map((entry) => [entry.path, entry.fileCount]));
    // a: the item, bin/ and bin/big. b: the item and two links. c: the item and two files.
    expect(counts).toEqual({
      [item(1, 'a')]: 3,
      [item(2, 'b')]: 3,
      [item(3, 'c')]: 3,
      [item(4, 'd')]: 1,
    });
  });

  it('merges several roots', async () => {
    const closure = await resolveClosure([item(5, 'e'), item(3, 'c'), item(5, 'e')], {
      from: 'scan',
    });
    expect(closure.roots).toEqual([item(3, 'c'), item(5, 'e')]);
    expect(closure.items.map((entry) => entry.path)).toEqual([
      item(1, 'a'),
      item(2, 'b'),
      item(3, 'c'),
      item(4, 'd'),
      item(5, 'e'),
    ]);
  });

  it('rejects db without default database', async () => {
    const error = await resolveClosure([item(1, 'a')], { from: 'db' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ClosureError);
    expect((error as ClosureError).code).toBe('DATABASE');
    expect((error as ClosureError).message).toBe(
      `reading the closure from the store database: ${storeDir} has no default database, so pass its file`,
    );
  });
});
