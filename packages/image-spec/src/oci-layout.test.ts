import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Annotations } from './annotations.js';
import { canonicalJson } from './canonical-json.js';
import { createDescriptor } from './descriptor.js';
import { computeDigest, type Digest } from './digest.js';
import { createImageConfig } from './image-config.js';
import { validateIndex, validateManifest, validateOciLayout } from './manifest-validation.js';
import { MediaTypes } from './media-types.js';
import { createOciIndex } from './oci-index.js';
import { blobPath, createOciLayout, OCI_INDEX_FILE, OCI_LAYOUT_FILE } from './oci-layout.js';
import { createOciManifest } from './oci-manifest.js';
import { platformFromSystem } from './platform.js';

describe('createDescriptor', () => {
  it('computes digest and size from UTF-8 bytes', () => {
    const descriptor = createDescriptor(MediaTypes.ociConfig, '{"é":1}');
    expect(descriptor).toEqual({
      mediaType: MediaTypes.ociConfig,
      digest: computeDigest('{"é":1}'),
      size: 8,
    });
  });

  it('keeps extra fields', () => {
    const descriptor = createDescriptor(MediaTypes.ociManifest, new Uint8Array(3), {
      annotations: { [Annotations.refName]: 'latest' },
    });
    expect(descriptor.size).toBe(3);
    expect(descriptor.annotations).toEqual({ 'org.opencontainers.image.ref.name': 'latest' });
  });
});

describe('blobPath', () => {
  it('places a blob under its algorithm', () => {
    const digest = computeDigest('x');
    expect(blobPath(digest)).toBe(`blobs/sha256/${digest.slice(7)}`);
  });

  it('rejects a digest that would leave blobs/', () => {
    expect(() => blobPath('sha256:../../etc/passwd' as Digest)).toThrow(
      expect.objectContaining({ code: 'INVALID_DIGEST' }),
    );
  });
});

describe('OCI layout read by skopeo and umoci', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'image-spec-oci-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('unpacks the layer and keeps every digest', async () => {
    // A gzip layer made by GNU tar and gzip with fixed metadata.
    const root = path.join(work, 'root');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc', 'hello'), 'hello from an OCI layout\n');
    const layerTar = execFileSync('tar', [
      '--create',
      '--sort=name',
      '--mtime=@1',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--directory',
      root,
      'etc',
    ]);
    const layerGzip = execFileSync('gzip', ['--no-name', '--stdout'], { input: layerTar });

    const config = canonicalJson(
      createImageConfig({
        platform: platformFromSystem('aarch64-linux'),
        created: new Date(1000),
        diffIds: [computeDigest(layerTar)],
        config: { Cmd: ['/bin/hello'] },
      }),
    );
    const configDescriptor = createDescriptor(MediaTypes.ociConfig, config);
    const layerDescriptor = createDescriptor(MediaTypes.ociLayerGzip, layerGzip);
    const manifest = canonicalJson(
      createOciManifest({ config: configDescriptor, layers: [layerDescriptor] }),
    );
    const manifestDescriptor = createDescriptor(MediaTypes.ociManifest, manifest, {
      annotations: { [Annotations.refName]: 'test' },
      platform: platformFromSystem('aarch64-linux'),
    });
    const index = createOciIndex([manifestDescriptor]);

    expect(validateManifest(JSON.parse(manifest))).toEqual([]);
    expect(validateIndex(index)).toEqual([]);
    expect(validateOciLayout(createOciLayout())).toEqual([]);

    const layout = path.join(work, 'layout');
    for (const [descriptor, bytes] of [
      [configDescriptor, config],
      [layerDescriptor, layerGzip],
      [manifestDescriptor, manifest],
    ] as const) {
      const file = path.join(layout, blobPath(descriptor.digest));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
    }
    await writeFile(path.join(layout, OCI_LAYOUT_FILE), canonicalJson(createOciLayout()));
    await writeFile(path.join(layout, OCI_INDEX_FILE), canonicalJson(index));

    const readConfig = execFileSync('skopeo', [
      'inspect',
      '--config',
      '--raw',
      `oci:${layout}:test`,
    ]);
    expect(computeDigest(readConfig)).toBe(configDescriptor.digest);

    // umoci checks each blob against its descriptor before it extracts the layer.
    const bundle = path.join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${layout}:test`, bundle]);
    expect(await readFile(path.join(bundle, 'rootfs', 'etc', 'hello'), 'utf8')).toBe(
      'hello from an OCI layout\n',
    );
  });

  it('validates what skopeo writes', async () => {
    const layout = path.join(work, 'layout');
    execFileSync('umoci', ['init', '--layout', layout]);
    execFileSync('umoci', ['new', '--image', `${layout}:base`]);
    const copy = path.join(work, 'copy');
    execFileSync('skopeo', [
      '--insecure-policy',
      'copy',
      '-q',
      `oci:${layout}:base`,
      `oci:${copy}:copied`,
    ]);
    const archive = path.join(work, 'image.tar');
    execFileSync('skopeo', [
      '--insecure-policy',
      'copy',
      '-q',
      `oci:${layout}:base`,
      `docker-archive:${archive}:copied:1`,
    ]);

    const index = JSON.parse(await readFile(path.join(copy, OCI_INDEX_FILE), 'utf8'));
    const ociManifest = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `oci:${copy}:copied`]).toString(),
    );
    const dockerManifest = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${archive}`]).toString(),
    );
    const layoutFile = JSON.parse(await readFile(path.join(copy, OCI_LAYOUT_FILE), 'utf8'));

    expect(dockerManifest.mediaType).toBe(MediaTypes.dockerManifest);
    expect(validateIndex(index)).toEqual([]);
    expect(validateManifest(ociManifest)).toEqual([]);
    expect(validateManifest(dockerManifest)).toEqual([]);
    expect(validateOciLayout(layoutFile)).toEqual([]);
  });
});
