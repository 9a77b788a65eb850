import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildNixClosure,
  type NixClosureFixture,
  runCommand,
  runInBundle,
  skopeoInspect,
  unpackWithUmoci,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';
import { platformGroups } from './platform-groups.js';

let work: string;
let fixture: NixClosureFixture;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-platforms-'));
  fixture = await buildNixClosure({ layout: 'nix' });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('platformGroups', () => {
  it.each([
    ['no --system', ['A', 'B'], [{ system: undefined, paths: ['A', 'B'] }]],
    [
      'one --system anywhere',
      ['A', '--system', 'aarch64-linux', 'B'],
      [{ system: 'aarch64-linux', paths: ['A', 'B'] }],
    ],
    [
      'two --system groups',
      ['--system', 'x86_64-linux', 'A', '--system', 'aarch64-linux', 'B', 'C'],
      [
        { system: 'x86_64-linux', paths: ['A'] },
        { system: 'aarch64-linux', paths: ['B', 'C'] },
      ],
    ],
  ])('groups %s', (_case, args, expected) => {
    expect(platformGroups(tokensOf(args))).toEqual(expected);
  });

  it('rejects a path before the first --system', () => {
    expect(() =>
      platformGroups(
        tokensOf(['A', '--system', 'x86_64-linux', 'B', '--system', 'aarch64-linux', 'C']),
      ),
    ).toThrow('"A" comes before any --system');
  });

  it('rejects a --system without paths', () => {
    expect(() =>
      platformGroups(tokensOf(['--system', 'x86_64-linux', 'A', '--system', 'aarch64-linux'])),
    ).toThrow('--system aarch64-linux has no store path after it');
  });
});

/** Returns `build` arguments that give the fixture's root once for amd64 and once for arm64. */
function twoSystems(): string[] {
  return ['--system', 'x86_64-linux', fixture.root, '--system', 'aarch64-linux', fixture.root];
}

/** Tokens as parseArgs gives them for a command line of PATHs and --system options. */
function tokensOf(args: string[]) {
  const tokens = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === '--system') {
      tokens.push({ kind: 'option' as const, name: 'system', value: args[index + 1] });
      index += 1;
    } else {
      tokens.push({ kind: 'positional' as const, value: arg });
    }
  }
  return tokens;
}

describe.each(['oci', 'oci-archive'] as const)(
  'storepack build --format %s for two systems',
  (format) => {
    it('writes an index that skopeo copies whole', async () => {
      const output = path.join(work, `multi-${format}`);
      const run = await runStorepack([
        'build',
        '--format',
        format,
        '-o',
        output,
        '--entrypoint',
        'bin/hello',
        ...twoSystems(),
      ]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);

      const transport =
        format === 'oci' ? (`oci:${output}` as const) : (`oci-archive:${output}` as const);
      const { manifest } = await skopeoInspect(transport);
      expect(
        (manifest as { manifests: { platform: unknown }[] }).manifests.map(
          (entry) => entry.platform,
        ),
      ).toEqual([
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ]);
      const copy = path.join(work, `copy-${format}`);
      await runCommand('skopeo', ['copy', '-q', '--all', transport, `oci:${copy}:all`]);

      const { bundle, cleanup } = await unpackWithUmoci(transport);
      try {
        expect(await runInBundle(bundle)).toBe('hello from a store closure\n');
      } finally {
        await cleanup();
      }
    });
  },
);

describe('storepack build --format oci-archive for two systems through a cache', () => {
  it('archives each shared blob once, the same bytes each time', async () => {
    const cache = path.join(work, 'shared-cache');
    const build = (output: string) =>
      runStorepack([
        'build',
        '--format',
        'oci-archive',
        '--compress',
        'gzip',
        '--cache',
        cache,
        '-o',
        output,
        ...twoSystems(),
      ]);
    const first = path.join(work, 'shared-first.tar');
    expect((await build(first)).status).toBe(0);

    const { stdout } = await runCommand('tar', ['-tf', first]);
    const members = stdout.trim().split('\n');
    const unexpected = members.filter(
      (name) =>
        !/^(blobs\/|blobs\/sha256\/|blobs\/sha256\/[0-9a-f]{64}|index\.json|oci-layout)$/.test(
          name,
        ),
    );
    expect(unexpected).toEqual([]);

    const second = path.join(work, 'shared-second.tar');
    expect((await build(second)).status).toBe(0);
    const [a, b] = await Promise.all([readFile(first), readFile(second)]);
    expect(a.equals(b)).toBe(true);
  });
});

describe('storepack build for two systems with bad input', () => {
  // Each case is a usage error that writes nothing.
  it.each([
    [
      'a docker-archive',
      ['--system', 'x86_64-linux', 'ROOT', '--system', 'aarch64-linux', 'ROOT'],
      /a docker-archive holds one platform/,
    ],
    [
      'a repeated platform',
      ['--format', 'oci', '--system', 'x86_64-linux', 'ROOT', '--system', 'x86_64-linux', 'ROOT'],
      /two images for platform linux\/amd64/,
    ],
    [
      'a path before the first system',
      [
        '--format',
        'oci',
        'ROOT',
        '--system',
        'x86_64-linux',
        'ROOT',
        '--system',
        'aarch64-linux',
        'ROOT',
      ],
      /comes before any --system/,
    ],
  ])('rejects %s', async (_case, args, message) => {
    const folder = await mkdtemp(path.join(work, 'bad-'));
    const run = await runStorepack([
      'build',
      ...args.map((arg) => (arg === 'ROOT' ? fixture.root : arg)),
      '-o',
      path.join(folder, 'out'),
    ]);

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await readdir(folder)).toEqual([]);
  });
});
