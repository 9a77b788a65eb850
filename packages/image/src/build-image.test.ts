import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from './build-image.js';

const app = '/gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0';
const data = '/gnu/store/9x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-data-1.0';

let work: string;
let root: string;

// A two-item store under `root`, without a database: app refers to data by its store path.
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-build-image-'));
  root = path.join(work, 'root');
  await mkdir(path.join(root, app, 'bin'), { recursive: true });
  await writeFile(path.join(root, app, 'bin', 'app'), `#!/bin/sh\ncat ${data}/message\n`, {
    mode: 0o755,
  });
  await mkdir(path.join(root, data), { recursive: true });
  await writeFile(path.join(root, data, 'message'), 'hi\n');
  await symlink(`${data}/message`, path.join(root, app, 'message'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function extract(archive: string): Promise<string> {
  const folder = await mkdtemp(path.join(work, 'extracted-'));
  await runCommand('tar', ['-xf', archive, '-C', folder]);
  return folder;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('buildImage', () => {
  it('writes a self-consistent docker-archive', async () => {
    const archive = path.join(work, 'app.tar');
    const result = await buildImage(
      { paths: [app], root, system: 'aarch64-linux', tags: ['app:1.0'], planner: 'single' },
      { path: archive },
    );
    const folder = await extract(archive);

    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    expect(manifest).toHaveLength(1);
    const [entry] = manifest;
    expect(entry.RepoTags).toEqual(['app:1.0']);
    expect(entry.Layers).toHaveLength(1);

    // The config file is named after its digest, and contains the layer's diff ID.
    const configBytes = await readFile(path.join(folder, entry.Config));
    expect(entry.Config).toBe(`${sha256(configBytes)}.json`);
    expect(result.configDigest).toBe(`sha256:${sha256(configBytes)}`);
    const config = JSON.parse(configBytes.toString());
    const layerBytes = await readFile(path.join(folder, entry.Layers[0]));
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [`sha256:${sha256(layerBytes)}`] });
    expect(config).toMatchObject({
      architecture: 'arm64',
      variant: 'v8',
      os: 'linux',
      created: '1970-01-01T00:00:01Z',
    });
    expect(config.history).toHaveLength(1);

    const layerId = path.dirname(entry.Layers[0]);
    expect(await readFile(path.join(folder, layerId, 'VERSION'), 'utf8')).toBe('1.0');
    expect(JSON.parse(await readFile(path.join(folder, layerId, 'json'), 'utf8'))).toMatchObject({
      id: layerId,
    });
    expect(JSON.parse(await readFile(path.join(folder, 'repositories'), 'utf8'))).toEqual({
      app: { '1.0': layerId },
    });
    expect(result.layers).toEqual([
      { id: layerId, size: layerBytes.length, diffId: `sha256:${sha256(layerBytes)}` },
    ]);
  });

  it('gives each store item its own layer by default', async () => {
    const archive = path.join(work, 'layered.tar');
    const result = await buildImage({ paths: [app], root }, { path: archive });
    const folder = await extract(archive);
    const [entry] = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    const config = JSON.parse(await readFile(path.join(folder, entry.Config), 'utf8'));

    // app, data, then the /bin link in a layer of its own.
    expect(entry.Layers).toHaveLength(3);
    const diffIds: string[] = [];
    for (const layerPath of entry.Layers) {
      diffIds.push(`sha256:${sha256(await readFile(path.join(folder, layerPath)))}`);
    }
    expect(config.rootfs.diff_ids).toEqual(diffIds);
    expect(result.layers.map((layer) => layer.diffId)).toEqual(diffIds);
    const { stdout } = await runCommand('tar', ['-tf', path.join(folder, entry.Layers[2])]);
    expect(stdout.trim().split('\n')).toEqual(['bin', 'gnu/', 'gnu/store/']);
  });

  it('puts the closure and the /bin link in the layer', async () => {
    const archive = path.join(work, 'layer.tar');
    await buildImage({ paths: [app], root, planner: 'single' }, { path: archive });
    const { stdout } = await runCommand('sh', [
      '-c',
      `tar -xOf "$1" --wildcards '*/layer.tar' | tar -itf -`,
      'sh',
      archive,
    ]);

    expect(stdout.trim().split('\n')).toEqual([
      'bin',
      'gnu/',
      'gnu/store/',
      'gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0/',
      'gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0/bin/',
      'gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0/bin/app',
      'gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0/message',
      'gnu/store/9x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-data-1.0/',
      'gnu/store/9x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-data-1.0/message',
    ]);
  });

  it('adds no /bin link for an item without bin/', async () => {
    const archive = path.join(work, 'data.tar');
    await buildImage({ paths: [data], root }, { path: archive });
    const { stdout } = await runCommand('sh', [
      '-c',
      `tar -xOf "$1" --wildcards '*/layer.tar' | tar -itf -`,
      'sh',
      archive,
    ]);
    expect(stdout.split('\n')).not.toContain('bin');
  });

  it.each([
    ['an unknown system', { system: 'x86_64-darwin' }, /unknown system "x86_64-darwin"/],
    ['an invalid tag', { tags: ['App:1'] }, /App:1/],
    ['an invalid creation time', { created: new Date(Number.NaN) }, /invalid creation time/],
  ])('rejects %s before touching the target', async (_case, options, message) => {
    const folder = await mkdtemp(path.join(work, 'rejected-'));
    await expect(
      buildImage({ paths: [app], root, ...options }, { path: path.join(folder, 'out.tar') }),
    ).rejects.toThrow(message);
    expect(await readdir(folder)).toEqual([]);
  });
});
