import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand, skopeoInspect } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from './build-image.js';
import { inspectImage } from './inspect-image.js';

const app = '/gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0';
const data = '/gnu/store/9x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-data-1.0';

let work: string;
let root: string;
let appArchive: string;

// A two-item store under `root`, without a database, and its image as storepack writes it.
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-inspect-image-'));
  root = path.join(work, 'root');
  await mkdir(path.join(root, app, 'bin'), { recursive: true });
  await writeFile(path.join(root, app, 'bin', 'app'), `#!/bin/sh\ncat ${data}/message\n`, {
    mode: 0o755,
  });
  await mkdir(path.join(root, data), { recursive: true });
  await writeFile(path.join(root, data, 'message'), 'hi\n');
  await symlink(`${data}/message`, path.join(root, app, 'message'));

  appArchive = path.join(work, 'app.tar');
  await buildImage(
    { paths: [app], root, system: 'x86_64-linux', tags: ['app:1.0'], planner: 'single' },
    { path: appArchive },
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Loads `archive` into a scratch podman store (the vfs driver needs no privileges) and saves it
 * again in `format`. The store sits right under the temporary folder because podman rejects a
 * runroot path longer than 50 characters.
 */
async function podmanResave(archive: string, format: string, output: string): Promise<void> {
  const store = await mkdtemp(path.join(os.tmpdir(), 'sp-podman-'));
  const options = ['--root', path.join(store, 'root'), '--runroot', path.join(store, 'run')];
  const podman = (args: string[]) =>
    runCommand('podman', [...options, '--storage-driver', 'vfs', ...args]);
  try {
    await podman(['load', '-q', '-i', archive]);
    await podman(['save', '-q', '--format', format, '-o', output, 'app:1.0']);
  } finally {
    await rm(store, { recursive: true, force: true });
  }
}

/** Reads an image's manifest with skopeo and returns its config digest and layer digests and sizes. */
async function skopeoManifest(transport: Parameters<typeof skopeoInspect>[0]) {
  const { manifest } = await skopeoInspect(transport);
  const { config, layers } = manifest as {
    config: { digest: string };
    layers: { digest: string; size: number }[];
  };
  return {
    configDigest: config.digest,
    layers: layers.map(({ digest, size }) => ({ digest, size })),
  };
}

/** Builds an OCI layout with umoci alone: a new image, a config, an inserted folder and a repack. */
async function umociLayout(): Promise<string> {
  const layout = path.join(work, 'umoci');
  const bundle = path.join(work, 'umoci-bundle');
  const inserted = path.join(work, 'umoci-insert');
  await mkdir(inserted);
  await writeFile(path.join(inserted, 'greeting'), 'hello\n');

  await runCommand('umoci', ['init', '--layout', layout]);
  await runCommand('umoci', ['new', '--image', `${layout}:t`]);
  await runCommand('umoci', [
    'config',
    '--image',
    `${layout}:t`,
    '--os',
    'linux',
    '--architecture',
    'arm64',
    '--config.entrypoint',
    '/bin/app',
    '--config.env',
    'LANG=C.UTF-8',
  ]);
  await runCommand('umoci', ['insert', '--image', `${layout}:t`, inserted, '/srv']);
  await runCommand('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
  await writeFile(path.join(bundle, 'rootfs', 'added'), 'added by repack\n');
  await runCommand('umoci', ['repack', '--image', `${layout}:t`, bundle]);
  return layout;
}

// Each case makes an image with a real tool and gives the skopeo transport that reads it.
const sources: [string, () => Promise<{ image: string; transport: string }>][] = [
  [
    'storepack build',
    async () => ({ image: appArchive, transport: `docker-archive:${appArchive}` }),
  ],
  [
    'skopeo copy to an OCI layout',
    async () => {
      const layout = path.join(work, 'skopeo-oci');
      await runCommand('skopeo', [
        'copy',
        '-q',
        `docker-archive:${appArchive}`,
        `oci:${layout}:1.0`,
      ]);
      return { image: layout, transport: `oci:${layout}:1.0` };
    },
  ],
  [
    'skopeo copy to an oci-archive',
    async () => {
      const archive = path.join(work, 'skopeo-oci.tar');
      await runCommand('skopeo', [
        'copy',
        '-q',
        `docker-archive:${appArchive}`,
        `oci-archive:${archive}:1.0`,
      ]);
      return { image: archive, transport: `oci-archive:${archive}` };
    },
  ],
  [
    'skopeo copy of a gzip OCI layout to a docker-archive',
    async () => {
      const layout = path.join(work, 'skopeo-gzip');
      const archive = path.join(work, 'skopeo-docker.tar');
      await runCommand('skopeo', [
        'copy',
        '-q',
        '--dest-compress-format',
        'gzip',
        `docker-archive:${appArchive}`,
        `oci:${layout}:1.0`,
      ]);
      await runCommand('skopeo', [
        'copy',
        '-q',
        `oci:${layout}:1.0`,
        `docker-archive:${archive}:app:2`,
      ]);
      return { image: archive, transport: `docker-archive:${archive}` };
    },
  ],
  [
    'skopeo copy to a zstd OCI layout',
    async () => {
      const layout = path.join(work, 'skopeo-zstd');
      await runCommand('skopeo', [
        'copy',
        '-q',
        '--dest-compress-format',
        'zstd',
        `docker-archive:${appArchive}`,
        `oci:${layout}:1.0`,
      ]);
      return { image: layout, transport: `oci:${layout}:1.0` };
    },
  ],
  ...(['docker-archive', 'oci-archive'] as const).map(
    (format): [string, () => Promise<{ image: string; transport: string }>] => [
      `podman save --format ${format}`,
      async () => {
        const archive = path.join(work, `podman-${format}.tar`);
        await podmanResave(appArchive, format, archive);
        return { image: archive, transport: `${format}:${archive}` };
      },
    ],
  ),
];

describe('inspectImage on images made by real tools', () => {
  it.each(sources)('reads %s', async (_tool, make) => {
    const { image, transport } = await make();
    const inspection = await inspectImage(image);
    const expected = await skopeoManifest(transport as Parameters<typeof skopeoInspect>[0]);

    expect(inspection.issues).toEqual([]);
    expect(inspection.manifests).toHaveLength(1);
    const [manifest] = inspection.manifests;
    expect(manifest?.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(manifest?.configDigest).toBe(expected.configDigest);
    expect(manifest?.layers.map(({ digest, size }) => ({ digest, size }))).toEqual(expected.layers);
    expect(manifest?.created).toBe('1970-01-01T00:00:01Z');
  });

  it('computes the diff ID of gzip and plain layers alike', async () => {
    const plain = await inspectImage(appArchive);
    const layout = path.join(work, 'diff-id-gzip');
    await runCommand('skopeo', ['copy', '-q', `docker-archive:${appArchive}`, `oci:${layout}:1.0`]);
    const gzip = await inspectImage(layout);

    const plainLayer = plain.manifests[0]?.layers[0];
    const gzipLayer = gzip.manifests[0]?.layers[0];
    expect(gzipLayer?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(plainLayer?.diffId).toBe(plainLayer?.digest);
    expect(gzipLayer?.diffId).toBe(plainLayer?.diffId);
  });

  it('leaves the diff ID of a zstd layer undefined', async () => {
    const layout = path.join(work, 'diff-id-zstd');
    await runCommand('skopeo', [
      'copy',
      '-q',
      '--dest-compress-format',
      'zstd',
      `docker-archive:${appArchive}`,
      `oci:${layout}:1.0`,
    ]);
    const layer = (await inspectImage(layout)).manifests[0]?.layers[0];
    expect(layer?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(layer?.diffId).toBeUndefined();
  });

  it('reads the tags of each format', async () => {
    const archive = path.join(work, 'tags.tar');
    await runCommand('skopeo', [
      'copy',
      '-q',
      `docker-archive:${appArchive}`,
      `oci-archive:${archive}:release`,
    ]);
    expect((await inspectImage(appArchive)).references).toEqual(['app:1.0']);
    expect((await inspectImage(archive)).references).toEqual(['release']);
  });

  it('reads an image that umoci built and repacked', async () => {
    const layout = await umociLayout();
    const inspection = await inspectImage(layout);
    const expected = await skopeoManifest(`oci:${layout}:t`);

    expect(inspection.issues).toEqual([]);
    expect(inspection.format).toBe('oci-layout');
    expect(inspection.references).toEqual(['t']);
    const [manifest] = inspection.manifests;
    expect(manifest?.platform).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(manifest?.entrypoint).toEqual(['/bin/app']);
    expect(manifest?.env).toContain('LANG=C.UTF-8');
    expect(manifest?.layers).toHaveLength(2);
    expect(manifest?.layers.map(({ digest, size }) => ({ digest, size }))).toEqual(expected.layers);
  });

  it('summarises each manifest of a two-platform layout', async () => {
    const layout = path.join(work, 'two-platforms');
    const armArchive = path.join(work, 'app-arm64.tar');
    await buildImage(
      { paths: [app], root, system: 'aarch64-linux', tags: ['app:1.0'] },
      { path: armArchive },
    );
    await runCommand('skopeo', [
      'copy',
      '-q',
      `docker-archive:${appArchive}`,
      `oci:${layout}:amd64`,
    ]);
    await runCommand('skopeo', [
      'copy',
      '-q',
      `docker-archive:${armArchive}`,
      `oci:${layout}:arm64`,
    ]);

    const inspection = await inspectImage(layout);
    expect(inspection.issues).toEqual([]);
    expect(inspection.references).toEqual(['amd64', 'arm64']);
    expect(inspection.manifests.map((manifest) => manifest.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
  });

  it('follows a nested index and checks its platforms', async () => {
    const layout = path.join(work, 'nested');
    const armArchive = path.join(work, 'app-arm64-nested.tar');
    await buildImage(
      { paths: [app], root, system: 'aarch64-linux', tags: ['app:1.0'] },
      { path: armArchive },
    );
    await runCommand('skopeo', ['copy', '-q', `docker-archive:${appArchive}`, `oci:${layout}:a`]);
    await runCommand('skopeo', ['copy', '-q', `docker-archive:${armArchive}`, `oci:${layout}:b`]);

    // Move both manifests into an index blob with platforms, as multi-platform builders write.
    const top = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
    const [amd64, arm64] = top.manifests.map((entry: Record<string, unknown>) => ({
      ...entry,
      annotations: undefined,
    }));
    const nested = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
        // Wrong on purpose, because the config of this manifest gives arm64.
        { ...arm64, platform: { os: 'linux', architecture: 's390x' } },
      ],
    });
    const nestedDigest = sha256(nested);
    await writeFile(path.join(layout, 'blobs', 'sha256', nestedDigest.slice(7)), nested);
    await writeFile(
      path.join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: nestedDigest,
            size: Buffer.byteLength(nested),
            annotations: { 'org.opencontainers.image.ref.name': 'multi' },
          },
        ],
      }),
    );

    const inspection = await inspectImage(layout);
    expect(inspection.references).toEqual(['multi']);
    expect(inspection.manifests.map((manifest) => manifest.platform?.architecture)).toEqual([
      'amd64',
      'arm64',
    ]);
    expect(inspection.issues).toEqual([
      {
        path: `blobs/sha256/${nestedDigest.slice(7)}.manifests[1].platform`,
        message: 'expected linux/arm64/v8, the platform of the config, found linux/s390x',
      },
    ]);
  });

  it('reads a gzip layer and a gzip-compressed docker-archive', async () => {
    const folder = await extract(appArchive);
    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    const layer = manifest[0].Layers[0] as string;
    const diffId = sha256(await readFile(path.join(folder, layer)));
    await runCommand('gzip', ['-n', path.join(folder, layer)]);
    manifest[0].Layers[0] = `${layer}.gz`;
    await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
    const archive = path.join(work, 'gzip-layer.tar');
    await runCommand('tar', ['-cf', archive, '-C', folder, '.']);
    await runCommand('gzip', ['-k', '-n', archive]);

    for (const image of [archive, `${archive}.gz`]) {
      const inspection = await inspectImage(image);
      expect(inspection.issues).toEqual([]);
      const summary = inspection.manifests[0]?.layers[0];
      expect(summary?.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
      expect(summary?.diffId).toBe(diffId);
    }
  });

  it('follows symbolic and hard links between members', async () => {
    // skopeo writes each layer as <digest>.tar with a <layer id>/layer.tar symbolic link to it.
    const copy = path.join(work, 'links-skopeo.tar');
    await runCommand('skopeo', [
      'copy',
      '-q',
      `docker-archive:${appArchive}`,
      `docker-archive:${copy}`,
    ]);
    const folder = await extract(copy);
    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    const { stdout } = await runCommand('find', [folder, '-type', 'l', '-name', 'layer.tar']);
    const linkName = path.relative(folder, stdout.trim());
    manifest[0].Layers = [linkName];
    await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
    const viaSymlink = path.join(work, 'links-symbolic.tar');
    await runCommand('tar', ['-cf', viaSymlink, '-C', folder, '.']);

    // GNU tar stores the second name of a file with two names as a hard link member. Sorted by
    // name, "zz-config.json" comes after the "<hex>.json" it links to.
    await runCommand('ln', [
      path.join(folder, manifest[0].Config),
      path.join(folder, 'zz-config.json'),
    ]);
    manifest[0].Config = 'zz-config.json';
    await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
    const viaHardLink = path.join(work, 'links-hard.tar');
    await runCommand('tar', ['--sort=name', '-cf', viaHardLink, '-C', folder, '.']);
    const { stdout: listing } = await runCommand('tar', ['-tvf', viaHardLink]);
    expect(listing).toMatch(/^h.* \.\/zz-config\.json link to /m);

    const expected = (await inspectImage(appArchive)).manifests[0];
    for (const image of [viaSymlink, viaHardLink]) {
      const inspection = await inspectImage(image);
      expect(inspection.issues).toEqual([]);
      expect(inspection.manifests[0]?.layers).toEqual(expected?.layers);
      expect(inspection.manifests[0]?.configDigest).toBe(expected?.configDigest);
    }
  });
});

/** Extracts an archive with GNU tar into a new folder under `work`. */
async function extract(archive: string): Promise<string> {
  const folder = await mkdtemp(path.join(work, 'extracted-'));
  await runCommand('tar', ['-xf', archive, '-C', folder]);
  return folder;
}

/** Copies the app image into a new OCI layout with skopeo and reads back its manifest. */
async function ociLayout(name: string) {
  const layout = path.join(work, name);
  await runCommand('skopeo', ['copy', '-q', `docker-archive:${appArchive}`, `oci:${layout}:1.0`]);
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
  const manifestDigest = index.manifests[0].digest as string;
  const manifestDocument = `blobs/sha256/${manifestDigest.slice(7)}`;
  const manifest = JSON.parse(await readFile(path.join(layout, manifestDocument), 'utf8'));
  const blob = (digest: string) => path.join(layout, 'blobs', 'sha256', digest.slice(7));
  return { layout, manifestDocument, manifest, blob };
}

/** Extracts the app image and returns its folder, `manifest.json` and a function to re-tar it. */
async function dockerFolder(name: string) {
  const folder = await extract(appArchive);
  const manifestPath = path.join(folder, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  const pack = async () => {
    await writeFile(manifestPath, JSON.stringify(manifest));
    const archive = path.join(work, `${name}.tar`);
    await runCommand('tar', ['-cf', archive, '-C', folder, '.']);
    return archive;
  };
  return { folder, manifest, pack };
}

// Each case breaks one thing in an otherwise valid image, and names the issue it must cause.
const brokenImages: [string, () => Promise<{ image: string; path: string }>, RegExp][] = [
  [
    'an OCI layout without its layer blob',
    async () => {
      const { layout, manifestDocument, manifest, blob } = await ociLayout('missing-blob');
      await rm(blob(manifest.layers[0].digest));
      return { image: layout, path: `${manifestDocument}.layers[0].digest` };
    },
    /^expected layer blob sha256:[0-9a-f]{64}, found none$/,
  ],
  [
    'a layer blob of the wrong size',
    async () => {
      const { layout, manifestDocument, manifest, blob } = await ociLayout('wrong-size');
      await writeFile(blob(manifest.layers[0].digest), 'trailing bytes', { flag: 'a' });
      return { image: layout, path: `${manifestDocument}.layers[0].size` };
    },
    /^expected \d+, the size of blob sha256:[0-9a-f]{64}, found \d+$/,
  ],
  [
    'a config whose bytes do not match its digest',
    async () => {
      const { layout, manifestDocument, manifest, blob } = await ociLayout('config-digest');
      const configPath = blob(manifest.config.digest);
      const config = await readFile(configPath, 'utf8');
      // Same length, so that only the digest differs.
      await writeFile(configPath, config.replace('"amd64"', '"arm64"'));
      return { image: layout, path: `${manifestDocument}.config.digest` };
    },
    /^expected sha256:[0-9a-f]{64}, the digest of the config bytes, found sha256:[0-9a-f]{64}$/,
  ],
  [
    'an index naming a missing manifest',
    async () => {
      const { layout, manifestDocument } = await ociLayout('missing-manifest');
      await rm(path.join(layout, manifestDocument));
      return { image: layout, path: 'index.json.manifests[0]' };
    },
    /^blob sha256:[0-9a-f]{64} not found in the image$/,
  ],
  [
    'a config that is not JSON',
    async () => {
      const { layout, manifest, blob } = await ociLayout('config-not-json');
      await writeFile(blob(manifest.config.digest), 'not json');
      return { image: layout, path: `blobs/sha256/${manifest.config.digest.slice(7)}` };
    },
    /^expected a JSON document, found 8 bytes that do not start with "\{" or "\["$/,
  ],
  [
    'a docker-archive with a wrong diff ID',
    async () => {
      const { folder, manifest, pack } = await dockerFolder('wrong-diff-id');
      const config = JSON.parse(await readFile(path.join(folder, manifest[0].Config), 'utf8'));
      config.rootfs.diff_ids = [sha256('another layer')];
      const configText = JSON.stringify(config);
      const configName = `${sha256(configText).slice(7)}.json`;
      await writeFile(path.join(folder, configName), configText);
      manifest[0].Config = configName;
      return { image: await pack(), path: `${configName}.rootfs.diff_ids[0]` };
    },
    /^expected sha256:[0-9a-f]{64}, the diff ID computed from layer manifest\.Layers\[0\], found sha256:[0-9a-f]{64}$/,
  ],
  [
    'a manifest.json naming a missing layer',
    async () => {
      const { manifest, pack } = await dockerFolder('missing-layer');
      manifest[0].Layers[0] = 'missing/layer.tar';
      return { image: await pack(), path: 'manifest.json[0].Layers[0]' };
    },
    /^expected layer file "missing\/layer\.tar" in the archive, found no such file$/,
  ],
  [
    'a layer that is broken gzip',
    async () => {
      const { folder, manifest, pack } = await dockerFolder('broken-gzip');
      const layer = path.join(folder, manifest[0].Layers[0]);
      await runCommand('gzip', ['-n', layer]);
      await runCommand('truncate', ['-s', '-8', `${layer}.gz`]);
      manifest[0].Layers[0] = `${manifest[0].Layers[0]}.gz`;
      return { image: await pack(), path: 'manifest.json[0].Layers[0]' };
    },
    /^expected a readable gzip stream, found one that fails: unexpected end of file$/,
  ],
];

describe('inspectImage on broken images', () => {
  it.each(brokenImages)('reports %s', async (_case, breakImage, message) => {
    const { image, path: issuePath } = await breakImage();
    const { issues } = await inspectImage(image);
    expect(issues).toContainEqual({ path: issuePath, message: expect.stringMatching(message) });
  });

  it.each([
    [
      'a file that is not a tar',
      async () => writeText('not-a-tar', 'just text\n'),
      'NOT_IMAGE',
      /not a tar archive: unexpected end of data$/,
    ],
    [
      'random bytes',
      async () => writeText('random', 'x'.repeat(2048)),
      'NOT_IMAGE',
      /not a tar archive: invalid tar header$/,
    ],
    [
      'an empty folder',
      async () => mkdtemp(path.join(work, 'empty-')),
      'NOT_IMAGE',
      /not an OCI image layout: found no oci-layout or index\.json$/,
    ],
    [
      'a tar that holds no image',
      async () => tarOf('no-image', 'hello.txt'),
      'NOT_IMAGE',
      /not an image archive: found no manifest\.json, index\.json or oci-layout member$/,
    ],
    [
      'a missing file',
      async () => path.join(work, 'missing.tar'),
      'READ',
      /: no such file or directory$/,
    ],
  ])('raises an ImageError for %s', async (_case, makePath, code, message) => {
    const image = await makePath();
    const failure = inspectImage(image);
    await expect(failure).rejects.toMatchObject({ name: 'ImageError', code, path: image });
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.toThrow(`reading ${image}: `);
  });
});

async function writeText(name: string, text: string): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, text);
  return file;
}

