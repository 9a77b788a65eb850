import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pullWithSkopeo, type RegistryServer, startRegistry } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

const exampleStore = path.resolve(import.meta.dirname, '../../../example/store');
const exampleHello = '/nix/store/z0n5db6dpbm1p4pbq0xrc0jiaz2c51hc-hello-2.12';
const password = 'do-not-print-this';

let work: string;
let archive: string;
let registry: RegistryServer;
let guarded: RegistryServer;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-push-test-'));
  archive = path.join(work, 'hello.tar');
  const build = await runStorepack([
    'build',
    '--root',
    exampleStore,
    exampleHello,
    '--layers',
    'single',
    '-o',
    archive,
  ]);
  expect(build.stderr).toBe('');
  registry = await startRegistry();
  guarded = await startRegistry({ htpasswd: { username: 'ci', password } });
});
afterAll(async () => {
  await registry?.stop();
  await guarded?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('storepack push', () => {
  it('pushes an archive and prints its digest', async () => {
    const reference = `${registry.host}/team/hello:1`;
    const run = await runStorepack([
      'push',
      '--insecure-registry',
      registry.host,
      archive,
      reference,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const output = run.stdout.toString();
    expect(output).toMatch(new RegExp(`^Pushed: ${reference}\n`));
    expect(output).toMatch(/Blobs: 2 pushed \(\d+ bytes\), 0 skipped, 0 mounted/);
    const pulled = await pullWithSkopeo(reference);
    expect(output).toContain(`Digest: ${pulled.manifestDigest}\n`);
    await pulled.cleanup();
  });

  it('prints JSON with --json', async () => {
    const run = await runStorepack([
      'push',
      '--json',
      '--insecure-registry',
      registry.host,
      archive,
      `${registry.host}/team/hello:1`,
    ]);
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout.toString());
    expect(result.blobs.map((blob: { status: string }) => blob.status)).toEqual([
      'skipped',
      'skipped',
    ]);
    expect(result.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('rejects a reference without a registry host', async () => {
    const before = (await registry.requests()).length;
    const run = await runStorepack([
      'push',
      '--insecure-registry',
      registry.host,
      archive,
      'hello:1',
    ]);

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^storepack: invalid push reference "hello:1": no registry host: name one, as in 127\.0\.0\.1:5000\/hello:1\n$/,
    );
    expect(run.stdout.toString()).toBe('');
    expect((await registry.requests()).length).toBe(before);
  });

  it('needs --insecure-registry for plain HTTP', async () => {
    const run = await runStorepack(['push', archive, `${registry.host}/team/hello:tls`]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      `if ${registry.host} serves plain HTTP, list it as an insecure registry`,
    );
  });

  it('fails on wrong credentials without printing them', async () => {
    const authFile = path.join(work, 'auth.json');
    const wrong = `${password}-wrong`;
    const auth = Buffer.from(`ci:${wrong}`).toString('base64');
    await writeFile(authFile, JSON.stringify({ auths: { [guarded.host]: { auth } } }));

    const run = await runStorepack(
      ['push', '--insecure-registry', guarded.host, archive, `${guarded.host}/team/hello:1`],
      { env: { REGISTRY_AUTH_FILE: authFile, STOREPACK_DEBUG: '1' } },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `the registry rejected the credentials of user "ci" from ${authFile}`,
    );
    expect(run.stderr).not.toContain(wrong);
    expect(run.stderr).not.toContain(auth);
  });

  it.each([
    ['one argument', ['push', 'hello.tar'], /expected IMAGE and REFERENCE, found 1 arguments/],
    [
      'a bad chunk size',
      ['push', '--chunk-size', '1X', 'a.tar', 'r:1/a'],
      /invalid --chunk-size "1X"/,
    ],
    [
      'a bad insecure registry',
      ['push', '--insecure-registry', 'http://x', 'a.tar', 'x:1/a:1'],
      /invalid insecure registry "http:\/\/x"/,
    ],
  ])('rejects %s', async (_case, args, message) => {
    const run = await runStorepack(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
