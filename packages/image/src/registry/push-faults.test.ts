import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type ProxiedRequest,
  type ProxyAction,
  pullWithSkopeo,
  type RegistryServer,
  startRegistry,
  startRegistryProxy,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../build-image.js';
import { pushImage } from './push-image.js';

const item = '/nix/store/5x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-noise-1.0';

let work: string;
let archive: string;
let registry: RegistryServer;

/** Short waits between tries keep the tests fast; the tries are as many as by default. */
const retry = { initialDelayMs: 10 };

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-push-faults-'));
  const root = path.join(work, 'root');
  await mkdir(path.join(root, item), { recursive: true });
  await writeFile(path.join(root, item, 'noise.bin'), Buffer.alloc(300_000, 'x'));
  archive = path.join(work, 'noise.tar');
  await buildImage({ paths: [item], root }, { path: archive });
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Builds a `decide` function that fails the first request of each kind listed, then forwards. */
function failFirst(
  faults: [kind: string, test: (request: ProxiedRequest) => boolean, action: ProxyAction][],
) {
  const injected = new Set<string>();
  const decide = (request: ProxiedRequest): ProxyAction => {
    for (const [kind, test, action] of faults) {
      if (!injected.has(kind) && test(request)) {
        injected.add(kind);
        return action;
      }
    }
    return { kind: 'forward' };
  };
  return { decide, injected };
}

const isBlobHead = (request: ProxiedRequest) =>
  request.method === 'HEAD' && request.path.includes('/blobs/sha256:');
const isUploadStart = (request: ProxiedRequest) =>
  request.method === 'POST' && request.path.includes('/blobs/uploads/');
const isPatch = (request: ProxiedRequest) => request.method === 'PATCH';
const isUploadPut = (request: ProxiedRequest) =>
  request.method === 'PUT' && request.path.includes('/blobs/uploads/');
const isManifestPut = (request: ProxiedRequest) =>
  request.method === 'PUT' && request.path.includes('/manifests/');

describe('pushImage through a failing network', () => {
  it('retries 5xx, 429 and dropped connections', async () => {
    const { decide, injected } = failFirst([
      ['ping', (request) => request.path === '/v2/', { kind: 'respond', status: 502 }],
      ['head', isBlobHead, { kind: 'respond', status: 503 }],
      ['post', isUploadStart, { kind: 'respond', status: 429, headers: { 'retry-after': '1' } }],
      ['patch', isPatch, { kind: 'drop' }],
      ['put', isUploadPut, { kind: 'drop' }],
      ['manifest', isManifestPut, { kind: 'respond', status: 503 }],
    ]);
    const proxy = await startRegistryProxy(registry.host, decide);
    try {
      const reference = `team/noise:1`;
      const result = await pushImage(archive, `${proxy.host}/${reference}`, {
        insecureRegistries: [proxy.host],
        chunkSize: 100_000,
        concurrency: 1,
        retry,
      });
      expect([...injected].sort()).toEqual(['head', 'manifest', 'patch', 'ping', 'post', 'put']);

      const pulled = await pullWithSkopeo(`${registry.host}/${reference}`);
      expect(pulled.manifestDigest).toBe(result.manifestDigest);
      expect(pulled.layoutDigest).toBe(result.manifestDigest);
      await pulled.cleanup();
    } finally {
      await proxy.stop();
    }
  });

  it('restarts a blob upload whose connection dropped', async () => {
    const { decide } = failFirst([['patch', isPatch, { kind: 'drop' }]]);
    const proxy = await startRegistryProxy(registry.host, decide);
    try {
      await pushImage(archive, `${proxy.host}/team/restarted:1`, {
        insecureRegistries: [proxy.host],
        chunkSize: 100_000,
        concurrency: 1,
        retry,
      });
      // The layer's upload starts twice: the first session is left when its PATCH drops.
      const starts = proxy.requests.filter(isUploadStart);
      expect(starts).toHaveLength(3);
    } finally {
      await proxy.stop();
    }
  });

  it('stops an upload when aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    const proxy = await startRegistryProxy(registry.host, (request) => {
      if (isPatch(request)) controller.abort(reason);
      return { kind: 'forward' };
    });
    try {
      const pushing = pushImage(archive, `${proxy.host}/team/aborted:1`, {
        insecureRegistries: [proxy.host],
        chunkSize: 100_000,
        retry,
        signal: controller.signal,
      });
      await expect(pushing).rejects.toBe(reason);
      expect(proxy.requests.filter(isPatch)).toHaveLength(1);
      expect(proxy.requests.filter(isManifestPut)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('gives up after the retry limit', async () => {
    const proxy = await startRegistryProxy(registry.host, () => ({ kind: 'respond', status: 503 }));
    try {
      await expect(
        pushImage(archive, `${proxy.host}/team/down:1`, {
          insecureRegistries: [proxy.host],
          retry: { attempts: 3, initialDelayMs: 10 },
        }),
      ).rejects.toMatchObject({
        code: 'REGISTRY',
        message: expect.stringMatching(
          /checking the registry API .*: the registry responded with 503/,
        ),
      });
      expect(proxy.requests).toHaveLength(3);
    } finally {
      await proxy.stop();
    }
  });

  it('falls back to Docker schema 2 when OCI is rejected', async () => {
    const proxy = await startRegistryProxy(registry.host, (request) =>
      isManifestPut(request) && request.headers['content-type']?.includes('oci')
        ? {
            kind: 'respond',
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }],
            }),
          }
        : { kind: 'forward' },
    );
    try {
      const result = await pushImage(archive, `${proxy.host}/team/docker:1`, {
        insecureRegistries: [proxy.host],
        retry,
      });
      expect(result.manifestMediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');

      const pulled = await pullWithSkopeo(`${registry.host}/team/docker:1`);
      expect(pulled.manifestDigest).toBe(result.manifestDigest);
      expect(pulled.manifest.layers.map((layer) => layer.digest)).toEqual(
        result.blobs.slice(1).map((blob) => blob.digest),
      );
      await pulled.cleanup();
    } finally {
      await proxy.stop();
    }
  });
});
