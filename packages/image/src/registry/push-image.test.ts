import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type LoggedRequest,
  pullWithSkopeo,
  type RegistryServer,
  runCommand,
  startRegistry,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, buildMultiPlatformImage } from '../build-image.js';
import { pushImage } from './push-image.js';

const app = '/gnu/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-app-1.0';
const data = '/gnu/store/9x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-data-1.0';

let work: string;
let root: string;
let registry: RegistryServer;
/** A docker-archive of app and its closure, and one with the same layer and another config. */
let archive: string;
let sibling: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-push-image-'));
  root = path.join(work, 'root');
  await mkdir(path.join(root, app, 'bin'), { recursive: true });
  await writeFile(path.join(root, app, 'bin', 'app'), `#!/bin/sh\ncat ${data}/message\n`, {
    mode: 0o755,
  });
  await mkdir(path.join(root, data), { recursive: true });
  // Enough bytes that a small chunk size splits the layer into several PATCH requests.
  await writeFile(path.join(root, data, 'message'), 'hi\n'.repeat(100_000));
  await symlink(`${data}/message`, path.join(root, app, 'message'));

  archive = path.join(work, 'app.tar');
  sibling = path.join(work, 'app-debug.tar');
  await buildImage({ paths: [app], root, planner: 'single' }, { path: archive });
  await buildImage(
    { paths: [app], root, planner: 'single', container: { env: ['DEBUG=1'] } },
    { path: sibling },
  );
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Runs `work` and returns the registry requests it caused. */
async function requestsDuring(action: () => Promise<unknown>): Promise<LoggedRequest[]> {
  const before = (await registry.requests()).length;
  await action();
  return (await registry.requests()).slice(before);
}

const isUpload = (request: LoggedRequest) =>
  request.path.includes('/blobs/uploads/') && ['POST', 'PATCH', 'PUT'].includes(request.method);
const insecure = () => ({ insecureRegistries: [registry.host] });

