import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  pullWithSkopeo,
  type RegistryProxy,
  type RegistryServer,
  startRegistry,
  startRegistryProxy,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../build-image.js';
import { pushImage } from './push-image.js';

const item = '/nix/store/3x2hqxbp3lh7zx0w5v4dl8f6a1r2s3c4-note-1.0';
const username = 'pusher';
const password = 'correct-horse-battery';

let work: string;
let archive: string;
let registry: RegistryServer;

/** Writes an auth file with `user:secret` for `host` and returns the environment that names it. */
async function authEnvironment(host: string, user: string, secret: string) {
  const folder = await mkdtemp(path.join(work, 'auth-'));
  const file = path.join(folder, 'auth.json');
  const auth = Buffer.from(`${user}:${secret}`).toString('base64');
  await writeFile(file, JSON.stringify({ auths: { [host]: { auth } } }));
  // HOME points at an empty folder, so no auth file of the machine's user is read.
  return { file, env: { REGISTRY_AUTH_FILE: file, HOME: folder } };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-push-auth-'));
  const root = path.join(work, 'root');
  await mkdir(path.join(root, item), { recursive: true });
  await writeFile(path.join(root, item, 'note.txt'), 'pushed with credentials\n');
  archive = path.join(work, 'note.tar');
  await buildImage({ paths: [item], root }, { path: archive });
  registry = await startRegistry({ htpasswd: { username, password } });
});
afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('pushImage with htpasswd authentication', () => {
  it('pushes with credentials from REGISTRY_AUTH_FILE', async () => {
    const { file, env } = await authEnvironment(registry.host, username, password);
    const reference = `${registry.host}/private/note:1`;
    const result = await pushImage(archive, reference, {
      insecureRegistries: [registry.host],
      env,
    });

    const pulled = await pullWithSkopeo(reference, { authFile: file });
    expect(pulled.manifestDigest).toBe(result.manifestDigest);
    await pulled.cleanup();
  });

  it('fails with wrong credentials and shows no secret', async () => {
    const wrong = 'wrong-secret-value';
    const { env } = await authEnvironment(registry.host, username, wrong);
    const failure = await pushImage(archive, `${registry.host}/private/note:2`, {
      insecureRegistries: [registry.host],
      env,
    }).catch((error: unknown) => error as Error & { code: string });

    expect(failure).toMatchObject({ code: 'AUTHENTICATION' });
    expect(failure.message).toMatch(/rejected the credentials of user "pusher"/);
    expect(failure.message).not.toContain(wrong);
    expect(failure.message).not.toContain(Buffer.from(`${username}:${wrong}`).toString('base64'));
  });

  it('fails without credentials', async () => {
    const folder = await mkdtemp(path.join(work, 'home-'));
    await expect(
      pushImage(archive, `${registry.host}/private/note:3`, {
        insecureRegistries: [registry.host],
        env: { HOME: folder },
      }),
    ).rejects.toMatchObject({
      code: 'AUTHENTICATION',
      message: expect.stringMatching(/requires credentials and none were found/),
    });
  });

  it('follows a blob redirect without the Authorization header', async () => {
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    // Blob HEAD and GET requests are sent to /storage/…, which passes them on with the proxy's own
    // credentials, the way blob storage accepts a signed URL.
    const proxy: RegistryProxy = await startRegistryProxy(registry.host, (request, self) => {
      if (request.path.startsWith('/storage/')) {
        return {
          kind: 'forward',
          path: request.path.slice('/storage'.length),
          headers: { authorization: basic },
        };
      }
      if (
        /^\/v2\/.+\/blobs\/sha256:/.test(request.path) &&
        ['GET', 'HEAD'].includes(request.method)
      ) {
        return {
          kind: 'respond',
          status: 307,
          headers: { location: `http://${self}/storage${request.path}` },
        };
      }
      return { kind: 'forward' };
    });
    try {
      const { env } = await authEnvironment(proxy.host, username, password);
      await pushImage(archive, `${proxy.host}/private/redirected:1`, {
        insecureRegistries: [proxy.host],
        env,
      });

      const redirected = proxy.requests.filter((request) => request.path.startsWith('/storage/'));
      const original = proxy.requests.filter((request) =>
        /^\/v2\/.+\/blobs\/sha256:/.test(request.path),
      );
      expect(redirected.length).toBeGreaterThan(0);
      expect(redirected.map((request) => request.headers.authorization)).toEqual(
        redirected.map(() => undefined),
      );
      expect(original.length).toBeGreaterThan(0);
      for (const request of original) {
        expect(request.headers.authorization).toBe(basic);
      }
    } finally {
      await proxy.stop();
    }
  });
});

describe('pushImage with token authentication', () => {
  it('fetches a Bearer token for the push scope', async () => {
    const plain = await startRegistry();
    const token = 'token-for-the-test';
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    // The proxy plays a token service at /token and accepts only its token on the registry API.
    const proxy = await startRegistryProxy(plain.host, (request, self) => {
      if (request.path.startsWith('/token')) {
        return request.headers.authorization === basic
          ? { kind: 'respond', status: 200, body: JSON.stringify({ token }) }
          : { kind: 'respond', status: 401 };
      }
      if (request.headers.authorization !== `Bearer ${token}`) {
        const challenge = `Bearer realm="http://${self}/token",service="test-registry"`;
        return { kind: 'respond', status: 401, headers: { 'www-authenticate': challenge } };
      }
      return { kind: 'forward' };
    });
    try {
      const { env } = await authEnvironment(proxy.host, username, password);
      const result = await pushImage(archive, `${proxy.host}/team/tokened:1`, {
        insecureRegistries: [proxy.host],
        env,
      });
      expect(result.blobs.map((blob) => blob.status)).toEqual(['pushed', 'pushed']);

      const tokenRequests = proxy.requests.filter((request) => request.path.startsWith('/token'));
      expect(tokenRequests).toHaveLength(1);
      const query = new URL(tokenRequests[0]?.path ?? '', 'http://x').searchParams;
      expect(query.get('service')).toBe('test-registry');
      expect(query.getAll('scope')).toEqual(['repository:team/tokened:pull,push']);
    } finally {
      await proxy.stop();
      await plain.stop();
    }
  });
});
