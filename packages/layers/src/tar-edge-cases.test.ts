import { spawn } from 'node:child_process';
import {
  link,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listTar,
  makeTempDir,
  readAll,
  removeTree,
  runTar,
  sha256Hex,
  writeFileAt,
} from './layer-fixtures.js';
import { prepareLayer } from './prepare-layer.js';

const ITEM = '/nix/store/9m0n5si2royx8v5g6gz67s6s8f47hon2-edge-cases';
const OTHER = '/nix/store/0n1p6tj3spzy9w6h7h078t7t9g58ipo3-other';

/** Joins a folder path and raw name bytes into a path Node's fs functions take. */
function rawPath(folder: string, ...names: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(folder), ...names.flatMap((name) => [Buffer.from('/'), name])]);
}

/** Pipes a stream into a shell script and returns its standard output. */
async function pipeInto(stream: Readable, script: string): Promise<string> {
  const child = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(stream, child.stdin);
  const status = await exited;
  if (status !== 0) {
    throw new Error(`script failed with status ${status}: ${Buffer.concat(errors).toString()}`);
  }
  return Buffer.concat(output).toString();
}

describe('tar edge cases', () => {
  let root: string;

  beforeEach(async () => {
    root = await makeTempDir();
  });

  afterEach(async () => {
    await removeTree(root);
  });

  it('writes a file over 8 GiB with a PAX size record', { timeout: 600_000 }, async () => {
    // A sparse file: 8 GiB and 4101 bytes, marked at both ends.
    const size = 8 * 1024 ** 3 + 4101;
    const path = join(root, ITEM, 'huge.img');
    await writeFileAt(path, 'head');
    const file = await open(path, 'r+');
    await file.write(Buffer.from('tail!'), 0, 5, size - 5);
    await file.close();
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    const name = `${ITEM.slice(1)}/huge.img`;

    // One pass: GNU tar lists the archive into a file and extracts the file for cmp.
    const output = await pipeInto(
      layer.createStream(),
      `set -o pipefail; tar -xvv --numeric-owner --index-file=${root}/list -O -f - ${name} |` +
        ` cmp - ${path} && echo same`,
    );
    const listing = await readFile(join(root, 'list'), 'utf8');

    expect(output.trim()).toBe('same');
    expect(listing).toContain(` ${size} `);
    expect(listing).toContain(name);
    // Four folder and file headers, a PAX header with its records, the padded content, end blocks.
    expect(layer.size).toBe(4 * 512 + 1024 + Math.ceil(size / 512) * 512 + 1024);
  });

  it('keeps names and targets that are not UTF-8', async () => {
    const latin1 = Buffer.from('caf\xe9', 'latin1');
    const broken = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]);
    const long = Buffer.concat([Buffer.alloc(150, 0x61), Buffer.from([0xc3, 0x28])]);
    await mkdir(rawPath(join(root, ITEM), latin1), { recursive: true });
    await writeFile(rawPath(join(root, ITEM), latin1, broken), 'inside\n');
    await writeFile(rawPath(join(root, ITEM), long), 'long\n');
    await symlink(rawPath('..', latin1, broken), rawPath(join(root, ITEM), Buffer.from('link')));
    await writeFile(join(root, ITEM, 'plain'), 'plain\n');
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    const archive = join(root, 'layer.tar');
    const bytes = await readAll(layer.createStream());
    await writeFile(archive, bytes);
    const out = join(root, 'out');
    await mkdir(out);

    await runTar(['-xf', archive, '-C', out]);

    const item = join(out, ITEM);
    const names = (await readdir(item, { encoding: 'buffer' })).sort(Buffer.compare);
    expect(names.map((name) => name.toString('hex'))).toEqual(
      [long, latin1, Buffer.from('link'), Buffer.from('plain')]
        .sort(Buffer.compare)
        .map((name) => name.toString('hex')),
    );
    const inner = await readdir(rawPath(item, latin1), { encoding: 'buffer' });
    expect(inner.map((name) => name.toString('hex'))).toEqual([broken.toString('hex')]);
    expect(await readFile(rawPath(item, latin1, broken), 'utf8')).toBe('inside\n');
    expect(await readFile(rawPath(item, long), 'utf8')).toBe('long\n');
    const target = await readlink(rawPath(item, Buffer.from('link')), { encoding: 'buffer' });
    expect(target.toString('hex')).toBe(rawPath('..', latin1, broken).toString('hex'));
    expect(bytes.length).toBe(layer.size);
    expect(layer.diffId()).toBe(`sha256:${sha256Hex(bytes)}`);
  });

  it('orders raw names by their bytes', async () => {
    await writeFile(rawPath(join(root, ITEM)), '').catch(() => undefined);
    await mkdir(join(root, ITEM), { recursive: true });
    for (const name of [
      Buffer.from([0xff]),
      Buffer.from('z'),
      Buffer.from([0x80, 0x41]),
      Buffer.from('A'),
    ]) {
      await writeFile(rawPath(join(root, ITEM), name), 'x');
    }
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
    const archive = join(root, 'layer.tar');
    await writeFile(archive, await readAll(layer.createStream()));

    const listing = await runTar(['-tf', archive, '--quoting-style=escape']);

    expect(listing.trim().split('\n').slice(3)).toEqual([
      `${ITEM.slice(1)}/A`,
      `${ITEM.slice(1)}/z`,
      `${ITEM.slice(1)}/\\200A`,
      `${ITEM.slice(1)}/\\377`,
    ]);
  });

  it('writes a hard link in full in each layer', async () => {
    await writeFileAt(join(root, ITEM, 'lib/shared.so'), 'shared library\n'.repeat(100));
    await mkdir(join(root, OTHER, 'lib'), { recursive: true });
    await link(join(root, ITEM, 'lib/shared.so'), join(root, OTHER, 'lib/shared.so'));
    const archives = [];
    for (const [index, storePath] of [ITEM, OTHER].entries()) {
      const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [storePath], root });
      const archive = join(root, `layer${index}.tar`);
      await writeFile(archive, await readAll(layer.createStream()));
      archives.push(archive);
    }

    const listings = await Promise.all(archives.map((archive) => listTar(archive)));
    const alone = join(root, 'alone');
    await mkdir(alone);
    await runTar(['-xf', archives[1] as string, '-C', alone]);

    for (const listing of listings) {
      expect(listing.filter((entry) => entry.mode.startsWith('h'))).toEqual([]);
      expect(listing.find((entry) => entry.name.endsWith('/shared.so'))?.size).toBe(1500);
    }
    expect(await readFile(join(alone, OTHER, 'lib/shared.so'), 'utf8')).toBe(
      'shared library\n'.repeat(100),
    );
  });
});