/** Writes a tar of one text file with GNU tar and returns its path. */
async function tarOf(name: string, member: string): Promise<string> {
  const folder = await mkdtemp(path.join(work, 'plain-'));
  await writeFile(path.join(folder, member), 'hello\n');
  const archive = path.join(work, `${name}.tar`);
  await runCommand('tar', ['-cf', archive, '-C', folder, member]);
  return archive;
}

describe('inspectImage on crafted layouts', () => {
  // Each case swaps a blob of a valid layout for something a layout may not hold.
  it.each([
    [
      'a symlink to a file elsewhere',
      async (blob: string) => symlink('/etc/hostname', blob),
      /: a symbolic link: /,
    ],
    ['a FIFO', async (blob: string) => runCommand('mkfifo', [blob]), /: not a regular file: /],
  ])('rejects a blob that is %s', async (_case, replace, message) => {
    const { layout, manifest, blob } = await ociLayout(`crafted-${_case.length}`);
    const layer = blob(manifest.layers[0].digest);
    await rm(layer);
    await replace(layer);

    const failure = inspectImage(layout);
    await expect(failure).rejects.toMatchObject({ name: 'ImageError', code: 'NOT_IMAGE' });
    await expect(failure).rejects.toThrow(message);
  });

  it('rejects blobs linked out of the layout', async () => {
    const { layout } = await ociLayout('blobs-elsewhere');
    const elsewhere = path.join(work, 'blobs-elsewhere-moved');
    await runCommand('mv', [path.join(layout, 'blobs'), elsewhere]);
    await symlink(elsewhere, path.join(layout, 'blobs'));

    await expect(inspectImage(layout)).rejects.toThrow(/a link out of the layout/);
  });

  it('reads each nested index once', async () => {
    // Three levels of indexes, each listing the level below 30 times: 27,000 paths to one manifest.
    const { layout } = await ociLayout('fan-out');
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
    let entry = index.manifests[0];
    for (let level = 0; level < 3; level += 1) {
      const text = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: Array.from({ length: 30 }, () => entry),
      });
      const digest = sha256(text);
      await writeFile(path.join(layout, 'blobs', 'sha256', digest.slice(7)), text);
      entry = {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest,
        size: Buffer.byteLength(text),
      };
    }
    await writeFile(
      path.join(layout, 'index.json'),
      JSON.stringify({ ...index, manifests: [entry] }),
    );

    const inspection = await inspectImage(layout);
    expect(inspection.issues).toEqual([]);
    expect(inspection.manifests).toHaveLength(1);
  });

  it('summarises a manifest with two tags once', async () => {
    const { layout } = await ociLayout('two-tags');
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
    const [entry] = index.manifests;
    const retagged = { ...entry, annotations: { 'org.opencontainers.image.ref.name': '2.0' } };
    await writeFile(
      path.join(layout, 'index.json'),
      JSON.stringify({ ...index, manifests: [entry, retagged] }),
    );

    const inspection = await inspectImage(layout);
    expect(inspection.manifests).toHaveLength(1);
    expect(inspection.manifests[0]?.references).toEqual(['1.0', '2.0']);
  });
});
