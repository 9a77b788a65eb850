import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { computeDigest, parseDigest } from './digest.js';
import {
  createRepositories,
  type DockerArchiveManifest,
  isLegacyLayerId,
  LEGACY_LAYER_VERSION,
  type LegacyLayerJson,
} from './docker-archive.js';
import { createImageConfig } from './image-config.js';
import { platformFromSystem } from './platform.js';

const LAYER_ID = 'a'.repeat(64);

describe('createRepositories', () => {
  it('maps every tag to the top layer', () => {
    expect(
      createRepositories(['hello:2.12', 'hello', 'registry:5000/team/hello:1'], LAYER_ID),
    ).toEqual({
      hello: { '2.12': LAYER_ID, latest: LAYER_ID },
      'registry:5000/team/hello': { '1': LAYER_ID },
    });
  });

  it('returns an empty object for no tags', () => {
    expect(createRepositories([], LAYER_ID)).toEqual({});
  });

  it('keeps names that are Object.prototype members as plain keys', () => {
    const repositories = createRepositories(['constructor:__proto__'], LAYER_ID);
    expect(JSON.stringify(repositories)).toBe(`{"constructor":{"__proto__":"${LAYER_ID}"}}`);
  });

  it.each([
    // A digest, not a bare layer ID.
    [`sha256:${LAYER_ID}`],
    // Too short.
    ['abc'],
    // Upper-case hex.
    ['A'.repeat(64)],
  ])('rejects top layer ID %s', (layerId) => {
    expect(() => createRepositories(['hello:1'], layerId)).toThrow(
      expect.objectContaining({ code: 'INVALID_LAYER_ID' }),
    );
  });

  it('rejects a malformed tag', () => {
    expect(() => createRepositories(['Hello:1'], LAYER_ID)).toThrow(
      expect.objectContaining({ code: 'INVALID_REFERENCE' }),
    );
  });
});

describe('isLegacyLayerId', () => {
  it('accepts 64 lower-case hex digits only', () => {
    expect(isLegacyLayerId(LAYER_ID)).toBe(true);
    expect(isLegacyLayerId(`${LAYER_ID}0`)).toBe(false);
    expect(isLegacyLayerId(`sha256:${LAYER_ID}`)).toBe(false);
  });
});

describe('docker-archive read by skopeo', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'image-spec-archive-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('reads back config, manifest and layer digests', async () => {
    // One layer tar made by GNU tar, with every header field fixed.
    const root = path.join(work, 'root');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc', 'hello'), 'hello from image-spec\n');
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
    const diffId = computeDigest(layerTar);
    const layerId = parseDigest(diffId).encoded;

    const created = new Date(1000);
    const platform = platformFromSystem('x86_64-linux');
    const config = createImageConfig({
      platform,
      created,
      diffIds: [diffId],
      config: { Cmd: ['/bin/hello'], Env: ['PATH=/bin'], Labels: { 'org.example': 'x' } },
      history: [{ created: '1970-01-01T00:00:01Z', created_by: 'image-spec test' }],
    });
    const configBytes = canonicalJson(config);
    const configDigest = computeDigest(configBytes);
    const configName = `${parseDigest(configDigest).encoded}.json`;

    const legacy: LegacyLayerJson = {
      id: layerId,
      created: config.created ?? '',
      container_config: null,
      os: platform.os,
      architecture: platform.architecture,
    };
    const manifest: DockerArchiveManifest = [
      { Config: configName, RepoTags: ['hello:2.12'], Layers: [`${layerId}/layer.tar`] },
    ];

    const tree = path.join(work, 'archive');
    await mkdir(path.join(tree, layerId), { recursive: true });
    await writeFile(path.join(tree, layerId, 'layer.tar'), layerTar);
    await writeFile(path.join(tree, layerId, 'VERSION'), LEGACY_LAYER_VERSION);
    await writeFile(path.join(tree, layerId, 'json'), canonicalJson(legacy));
    await writeFile(path.join(tree, configName), configBytes);
    await writeFile(path.join(tree, 'manifest.json'), canonicalJson(manifest));
    await writeFile(
      path.join(tree, 'repositories'),
      canonicalJson(createRepositories(['hello:2.12'], layerId)),
    );
    const archive = path.join(work, 'hello.tar');
    execFileSync('tar', ['--create', '--file', archive, '--directory', tree, '.']);

    const image = `docker-archive:${archive}`;
    const readConfig = execFileSync('skopeo', ['inspect', '--config', '--raw', image]);
    expect(computeDigest(readConfig)).toBe(configDigest);

    const readManifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', image]).toString());
    expect(readManifest.config.digest).toBe(configDigest);
    expect(readManifest.layers.map((layer: { digest: string }) => layer.digest)).toEqual([diffId]);

    // skopeo copy checks every blob against its digest while it copies.
    const layout = path.join(work, 'oci');
    execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', image, `oci:${layout}:check`]);
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(1);
  });
});
