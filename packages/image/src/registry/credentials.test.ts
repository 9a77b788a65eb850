import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authFilePaths, findCredentials } from './credentials.js';

let home: string;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'storepack-credentials-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function auth(user: string, password: string): { auth: string } {
  return { auth: Buffer.from(`${user}:${password}`).toString('base64') };
}

async function writeJson(file: string, value: unknown): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value));
  return file;
}

describe('findCredentials', () => {
  it('searches the auth files in order', async () => {
    const env = {
      HOME: home,
      XDG_RUNTIME_DIR: path.join(home, 'run'),
      REGISTRY_AUTH_FILE: path.join(home, 'given.json'),
    };
    expect(authFilePaths(env)).toEqual([
      path.join(home, 'given.json'),
      path.join(home, 'run', 'containers', 'auth.json'),
      path.join(home, '.config', 'containers', 'auth.json'),
      path.join(home, '.docker', 'config.json'),
    ]);

    await writeJson(path.join(home, '.docker', 'config.json'), {
      auths: { 'reg:5000': auth('docker', 'd') },
    });
    expect(await findCredentials('reg:5000', 'team/app', { env })).toMatchObject({
      username: 'docker',
    });

    await writeJson(path.join(home, '.config', 'containers', 'auth.json'), {
      auths: { 'reg:5000': auth('config', 'c') },
    });
    expect(await findCredentials('reg:5000', 'team/app', { env })).toMatchObject({
      username: 'config',
    });

    await writeJson(path.join(home, 'run', 'containers', 'auth.json'), {
      auths: { 'reg:5000': auth('runtime', 'r') },
    });
    expect(await findCredentials('reg:5000', 'team/app', { env })).toMatchObject({
      username: 'runtime',
    });

    await writeJson(env.REGISTRY_AUTH_FILE, {
      auths: { 'reg:5000': auth('given', 'g:with:colons') },
    });
    expect(await findCredentials('reg:5000', 'team/app', { env })).toEqual({
      username: 'given',
      password: 'g:with:colons',
      source: env.REGISTRY_AUTH_FILE,
    });
  });

  it.each([
    ['a URL key', 'https://reg:5000/v2/', 'url'],
    ['a namespace key', 'reg:5000/team', 'namespace'],
    ['the repository key', 'reg:5000/team/app', 'repository'],
  ])('matches %s', async (_case, key, user) => {
    const file = await writeJson(path.join(home, 'auth.json'), {
      auths: { 'reg:5000/other': auth('other', 'o'), [key]: auth(user, 'p') },
    });
    const found = await findCredentials('reg:5000', 'team/app', {
      env: { HOME: home, REGISTRY_AUTH_FILE: file },
    });
    expect(found?.username).toBe(user);
  });

  it('prefers the longest matching key', async () => {
    const file = await writeJson(path.join(home, 'auth.json'), {
      auths: { 'reg:5000': auth('host', 'h'), 'reg:5000/team': auth('team', 't') },
    });
    const found = await findCredentials('reg:5000', 'team/app', {
      env: { HOME: home, REGISTRY_AUTH_FILE: file },
    });
    expect(found?.username).toBe('team');
  });

  it('returns nothing for another registry', async () => {
    const file = await writeJson(path.join(home, 'auth.json'), {
      auths: { 'reg:5001': auth('u', 'p') },
    });
    expect(
      await findCredentials('reg:5000', 'team/app', {
        env: { HOME: home, REGISTRY_AUTH_FILE: file },
      }),
    ).toBeUndefined();
  });

  it('rejects invalid JSON without quoting it', async () => {
    const file = path.join(home, 'auth.json');
    await writeFile(file, '{"auths": {"reg:5000": {"auth": "c2VjcmV0"');
    const failure = await findCredentials('reg:5000', 'team/app', {
      env: { HOME: home, REGISTRY_AUTH_FILE: file },
    }).catch((error: Error) => error);
    expect(failure).toMatchObject({
      code: 'CREDENTIALS',
      message: `reading auth file ${file}: not valid JSON`,
    });
  });

  it('warns about credential helpers it does not run', async () => {
    const file = await writeJson(path.join(home, 'auth.json'), {
      credHelpers: { 'reg:5000': 'pass' },
    });
    const warnings: string[] = [];
    const logger = { debug: () => undefined, warn: (message: string) => warnings.push(message) };
    const found = await findCredentials('reg:5000', 'team/app', {
      env: { HOME: home, REGISTRY_AUTH_FILE: file },
      logger,
    });
    expect(found).toBeUndefined();
    expect(warnings).toEqual(['credential helpers are not supported, skipping them']);
  });
});
