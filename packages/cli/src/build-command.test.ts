import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildNixClosure,
  type NixClosureFixture,
  podmanLoad,
  queryRequisites,
  runCommand,
  runInBundle,
  skopeoInspect,
  unpackWithUmoci,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

const exampleStore = path.resolve(import.meta.dirname, '../../../example/store');
const exampleHello = '/nix/store/z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2.12';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-build-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Store items (top-level store paths) in the single layer of a docker-archive, read with GNU tar. */
async function storeItemsInLayer(archive: string, storeDir: string): Promise<string[]> {
  const { stdout } = await runCommand('sh', [
    '-c',
    `tar -xOf "$1" --wildcards '*/layer.tar' | tar -itf -`,
    'sh',
    archive,
  ]);
  const prefix = storeDir.slice(1);
  const items = new Set<string>();
  for (const name of stdout.split('\n')) {
    const match = new RegExp(`^${prefix}/([^/]+)`).exec(name);
    if (match) items.add(`${storeDir}/${match[1]}`);
  }
  return [...items].sort();
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('storepack build on the example store', () => {
  it('writes the closure and the /bin link', async () => {
    const archive = path.join(work, 'example.tar');
    const run = await runStorepack(['build', '--root', exampleStore, exampleHello, '-o', archive]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    expect(await storeItemsInLayer(archive, '/nix/store')).toEqual([
      '/nix/store/fdsigsigab3s7qmkjx46sqnvhswvn4zl-locale-data-1.0',
      '/nix/store/qcf8043wgfyiza0fnbmbg726n83ykg1i-greeting-1.0',
      exampleHello,
    ]);
    const { stdout: listing } = await runCommand('sh', [
      '-c',
      `tar -xOf "$1" --wildcards '*/layer.tar' | tar -itvf -`,
      'sh',
      archive,
    ]);
    expect(listing).toMatch(
      /^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00 bin -> \/nix\/store\/z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2\.12\/bin$/m,
    );
    expect(listing).toMatch(
      /^-r-xr-xr-x 0\/0 .* nix\/store\/z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2\.12\/bin\/hello$/m,
    );
    expect(listing).toMatch(
      /^-r--r--r-- 0\/0 .* nix\/store\/qcf8043wgfyiza0fnbmbg726n83ykg1i-greeting-1\.0\/share\/greeting\.txt$/m,
    );
  });

  it('names the archive and tag after the item by default', async () => {
    const folder = await mkdtemp(path.join(work, 'default-name-'));
    const run = await runStorepack(['build', '--root', exampleStore, exampleHello], {
      cwd: folder,
    });
    expect(run.status).toBe(0);

    const archive = path.join(
      folder,
      'docker-image-z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2.12.tar',
    );
    const { stdout } = await runCommand('tar', ['-xOf', archive, 'manifest.json']);
    expect(JSON.parse(stdout)[0].RepoTags).toEqual(['hello:z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc']);
    expect(await readdir(folder)).toEqual([
      'docker-image-z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2.12.tar',
    ]);
  });
});

describe('storepack build --store-dir', () => {
  it('accepts the store folder of the paths', async () => {
    const archive = path.join(work, 'store-dir.tar');
    const run = await runStorepack([
      'build',
      '--root',
      exampleStore,
      '--store-dir',
      '/nix/store',
      exampleHello,
      '-o',
      archive,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await storeItemsInLayer(archive, '/nix/store')).toContain(exampleHello);
  });

  it('rejects a path outside that folder', async () => {
    const folder = await mkdtemp(path.join(work, 'store-dir-'));
    const run = await runStorepack([
      'build',
      '--root',
      exampleStore,
      '--store-dir',
      '/gnu/store',
      exampleHello,
      '-o',
      path.join(folder, 'out.tar'),
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/not inside the store directory \/gnu\/store/);
    expect(await readdir(folder)).toEqual([]);
  });
});

describe.each(['nix', 'guix'] as const)('storepack build on a real %s closure', (layout) => {
  let fixture: NixClosureFixture;
  let archive: string;
  let databaseArgs: string[];

  beforeAll(async () => {
    fixture = await buildNixClosure({ layout });
    archive = path.join(work, `${layout}.tar`);
    // The Guix layout's database is not at /var/guix/db, so only --db finds it.
    databaseArgs = layout === 'guix' ? ['--db', fixture.dbPath] : [];
    const run = await runStorepack([
      'build',
      fixture.root,
      ...databaseArgs,
      '--closure-from',
      'db',
      '-o',
      archive,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('holds exactly the closure nix-store reports', async () => {
    const requisites = await queryRequisites(fixture, fixture.root);
    expect(await storeItemsInLayer(archive, fixture.storeDir)).toEqual([...requisites].sort());
  });

  it('finds the same closure by scanning', async () => {
    const scanned = path.join(work, `${layout}-scan.tar`);
    const run = await runStorepack([
      'build',
      fixture.root,
      '--closure-from',
      'scan',
      '-o',
      scanned,
    ]);
    expect(run.status).toBe(0);
    expect(await storeItemsInLayer(scanned, fixture.storeDir)).toEqual(
      await storeItemsInLayer(archive, fixture.storeDir),
    );
  });

  it('passes skopeo inspect', async () => {
    const { manifest, config } = await skopeoInspect(`docker-archive:${archive}`);
    expect(manifest).toMatchObject({ schemaVersion: 2 });
    expect(config).toMatchObject({
      os: 'linux',
      architecture: 'amd64',
      created: '1970-01-01T00:00:01Z',
    });
    // One layer per store item (five) and one for the /bin link, below the 100-layer limit.
    expect((config as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids).toHaveLength(6);
  });

  it('runs /bin/hello and a dynamically linked jq with runc', async () => {
    const { bundle, cleanup } = await unpackWithUmoci(`docker-archive:${archive}`);
    try {
      expect(await runInBundle(bundle, ['/bin/hello'])).toBe('hello from a store closure\n');
      expect(await runInBundle(bundle, [`${fixture.items.jq}/bin/jq`, '-n', '1+1'])).toBe('2\n');
    } finally {
      await cleanup();
    }
  });

  it('loads into podman from a file', async () => {
    const { output } = await podmanLoad({ archive });
    expect(output).toMatch(/Loaded image/);
  });
});

describe('storepack build output', () => {
  let fixture: NixClosureFixture;
  beforeAll(async () => {
    fixture = await buildNixClosure({ layout: 'nix' });
  });

  it('is byte-identical across builds', async () => {
    const first = path.join(work, 'first.tar');
    const second = path.join(work, 'second.tar');
    expect((await runStorepack(['build', fixture.root, '-o', first])).status).toBe(0);
    expect((await runStorepack(['build', fixture.root, '-o', second])).status).toBe(0);
    expect(await sha256(second)).toBe(await sha256(first));
  });

  it('streams to standard output for podman load', async () => {
    const run = await runStorepack(['build', fixture.root, '-o', '-']);
    expect(run.status).toBe(0);
    const file = path.join(work, 'file.tar');
    await runStorepack(['build', fixture.root, '-o', file]);
    expect(createHash('sha256').update(run.stdout).digest('hex')).toBe(await sha256(file));

    const { output } = await podmanLoad({ input: run.stdout });
    expect(output).toMatch(/Loaded image/);
  });

  it('leaves the live database folder unchanged', async () => {
    const dbFolder = path.dirname(fixture.dbPath);
    const before = await readdir(dbFolder);
    const run = await runStorepack([
      'build',
      fixture.root,
      '--closure-from',
      'db',
      '-o',
      path.join(work, 'db.tar'),
    ]);
    expect(run.status).toBe(0);
    expect(await readdir(dbFolder)).toEqual(before);
  });

  it('uses SOURCE_DATE_EPOCH as the creation time', async () => {
    const archive = path.join(work, 'dated.tar');
    const run = await runStorepack(['build', fixture.root, '-o', archive], {
      env: { SOURCE_DATE_EPOCH: '1700000000' },
    });
    expect(run.status).toBe(0);
    const { config } = await skopeoInspect(`docker-archive:${archive}`);
    expect(config).toMatchObject({ created: '2023-11-14T22:13:20Z' });
  });
});

describe('storepack build with bad input', () => {
  let fixture: NixClosureFixture;
  let notDatabase: string;
  beforeAll(async () => {
    fixture = await buildNixClosure({ layout: 'nix' });
    notDatabase = path.join(work, 'not-a-database.sqlite');
    await runCommand('sh', ['-c', 'echo "just text" > "$1"', 'sh', notDatabase]);
  });

  // Each case names the input in its one-line message and exits non-zero.
  it.each([
    [
      'a path that does not exist',
      () => ['/nix/store/00000000000000000000000000000000-missing-1.0'],
      /00000000000000000000000000000000-missing-1\.0/,
      1,
    ],
    ['a path outside any store', () => ['/etc/hostname'], /\/etc\/hostname/, 1],
    [
      'a missing --db',
      () => [fixture.root, '--db', '/nonexistent/db.sqlite'],
      /\/nonexistent\/db\.sqlite/,
      1,
    ],
    [
      'a --db that is not a database',
      () => [fixture.root, '--db', notDatabase],
      /not-a-database\.sqlite/,
      1,
    ],
    ['an uppercase repository in --tag', () => [fixture.root, '--tag', 'Hello:1'], /Hello:1/, 2],
    ['an empty tag in --tag', () => [fixture.root, '--tag', 'hello:'], /hello:/, 2],
    ['an unknown --system', () => [fixture.root, '--system', 'x86_64-darwin'], /x86_64-darwin/, 2],
    [
      'a system storepack has no architecture for',
      () => [fixture.root, '--system', 'sparc-linux'],
      /sparc-linux/,
      2,
    ],
    ['an unknown option', () => [fixture.root, '--frobnicate'], /frobnicate/, 2],
  ])('rejects %s', async (_name, args, message, status) => {
    const output = path.join(await mkdtemp(path.join(work, 'bad-')), 'out.tar');
    const run = await runStorepack(['build', ...args(), '-o', output]);

    expect(run.status).toBe(status);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(path.dirname(output))).toEqual([]);
    await expect(stat(output)).rejects.toThrow();
  });
});
