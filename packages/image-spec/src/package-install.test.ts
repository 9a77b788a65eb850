import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const REPO_ROOT = path.resolve(PACKAGE_DIR, '..', '..');
const run = promisify(execFile);

const PACKAGE_NAME = '@storepack/image-spec';

/** A downstream script: validate a config, compute a digest, parse a reference, map a system. */
const CONSUMER_SCRIPT = `
import {
  computeDigest,
  createImageConfig,
  formatReference,
  parseReference,
  platformFromSystem,
  validateImageConfig,
} from ${JSON.stringify(PACKAGE_NAME)};

const config = createImageConfig({
  platform: platformFromSystem('aarch64-linux'),
  created: new Date(1000),
  diffIds: [computeDigest('layer')],
});
console.log(JSON.stringify({
  digest: computeDigest('hello'),
  validIssues: validateImageConfig(config),
  invalidIssues: validateImageConfig({ ...config, os: 7 }),
  reference: formatReference(parseReference('ubuntu')),
  platform: platformFromSystem('aarch64-linux'),
}));
`;

describe('packed package', () => {
  let workDir = '';
  let tarball = '';
  let appDir = '';

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'image-spec-pack-'));
    // npm's cache goes to the temp folder, so the test leaves nothing in the user's home.
    const env = { ...process.env, npm_config_cache: path.join(workDir, 'npm-cache') };

    // After `pnpm build` the output is up to date, so tsc writes nothing.
    await run('pnpm', ['exec', 'tsc', '-b', 'packages/image-spec'], { cwd: REPO_ROOT });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workDir], {
      cwd: PACKAGE_DIR,
      env,
    });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    tarball = path.join(workDir, packed?.filename ?? '');

    // --offline proves that installing needs no registry, because the package has no dependency.
    appDir = path.join(workDir, 'app');
    await mkdir(appDir);
    await run('npm', ['init', '-y'], { cwd: appDir, env });
    await run('npm', ['pkg', 'set', 'type=module'], { cwd: appDir, env });
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], {
      cwd: appDir,
      env,
    });
  });

  afterAll(async () => {
    if (workDir !== '') {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('ships dist without tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const entries = stdout.split('\n').filter((entry) => entry !== '');

    expect(entries).toContain('package/package.json');
    expect(entries).toContain('package/README.md');
    expect(entries).toContain('package/dist/index.js');
    expect(entries).toContain('package/dist/index.d.ts');
    expect(entries.filter((entry) => /\.test(-d)?\./.test(entry))).toEqual([]);
    expect(entries.filter((entry) => entry.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(
      entries.filter(
        (entry) => !entry.startsWith('package/dist/') && !/^package\/[^/]+$/.test(entry),
      ),
    ).toEqual([]);
  });

  it('ships no stale build output', async () => {
    // A file left in dist by a removed or renamed source would be published with the rest.
    const sources = (await readdir(path.join(PACKAGE_DIR, 'src')))
      .filter((name) => name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(name))
      .map((name) => name.slice(0, -'.ts'.length));
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const stale = stdout
      .split('\n')
      .filter((entry) => entry.startsWith('package/dist/'))
      .map((entry) => entry.slice('package/dist/'.length))
      .filter((name) => !sources.includes(name.replace(/\.(d\.ts|js)(\.map)?$/, '')));
    expect(stale).toEqual([]);
  });

  it('installs with no dependencies', async () => {
    const installedDir = path.join(appDir, 'node_modules', '@storepack', 'image-spec');
    const manifest = JSON.parse(await readFile(path.join(installedDir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe(PACKAGE_NAME);
    expect(Object.keys(manifest.dependencies ?? {})).toEqual([]);
    expect(manifest.peerDependencies).toBeUndefined();

    // Nothing but the package itself (and npm's lock file) lands in node_modules.
    const installed = (await readdir(path.join(appDir, 'node_modules'))).filter(
      (name) => name !== '.package-lock.json',
    );
    expect(installed).toEqual(['@storepack']);
  });

  it('imports in a plain Node project', async () => {
    const { stdout } = await run('node', ['--input-type=module', '-e', CONSUMER_SCRIPT], {
      cwd: appDir,
    });
    const output = JSON.parse(stdout);

    // The SHA-256 test vector of "hello", as `printf hello | sha256sum` prints it.
    expect(output.digest).toBe(
      'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    expect(output.validIssues).toEqual([]);
    expect(output.invalidIssues).toEqual([
      { path: 'os', message: 'expected a string, found number 7' },
    ]);
    expect(output.reference).toBe('docker.io/library/ubuntu:latest');
    expect(output.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
  });
});