describe('pushImage', () => {
  it('pushes a built image that skopeo pulls intact', async () => {
    const reference = `${registry.host}/team/app:1`;
    const result = await pushImage(archive, reference, insecure());

    expect(result.reference).toBe(reference);
    expect(result.manifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(result.blobs.map((blob) => blob.status)).toEqual(['pushed', 'pushed']);
    const pulled = await pullWithSkopeo(reference);
    try {
      expect(pulled.manifestDigest).toBe(result.manifestDigest);
      expect(pulled.layoutDigest).toBe(result.manifestDigest);
      expect([pulled.manifest.config, ...pulled.manifest.layers].map((d) => d.digest)).toEqual(
        result.blobs.map((blob) => blob.digest),
      );
    } finally {
      await pulled.cleanup();
    }
  });

  it('uploads no blob on a second push', async () => {
    const reference = `${registry.host}/team/app:1`;
    let digest = '';
    const requests = await requestsDuring(async () => {
      const result = await pushImage(archive, reference, insecure());
      expect(result.blobs.map((blob) => blob.status)).toEqual(['skipped', 'skipped']);
      digest = result.manifestDigest;
    });

    expect(requests.filter(isUpload)).toEqual([]);
    expect(requests.filter((request) => request.method === 'HEAD')).toHaveLength(2);
    expect(requests).toContainEqual({
      method: 'PUT',
      path: '/v2/team/app/manifests/1',
      status: 201,
    });
    expect(digest).toMatch(/^sha256:/);
  });

  it('uploads only the new blobs of an image sharing a layer', async () => {
    let configDigest = '';
    const requests = await requestsDuring(async () => {
      const result = await pushImage(sibling, `${registry.host}/team/app:debug`, insecure());
      expect(result.blobs.map((blob) => blob.status)).toEqual(['pushed', 'skipped']);
      configDigest = result.blobs[0]?.digest ?? '';
    });

    // One upload session (POST, then PUT ?digest=) for the new config, none for the layer.
    const uploads = requests.filter(isUpload);
    expect(uploads.map((request) => request.method)).toEqual(['POST', 'PUT']);
    expect(uploads[1]?.path).toContain(`digest=${encodeURIComponent(configDigest)}`);
  });

  it('mounts shared blobs into another repository', async () => {
    const requests = await requestsDuring(async () => {
      const result = await pushImage(sibling, `${registry.host}/other/app:1`, insecure());
      expect(result.blobs.map((blob) => blob.status)).toEqual(['mounted', 'mounted']);
    });

    const uploads = requests.filter(isUpload);
    expect(uploads).toHaveLength(2);
    for (const upload of uploads) {
      expect(upload.method).toBe('POST');
      expect(upload.path).toMatch(
        /\?from=team%2Fapp&mount=sha256%3A|\?mount=sha256%3A[0-9a-f]+&from=team%2Fapp/,
      );
      expect(upload.status).toBe(201);
    }
  });

  it('mounts from a repository named in mountFrom', async () => {
    const other = await startRegistry();
    try {
      const options = { insecureRegistries: [other.host] };
      await pushImage(archive, `${other.host}/first/app:1`, options);
      const result = await pushImage(archive, `${other.host}/second/app:1`, {
        ...options,
        mountFrom: ['first/app'],
      });
      expect(result.blobs.map((blob) => blob.status)).toEqual(['mounted', 'mounted']);
    } finally {
      await other.stop();
    }
  });

  it('uploads through the session of a failed mount', async () => {
    const other = await startRegistry();
    try {
      const result = await pushImage(archive, `${other.host}/team/app:1`, {
        insecureRegistries: [other.host],
        mountFrom: ['empty/repository'],
      });
      expect(result.blobs.map((blob) => blob.status)).toEqual(['pushed', 'pushed']);

      // Each mount request opens an upload session (202), which the upload then uses.
      const uploads = (await other.requests()).filter(isUpload);
      const posts = uploads.filter((request) => request.method === 'POST');
      expect(posts).toHaveLength(2);
      for (const post of posts) {
        expect(post.path).toContain('from=empty%2Frepository');
        expect(post.status).toBe(202);
      }
      expect(
        uploads.filter((request) => request.method === 'PUT' && request.status === 201),
      ).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  it('uploads a large blob in chunks', async () => {
    // A registry of its own, so that no blob is already known and mounted.
    const other = await startRegistry();
    try {
      const reference = `${other.host}/team/chunked:1`;
      const result = await pushImage(archive, reference, {
        insecureRegistries: [other.host],
        chunkSize: 64 * 1024,
      });
      const layer = result.blobs[1];
      const patches = (await other.requests()).filter((request) => request.method === 'PATCH');
      expect(patches).toHaveLength(Math.ceil((layer?.size ?? 0) / (64 * 1024)));
      expect(patches.every((request) => request.status === 202)).toBe(true);

      const pulled = await pullWithSkopeo(reference);
      expect(pulled.manifestDigest).toBe(result.manifestDigest);
      await pulled.cleanup();
    } finally {
      await other.stop();
    }
  });

  it.each([
    ['an OCI layout folder', 'oci' as const, 'layout'],
    ['an oci-archive', 'oci-archive' as const, 'image.tar'],
  ])('pushes %s with its own manifest bytes', async (_case, format, name) => {
    const folder = await mkdtemp(path.join(work, 'oci-'));
    const image = path.join(folder, name);
    await buildImage({ paths: [data], root, format }, { path: image });
    const reference = `${registry.host}/oci/${format}:1`;

    const result = await pushImage(image, reference, insecure());
    const pulled = await pullWithSkopeo(reference);
    try {
      expect(pulled.manifestDigest).toBe(result.manifestDigest);
      expect(result.manifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    } finally {
      await pulled.cleanup();
    }
  });

  it('names a gzip layer of a docker-archive tar+gzip', async () => {
    // The archive of `app` with its layer file gzipped in place, as some tools write them.
    const folder = await mkdtemp(path.join(work, 'gzip-layer-'));
    await runCommand('tar', ['-xf', archive, '-C', folder]);
    const { stdout } = await runCommand('sh', ['-c', 'ls */layer.tar', 'sh'], { cwd: folder });
    const layer = stdout.trim();
    await runCommand('sh', ['-c', 'gzip -n "$1" && mv "$1.gz" "$1"', 'sh', layer], { cwd: folder });
    const gzipped = path.join(work, 'gzip-layer.tar');
    await runCommand('tar', ['-cf', gzipped, '-C', folder, '.']);

    const reference = `${registry.host}/gzip/app:1`;
    const result = await pushImage(gzipped, reference, insecure());
    const pulled = await pullWithSkopeo(reference);
    try {
      expect(pulled.manifest.layers).toEqual([
        expect.objectContaining({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
      ]);
      expect(pulled.manifest.layers[0]?.digest).toBe(result.blobs[1]?.digest);
      expect(pulled.layoutDigest).toBe(result.manifestDigest);
    } finally {
      await pulled.cleanup();
    }
  });

  it('pushes a gzip-compressed archive like the plain one', async () => {
    const compressed = path.join(work, 'app.tar.gz');
    await runCommand('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', archive, compressed]);
    const plain = await pushImage(archive, `${registry.host}/team/app:1`, insecure());
    const result = await pushImage(compressed, `${registry.host}/team/app:gz`, insecure());
    expect(result.manifestDigest).toBe(plain.manifestDigest);
  });

  it('pushes a multi-platform index after its manifests', async () => {
    const folder = await mkdtemp(path.join(work, 'multi-'));
    const layout = path.join(folder, 'layout');
    const systems = ['x86_64-linux', 'aarch64-linux'];
    await buildMultiPlatformImage(
      systems.map((system) => ({ paths: [data], root, system, tags: ['multi:1', 'multi:latest'] })),
      'oci',
      { path: layout },
    );
    const reference = `${registry.host}/oci/multi:1`;

    let result: Awaited<ReturnType<typeof pushImage>> | undefined;
    const requests = await requestsDuring(async () => {
      result = await pushImage(layout, reference, insecure());
    });
    expect(result?.manifestMediaType).toBe('application/vnd.oci.image.index.v1+json');
    const manifestPuts = requests.filter(
      (request) => request.method === 'PUT' && request.path.includes('/manifests/'),
    );
    expect(manifestPuts.map((request) => request.path.split('/manifests/')[1])).toEqual([
      expect.stringMatching(/^sha256:/),
      expect.stringMatching(/^sha256:/),
      '1',
    ]);
    const { stdout } = await runCommand('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${reference}`,
    ]);
    expect(JSON.parse(stdout).manifests).toHaveLength(2);
  });

  it('rejects an OCI layout of several images', async () => {
    const layout = path.join(await mkdtemp(path.join(work, 'two-')), 'layout');
    await buildImage({ paths: [data], root, format: 'oci', tags: ['one:1'] }, { path: layout });
    await buildImage({ paths: [app], root, format: 'oci', tags: ['two:1'] }, { path: layout });
    await expect(pushImage(layout, `${registry.host}/oci/two:1`, insecure())).rejects.toMatchObject(
      {
        code: 'UNSUPPORTED_IMAGE',
        message: expect.stringContaining('expected index.json to list one image, found 2'),
      },
    );
  });

  it('rejects a reference without a registry host before reading the image', async () => {
    await expect(
      pushImage(path.join(work, 'missing.tar'), 'hello:1', insecure()),
    ).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
      message: expect.stringMatching(/no registry host/),
    });
  });

  it('needs TLS unless the registry is listed as insecure', async () => {
    await expect(pushImage(archive, `${registry.host}/team/app:tls`)).rejects.toMatchObject({
      code: 'CONNECTION',
      message: expect.stringContaining('insecure registry'),
    });
  });
});
