import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildNixClosure,
  type NixClosureFixture,
  podmanLoad,
  queryRequisites,
  runCommand,
  skopeoInspect,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

let work: string;
let fixture: NixClosureFixture;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-build-layers-'));
  fixture = await buildNixClosure({ layout: 'nix' });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function layerCount(archive: string): Promise<number> {
  const { stdout } = await runCommand('tar', ['-xOf', archive, 'manifest.json']);
  return JSON.parse(stdout)[0].Layers.length;
}

/** Returns the hex digests of the layers that an image manifest lists. */
function layerDigests(manifest: unknown): string[] {
  return (manifest as { layers: { digest: string }[] }).layers.map((layer) =>
    layer.digest.replace(/^sha256:/, ''),
  );
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('storepack build --layers', () => {
  // The fixture has five items and the /bin link, which takes a layer of its own unless single.
  it.each([
    ['single', [], 1],
    ['churn', [], 6],
    ['popularity', [], 6],
    ['churn', ['--max-layers', '3'], 3],
    ['popularity', ['--max-layers', '2'], 2],
  ])('splits with %s %j', async (planner, extra, layers) => {
    const archive = path.join(work, `layers-${planner}-${extra.join('')}.tar`);
    const run = await runStorepack([
      'build',
      fixture.root,
      '--layers',
      planner,
      ...extra,
      '-o',
      archive,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await layerCount(archive)).toBe(layers);
    const { output } = await podmanLoad({ archive });
    expect(output).toMatch(/Loaded image/);
  });
});

describe('storepack build --compress', () => {
  it('writes gzip layers a docker-archive loads', async () => {
    const archive = path.join(work, 'gzip.tar');
    const leftovers = (await readdir(os.tmpdir())).filter((name) =>
      name.startsWith('storepack-layers-'),
    );
    const run = await runStorepack([
      'build',
      fixture.root,
      '--compress',
      'gzip',
      '--no-cache',
      '-o',
      archive,
    ]);
    expect(run.status).toBe(0);
    const { manifest, config } = await skopeoInspect(`docker-archive:${archive}`);
    expect((config as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids).toHaveLength(6);
    const mediaTypes = (manifest as { layers: { mediaType: string }[] }).layers.map(
      (layer) => layer.mediaType,
    );
    expect(new Set(mediaTypes)).toEqual(
      new Set(['application/vnd.docker.image.rootfs.diff.tar.gzip']),
    );
    expect(
      (await readdir(os.tmpdir())).filter((name) => name.startsWith('storepack-layers-')),
    ).toEqual(leftovers);
    const { output } = await podmanLoad({ archive });
    expect(output).toMatch(/Loaded image/);
  });

  it('writes zstd layers in an OCI layout', async () => {
    const layout = path.join(work, 'zstd-oci');
    const run = await runStorepack([
      'build',
      fixture.root,
      '--format',
      'oci',
      '--compress',
      'zstd',
      '--cache',
      path.join(work, 'zstd-cache'),
      '-o',
      layout,
    ]);
    expect(run.status).toBe(0);
    const { manifest } = await skopeoInspect(`oci:${layout}`);
    const mediaTypes = (manifest as { layers: { mediaType: string }[] }).layers.map(
      (layer) => layer.mediaType,
    );
    expect(new Set(mediaTypes)).toEqual(new Set(['application/vnd.oci.image.layer.v1.tar+zstd']));
    // The layout's blobs are copies: a link would let a change to one corrupt the cache.
    for (const digest of layerDigests(manifest)) {
      const blob = path.join(layout, 'blobs', 'sha256', digest);
      expect((await stat(blob)).nlink).toBe(1);
      expect(await sha256(blob)).toBe(digest);
    }
    // skopeo decompresses every zstd frame to check the diff IDs when it converts the layers.
    await runCommand('skopeo', [
      'copy',
      '-q',
      '--dest-compress-format',
      'gzip',
      `oci:${layout}`,
      `oci:${path.join(work, 'zstd-as-gzip')}:x`,
    ]);
  });
});

describe('storepack build --format oci-archive --cache', () => {
  it('archives the cached blobs and leaves no link to them', async () => {
    const cache = path.join(work, 'archive-cache');
    const archive = path.join(work, 'zstd-oci.tar');
    const args = ['build', fixture.root, '--format', 'oci-archive', '--compress', 'zstd'];
    const run = await runStorepack([...args, '--cache', cache, '-o', archive]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const { manifest } = await skopeoInspect(`oci-archive:${archive}`);
    const digests = layerDigests(manifest);
    expect(digests).toHaveLength(6);
    const cached = await readdir(path.join(cache, 'blobs', 'sha256'));
    expect(cached.sort()).toEqual([...digests].sort());
    for (const digest of cached) {
      expect((await stat(path.join(cache, 'blobs', 'sha256', digest))).nlink).toBe(1);
    }
    // Built again from the full cache, the archive has the same bytes.
    const again = path.join(work, 'zstd-oci-again.tar');
    expect((await runStorepack([...args, '--cache', cache, '-o', again])).status).toBe(0);
    expect(await sha256(again)).toBe(await sha256(archive));
  });
});

describe('storepack build --cache', () => {
  it('rebuilds from the cache the same bytes without the store files', async () => {
    // A copy of the closure under --root, so that its files can go once the cache has them.
    const root = path.join(work, 'cache-root');
    for (const item of await queryRequisites(fixture, fixture.root)) {
      await cp(item, path.join(root, item), { recursive: true, verbatimSymlinks: true });
    }
    const cache = path.join(work, 'cache');
    const args = [
      'build',
      '--root',
      root,
      '--closure-from',
      'db',
      '--db',
      fixture.dbPath,
      fixture.root,
      '--compress',
      'gzip',
      '--cache',
      cache,
    ];
    const cold = path.join(work, 'cold.tar');
    expect((await runStorepack([...args, '-o', cold])).status).toBe(0);

    // With the jq library's bytes gone, only the cache can still give its layer.
    const library = path.join(root, fixture.items.jq, 'lib', 'libjq.so.1');
    await runCommand('chmod', ['u+w', path.dirname(library)]);
    await rm(library);
    const warm = path.join(work, 'warm.tar');
    const run = await runStorepack([...args, '-o', warm]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await sha256(warm)).toBe(await sha256(cold));

    const noCache = path.join(work, 'no-cache.tar');
    const uncached = await runStorepack([...args.slice(0, -2), '--no-cache', '-o', noCache]);
    expect(uncached.status).toBe(0);
    // Read from the store, the image lacks the library, so the warm build did not read the store.
    expect(await sha256(noCache)).not.toBe(await sha256(cold));
  });
});

describe('storepack build with one cache for two builds', () => {
  it('gives both builds a correct image', async () => {
    const cache = path.join(work, 'shared-cache');
    const outputs = ['first', 'second'].map((name) => path.join(work, `shared-${name}.tar`));
    const runs = await Promise.all(
      outputs.map((output) =>
        runStorepack(['build', fixture.root, '--compress', 'gzip', '--cache', cache, '-o', output]),
      ),
    );
    for (const run of runs) {
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    }

    expect(await sha256(outputs[1] as string)).toBe(await sha256(outputs[0] as string));
    // skopeo checks every blob's digest as it copies.
    await runCommand('skopeo', [
      'copy',
      '-q',
      `docker-archive:${outputs[0]}`,
      `oci:${path.join(work, 'shared-copy')}:x`,
    ]);
    const leftovers = (await readdir(path.join(cache, 'blobs', 'sha256'))).filter((name) =>
      name.startsWith('.'),
    );
    expect(leftovers).toEqual([]);
  });
});

describe('storepack build layer flags with bad input', () => {
  // Each case is a usage error that writes nothing.
  it.each([
    ['an unknown planner', ['--layers', 'random'], /invalid --layers "random"/],
    ['no layers', ['--max-layers', '0'], /invalid --max-layers "0"/],
    ['more layers than runtimes take', ['--max-layers', '126'], /invalid --max-layers "126"/],
    ['an unknown compression', ['--compress', 'lz4'], /invalid --compress "lz4"/],
    ['--cache with --no-cache', ['--cache', '/tmp/x', '--no-cache'], /contradict/],
    [
      'zstd in a docker-archive',
      ['--compress', 'zstd'],
      /a docker-archive takes uncompressed or gzip layers/,
    ],
  ])('rejects %s', async (_case, args, message) => {
    const folder = await mkdtemp(path.join(work, 'bad-'));
    const run = await runStorepack([
      'build',
      fixture.root,
      ...args,
      '-o',
      path.join(folder, 'out.tar'),
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await readdir(folder)).toEqual([]);
  });
});
