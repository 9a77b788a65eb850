import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildNixClosure,
  type NixClosureFixture,
  type RegistryServer,
  runCommand,
  runInBundle,
  startRegistry,
  unpackWithUmoci,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

let work: string;
let fixture: NixClosureFixture;
let registry: RegistryServer;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-build-push-'));
  fixture = await buildNixClosure({ layout: 'nix' });
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('storepack build --push', () => {
  it('pushes an image that runs', async () => {
    const reference = `${registry.host}/team/hello:1`;
    const run = await runStorepack([
      'build',
      fixture.root,
      '--entrypoint',
      'bin/hello',
      '--push',
      reference,
      '--insecure-registry',
      registry.host,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toContain(`Pushed: ${reference}`);

    const pulled = path.join(work, 'pulled');
    await runCommand('skopeo', [
      'copy',
      '-q',
      '--src-tls-verify=false',
      `docker://${reference}`,
      `oci:${pulled}:pulled`,
    ]);
    const { bundle, cleanup } = await unpackWithUmoci(`oci:${pulled}:pulled`);
    try {
      expect(await runInBundle(bundle)).toBe('hello from a store closure\n');
    } finally {
      await cleanup();
    }
  });

  it('uploads nothing the second time', async () => {
    const reference = `${registry.host}/team/again:1`;
    const args = ['build', fixture.root, '--push', reference, '--insecure-registry', registry.host];
    expect((await runStorepack(args)).status).toBe(0);
    const before = (await registry.requests()).length;

    const run = await runStorepack(args);
    expect(run.status).toBe(0);
    const uploads = (await registry.requests())
      .slice(before)
      .filter((request) => request.path.includes('/blobs/uploads'));
    expect(uploads).toEqual([]);
  });

  it('gives a docker-archive and a build the same digest', async () => {
    const archive = path.join(work, 'same.tar');
    expect((await runStorepack(['build', fixture.root, '-o', archive])).status).toBe(0);
    const fromArchive = await runStorepack([
      'push',
      '--json',
      '--insecure-registry',
      registry.host,
      archive,
      `${registry.host}/team/same:a`,
    ]);
    const fromBuild = await runStorepack([
      'build',
      fixture.root,
      '--json',
      '--insecure-registry',
      registry.host,
      '--push',
      `${registry.host}/team/same:b`,
    ]);
    expect(fromArchive.status).toBe(0);
    expect(fromBuild.status).toBe(0);
    expect(JSON.parse(fromArchive.stdout.toString()).manifestDigest).toBe(
      JSON.parse(fromBuild.stdout.toString()).manifestDigest,
    );
  });

  it('pushes the image of the tag from a layout of two', async () => {
    const layout = path.join(work, 'two-images');
    for (const [tag, entrypoint] of [
      ['hello:1', 'bin/hello'],
      ['hello:2', 'bin/jq'],
    ] as const) {
      const run = await runStorepack([
        'build',
        fixture.root,
        '--format',
        'oci',
        '-o',
        layout,
        '-t',
        tag,
        '--entrypoint',
        entrypoint,
      ]);
      expect(run.status).toBe(0);
    }
    const reference = `${registry.host}/team/chosen:2`;
    const run = await runStorepack([
      'push',
      '--insecure-registry',
      registry.host,
      layout,
      reference,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const { stdout } = await runCommand('skopeo', [
      'inspect',
      '--config',
      '--tls-verify=false',
      `docker://${reference}`,
    ]);
    expect(JSON.parse(stdout).config.Entrypoint).toEqual([`${fixture.root}/bin/jq`]);
  });

  it.each([
    ['a reference without a registry host', ['--push', 'hello:1'], /hello:1/],
    [
      '--push with -o',
      ['--push', '127.0.0.1:1/x:1', '-o', 'x.tar'],
      /--push sends the image to a registry and writes no file/,
    ],
    [
      '--insecure-registry alone',
      ['--insecure-registry', '127.0.0.1:1'],
      /--insecure-registry applies to --push only/,
    ],
  ])('rejects %s', async (_case, args, message) => {
    const before = (await registry.requests()).length;
    const run = await runStorepack(['build', fixture.root, ...args], { cwd: work });

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect((await registry.requests()).length).toBe(before);
  });
});
