import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildNixClosure,
  type NixClosureFixture,
  podmanLoad,
  runCommand,
  runInBundle,
  skopeoInspect,
  unpackWithUmoci,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

let work: string;
let fixture: NixClosureFixture;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-settings-'));
  fixture = await buildNixClosure({ layout: 'nix' });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function layerListing(archive: string): Promise<string> {
  const { stdout } = await runCommand('sh', [
    '-c',
    `tar -xOf "$1" --wildcards '*/layer.tar' | tar -itvf -`,
    'sh',
    archive,
  ]);
  return stdout;
}

describe('storepack build settings', () => {
  it('shows in podman inspect', async () => {
    const archive = path.join(work, 'settings.tar');
    const run = await runStorepack([
      'build',
      fixture.root,
      '-o',
      archive,
      '--entrypoint',
      '["bin/hello","--loud"]',
      '--cmd',
      '["extra"]',
      '--env',
      'LANG=C.UTF-8',
      '-e',
      'GREETING=a=b',
      '--workdir',
      '/srv',
      '--user',
      '1000:1000',
      '--label',
      'org.opencontainers.image.title=hello',
      '--expose',
      '8080',
      '--expose',
      '53/udp',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const { inspect } = await podmanLoad({ archive });
    const config = (inspect[0] as { Config: Record<string, unknown> }).Config;
    expect(config.Entrypoint).toEqual([`${fixture.root}/bin/hello`, '--loud']);
    expect(config.Cmd).toEqual(['extra']);
    expect(config.Env).toEqual([`PATH=${fixture.root}/bin`, 'LANG=C.UTF-8', 'GREETING=a=b']);
    expect(config.WorkingDir).toBe('/srv');
    expect(config.User).toBe('1000:1000');
    expect(config.Labels).toEqual({ 'org.opencontainers.image.title': 'hello' });
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
  });

  it('keeps the last value of a variable', async () => {
    const archive = path.join(work, 'env-twice.tar');
    const run = await runStorepack([
      'build',
      fixture.root,
      '-o',
      archive,
      '-e',
      'A=1',
      '-e',
      'B=2',
      '-e',
      'A=3',
    ]);
    expect(run.status).toBe(0);
    const { config } = await skopeoInspect(`docker-archive:${archive}`);
    expect((config as { config: { Env: string[] } }).config.Env).toEqual([
      `PATH=${fixture.root}/bin`,
      'A=3',
      'B=2',
    ]);
  });

  it('nests extra folders given in any order', async () => {
    const archive = path.join(work, 'nested-dirs.tar');
    const run = await runStorepack([
      'build',
      fixture.root,
      '-o',
      archive,
      '--extra-dir',
      '/a/b:1777',
      '--extra-dir',
      '/a:700',
      '--extra-dir',
      '/bin',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const listing = await layerListing(archive);
    expect(listing).toMatch(/^drwx------ .* a\/$/m);
    expect(listing).toMatch(/^drwxrwxrwt .* a\/b\/$/m);
    // A /bin folder asked for replaces the original's /bin link.
    expect(listing).toMatch(/^drwxr-xr-x .* bin\/$/m);
  });

  it('keeps a PATH given with --env', async () => {
    const archive = path.join(work, 'path.tar');
    expect(
      (await runStorepack(['build', fixture.root, '-o', archive, '-e', 'PATH=/bin'])).status,
    ).toBe(0);
    const { config } = await skopeoInspect(`docker-archive:${archive}`);
    expect((config as { config: { Env: string[] } }).config.Env).toEqual(['PATH=/bin']);
  });

  it('adds symlinks and extra folders', async () => {
    const archive = path.join(work, 'links.tar');
    const run = await runStorepack([
      'build',
      fixture.root,
      '-o',
      archive,
      '--symlink',
      '/usr/bin/hello=bin/hello',
      '--symlink',
      `/lib/jq=${fixture.items.jq}/lib`,
      '--extra-dir',
      '/tmp:1777',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const listing = await layerListing(archive);
    expect(listing).toMatch(new RegExp(`usr/bin/hello -> ${fixture.root}/bin/hello$`, 'm'));
    expect(listing).toMatch(new RegExp(`lib/jq -> ${fixture.items.jq}/lib$`, 'm'));
    expect(listing).toMatch(/^drwxrwxrwt 0\/0 .* tmp\/$/m);
    // Symlinks given replace the original's /bin link.
    expect(listing).not.toMatch(/ bin -> /);
  });
});

describe.each(['oci', 'oci-archive'] as const)('storepack build --format %s', (format) => {
  it('runs its entry point with runc', async () => {
    const output = path.join(work, `hello-${format}`);
    const run = await runStorepack([
      'build',
      fixture.root,
      '--format',
      format,
      '-o',
      output,
      '--entrypoint',
      'bin/hello',
      '--annotation',
      'org.opencontainers.image.source=https://example.org/hello',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const transport =
      format === 'oci' ? (`oci:${output}` as const) : (`oci-archive:${output}` as const);
    const { manifest } = await skopeoInspect(transport);
    expect(manifest).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      annotations: { 'org.opencontainers.image.source': 'https://example.org/hello' },
    });
    const { bundle, cleanup } = await unpackWithUmoci(transport);
    try {
      expect(await runInBundle(bundle)).toBe('hello from a store closure\n');
    } finally {
      await cleanup();
    }
  });
});

describe('storepack build --format oci into an existing folder', () => {
  it('adds to an earlier layout', async () => {
    const output = path.join(work, 'again');
    expect(
      (
        await runStorepack([
          'build',
          fixture.root,
          '--format',
          'oci',
          '-o',
          output,
          '-t',
          'hello:1',
        ])
      ).status,
    ).toBe(0);
    await runCommand('touch', [path.join(output, 'notes.txt')]);
    const second = [
      'build',
      fixture.root,
      '--format',
      'oci',
      '-o',
      output,
      '-t',
      'hello:2',
      '--entrypoint',
      'bin/hello',
    ];
    expect((await runStorepack(second)).status).toBe(0);

    const { stdout } = await runCommand('cat', [path.join(output, 'index.json')]);
    const refNames = JSON.parse(stdout).manifests.map(
      (entry: { annotations: Record<string, string> }) =>
        entry.annotations['org.opencontainers.image.ref.name'],
    );
    expect(refNames).toEqual(['hello:1', 'hello:2']);
    expect(await readdir(output)).toContain('notes.txt');
    expect((await readdir(work)).filter((name) => name.startsWith('.storepack-'))).toEqual([]);
    const { bundle, cleanup } = await unpackWithUmoci(`oci:${output}:hello:2`);
    try {
      expect(await runInBundle(bundle)).toBe('hello from a store closure\n');
    } finally {
      await cleanup();
    }
  });

  it('replaces an entry with the same tag', async () => {
    const output = path.join(work, 'retag');
    for (const entrypoint of ['bin/hello', 'bin/jq']) {
      const run = await runStorepack([
        'build',
        fixture.root,
        '--format',
        'oci',
        '-o',
        output,
        '-t',
        'hello:1',
        '--entrypoint',
        entrypoint,
      ]);
      expect(run.status).toBe(0);
    }
    const { stdout } = await runCommand('cat', [path.join(output, 'index.json')]);
    expect(JSON.parse(stdout).manifests).toHaveLength(1);
    const { config } = await skopeoInspect(`oci:${output}:hello:1`);
    expect((config as { config: { Entrypoint: string[] } }).config.Entrypoint).toEqual([
      `${fixture.root}/bin/jq`,
    ]);
  });

  it('rejects a folder that is not a layout', async () => {
    const output = await mkdtemp(path.join(work, 'occupied-'));
    await runCommand('touch', [path.join(output, 'notes.txt')]);
    const run = await runStorepack(['build', fixture.root, '--format', 'oci', '-o', output]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `storepack: writing ${output}: it exists and is not an OCI image layout: remove it or choose another path\n`,
    );
    expect(await readdir(output)).toEqual(['notes.txt']);
  });
});

describe('storepack build settings with bad input', () => {
  // Each case is a usage error with one line that names the value, and writes nothing.
  it.each([
    ['an --env without "="', ['--env', 'LANG'], /invalid --env "LANG": expected NAME=VALUE/],
    ['an --env without a name', ['--env', '=x'], /invalid --env "=x"/],
    ['a port past 65535', ['--expose', '70000'], /invalid --expose "70000"/],
    ['a port of another protocol', ['--expose', '80/http'], /invalid --expose "80\/http"/],
    [
      'a symlink target outside the image',
      ['--symlink', '/passwd=/etc/passwd'],
      /target \/etc\/passwd is outside the image/,
    ],
    [
      'a symlink target escaping the item',
      ['--symlink', '/x=../../../etc'],
      /is outside the image/,
    ],
    ['a relative symlink path', ['--symlink', 'bin=bin'], /LINK must be an absolute path/],
    [
      'an extra folder without a slash',
      ['--extra-dir', 'tmp:1777'],
      /invalid --extra-dir "tmp:1777"/,
    ],
    ['an entry point that is bad JSON', ['--entrypoint', '["bin/hello"'], /invalid --entrypoint/],
    ['a relative working folder', ['--workdir', 'srv'], /invalid --workdir "srv"/],
    ['an unknown format', ['--format', 'zip'], /invalid --format "zip"/],
    [
      'an annotation on a docker-archive',
      ['--annotation', 'a=b'],
      /--annotation needs --format oci/,
    ],
    [
      'a creation time that is no time',
      ['--created', 'yesterday'],
      /invalid --created "yesterday"/,
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
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(folder)).toEqual([]);
  });

  it('rejects an OCI layout on standard output', async () => {
    const run = await runStorepack(['build', fixture.root, '--format', 'oci', '-o', '-']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/an OCI layout is a folder and cannot go to a stream/);
    expect(run.stdout.length).toBe(0);
  });
});
