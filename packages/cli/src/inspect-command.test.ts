import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand, skopeoInspect } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

const exampleStore = path.resolve(import.meta.dirname, '../../../example/store');
const exampleHello = '/nix/store/z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2.12';

let work: string;
let archive: string;
let layout: string;

// The example image as storepack writes it, and as skopeo copies it into an OCI layout.
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-inspect-test-'));
  archive = path.join(work, 'hello.tar');
  layout = path.join(work, 'hello-oci');
  const build = await runStorepack([
    'build',
    '--root',
    exampleStore,
    '--system',
    'x86_64-linux',
    '--tag',
    'hello:2.12',
    '--layers',
    'single',
    exampleHello,
    '-o',
    archive,
  ]);
  expect(build.stderr).toBe('');
  await runCommand('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci:${layout}:2.12`]);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Reads an image's manifest with skopeo and returns its config digest and layer digests. */
async function skopeoDigests(transport: Parameters<typeof skopeoInspect>[0]) {
  const { manifest } = await skopeoInspect(transport);
  const { config, layers } = manifest as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  return { configDigest: config.digest, layerDigests: layers.map((layer) => layer.digest) };
}

/** Copies the OCI layout and removes its config blob, which leaves exactly one issue. */
async function layoutWithoutConfig(): Promise<{ image: string; issue: string }> {
  const image = path.join(work, `broken-${Math.random().toString(36).slice(2)}`);
  await runCommand('cp', ['-r', layout, image]);
  const index = JSON.parse(await readFile(path.join(image, 'index.json'), 'utf8'));
  const manifestHex = index.manifests[0].digest.slice(7);
  const manifest = JSON.parse(
    await readFile(path.join(image, 'blobs', 'sha256', manifestHex), 'utf8'),
  );
  const configDigest = manifest.config.digest as string;
  await rm(path.join(image, 'blobs', 'sha256', configDigest.slice(7)));
  return {
    image,
    issue: `blobs/sha256/${manifestHex}.config.digest: expected config blob ${configDigest}, found none`,
  };
}

describe('storepack inspect', () => {
  it('summarises a valid docker-archive', async () => {
    const run = await runStorepack(['inspect', archive]);
    const { configDigest, layerDigests } = await skopeoDigests(`docker-archive:${archive}`);
    const lines = run.stdout.toString().split('\n');

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(lines).toContain('Format:        docker-archive');
    expect(lines).toContain('References:    hello:2.12');
    expect(lines).toContain('Platform:      linux/amd64');
    expect(lines).toContain(`Config:        ${configDigest}`);
    expect(lines).toContain('Created:       1970-01-01T00:00:01Z');
    expect(lines).toContain('Layers:        1');
    expect(run.stdout.toString()).toContain(`1. ${layerDigests[0]}  `);
    expect(lines).toContain('Valid: no issues found');
  });

  it('prints one JSON object with --json', async () => {
    const run = await runStorepack(['inspect', '--json', layout]);
    const { configDigest, layerDigests } = await skopeoDigests(`oci:${layout}:2.12`);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const inspection = JSON.parse(run.stdout.toString());
    expect(inspection).toMatchObject({
      format: 'oci-layout',
      references: ['2.12'],
      issues: [],
    });
    expect(inspection.manifests).toHaveLength(1);
    const [manifest] = inspection.manifests;
    expect(manifest.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(manifest.configDigest).toBe(configDigest);
    expect(manifest.entrypoint).toBeNull();
    expect(manifest.layers.map((layer: { digest: string }) => layer.digest)).toEqual(layerDigests);
    expect(manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(manifest.layers[0].diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(manifest)).toEqual([
      'digest',
      'references',
      'platform',
      'configDigest',
      'created',
      'entrypoint',
      'cmd',
      'env',
      'workingDir',
      'user',
      'layers',
      'totalSize',
    ]);
  });

  it('lists the issues of an invalid image', async () => {
    const { image, issue } = await layoutWithoutConfig();
    const run = await runStorepack(['inspect', image]);
    const lines = run.stdout.toString().split('\n');

    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(lines).toContain('Format:        oci-layout');
    expect(lines).toContain('Invalid: 1 issue');
    expect(lines).toContain(issue);
  });

  it('puts the issues in the JSON object', async () => {
    const { image, issue } = await layoutWithoutConfig();
    const run = await runStorepack(['inspect', '--json', image]);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const { issues } = JSON.parse(run.stdout.toString());
    expect(
      issues.map((found: { path: string; message: string }) => `${found.path}: ${found.message}`),
    ).toEqual([issue]);
  });

  it.each([
    ['a missing file', async () => path.join(work, 'missing.tar'), /: no such file or directory$/],
    [
      'a file that is not an image',
      async () => {
        const file = path.join(work, 'notes.txt');
        await writeFile(file, 'not an image\n');
        return file;
      },
      /: not a tar archive: unexpected end of data$/,
    ],
    [
      'an empty folder',
      async () => mkdtemp(path.join(work, 'empty-')),
      /: not an OCI image layout: found no oci-layout or index\.json$/,
    ],
  ])('fails on %s with one line', async (_case, makeImage, message) => {
    const image = await makeImage();
    const run = await runStorepack(['inspect', image]);

    expect(run.status).toBe(1);
    expect(run.stdout.toString()).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(`storepack: reading ${image}: `);
    expect(lines[0]).toMatch(message);
  });

  it.each([
    ['no image', [], /no image given/],
    ['two images', ['a.tar', 'b.tar'], /expected one image, found 2: a\.tar b\.tar/],
    ['an unknown option', ['--frobnicate', 'a.tar'], /frobnicate/],
  ])('rejects %s as a usage error', async (_case, args, message) => {
    const run = await runStorepack(['inspect', ...args]);

    expect(run.status).toBe(2);
    expect(run.stdout.toString()).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('escapes control characters from the image', async () => {
    const image = path.join(work, 'controls.tar');
    const build = await runStorepack([
      'build',
      '--root',
      exampleStore,
      exampleHello,
      '-o',
      image,
      '--env',
      'TITLE=\u001b]0;owned\u0007',
      '--workdir',
      '/srv\nValid: forged line',
    ]);
    expect(build.status).toBe(0);

    const run = await runStorepack(['inspect', image]);
    const text = run.stdout.toString();
    expect(text).toContain('TITLE=\\x1b]0;owned\\x07');
    expect(text).toContain('/srv\\x0aValid: forged line');
    expect(text).not.toContain('\u001b');
    expect(text.split('\n').filter((line) => line.startsWith('Valid:'))).toHaveLength(1);
  });

  it('prints its help', async () => {
    const run = await runStorepack(['inspect', '--help']);

    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toMatch(/^Usage: storepack inspect \[OPTION\]\.\.\. IMAGE\n/);
    expect(run.stdout.toString()).toContain('Examples:');
  });

  it('is listed in the main help', async () => {
    const run = await runStorepack(['--help']);
    expect(run.stdout.toString()).toMatch(
      /^ {2}inspect +print a summary of an image and check it$/m,
    );
  });
});
