import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildNixClosure,
  type NixClosureFixture,
  runCommand,
  skopeoInspect,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

const bin = fileURLToPath(new URL('../bin/storepack.js', import.meta.url));

let work: string;
let fixture: NixClosureFixture;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-build-output-'));
  fixture = await buildNixClosure({ layout: 'nix' });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs storepack under `script`, which gives it a terminal, and returns what the terminal showed. */
async function onTerminal(args: string[]): Promise<string> {
  const command = [process.execPath, bin, ...args].map((arg) => `'${arg}'`).join(' ');
  const { stdout } = await runCommand('script', ['-qec', `stty cols 200; ${command}`, '/dev/null']);
  return stdout;
}

describe('storepack build --json', () => {
  it.each(['docker-archive', 'oci'] as const)('describes a %s', async (format) => {
    const output = path.join(work, `json-${format}`);
    const run = await runStorepack([
      'build',
      fixture.root,
      '--format',
      format,
      '-o',
      output,
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const document = JSON.parse(run.stdout.toString());
    const transport =
      format === 'oci' ? (`oci:${output}` as const) : (`docker-archive:${output}` as const);
    const { manifest } = await skopeoInspect(transport);
    const { config, layers } = manifest as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    expect(document).toMatchObject({ format, output, configDigest: config.digest });
    expect(document.images[0].layers.map((layer: { digest: string }) => layer.digest)).toEqual(
      layers.map((layer) => layer.digest),
    );
    expect(typeof document.seconds).toBe('number');
  });

  it('rejects -o - with --json', async () => {
    const run = await runStorepack(['build', fixture.root, '-o', '-', '--json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--json prints to standard output/);
    expect(run.stdout.length).toBe(0);
  });
});

describe('storepack build progress', () => {
  it('shows on a terminal', async () => {
    const screen = await onTerminal(['build', fixture.root, '-o', path.join(work, 'progress.tar')]);
    expect(screen).toMatch(/storepack: closure of 5 items \(db\)/);
    expect(screen).toMatch(/storepack: 5 items \(db\), 6 layers, [\d.]+ MiB written in [\d.]+ s/);
  });

  it('stays off with --quiet', async () => {
    const screen = await onTerminal([
      'build',
      fixture.root,
      '-o',
      path.join(work, 'quiet.tar'),
      '--quiet',
    ]);
    expect(screen).toBe('');
  });

  it('stays off when standard error is no terminal', async () => {
    const run = await runStorepack(['build', fixture.root, '-o', path.join(work, 'piped.tar')]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
  });
});
