import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  buildNixClosure,
  type GeneratedStore,
  generateStore,
  type NixClosureFixture,
  queryRequisites,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';
import { humanSize } from './closure-output.js';

const execFileAsync = promisify(execFile);

let work: string;
let fixture: NixClosureFixture;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-closure-command-'));
  fixture = await buildNixClosure({ layout: 'nix' });
});

afterAll(async () => {
  await execFileAsync('chmod', ['-R', 'u+w', work]).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

async function storepackOutput(args: string[]): Promise<string> {
  const run = await runStorepack(args);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.toString();
}

async function nixOutput(program: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(program, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Reads the NAR size and closure size of each item with `nix path-info --json -S`. */
async function nixSizes(storePath: string): Promise<Map<string, [number, number]>> {
  const json = await nixOutput('nix', [
    '--extra-experimental-features',
    'nix-command',
    'path-info',
    '--json',
    '--recursive',
    '--closure-size',
    storePath,
  ]);
  const infos = JSON.parse(json) as { path: string; narSize: number; closureSize: number }[];
  return new Map(infos.map((info) => [info.path, [info.narSize, info.closureSize]]));
}

describe('storepack closure on the fixture', () => {
  it('prints the paths of nix-store -qR', async () => {
    const output = await storepackOutput(['closure', fixture.root]);
    expect(output).toBe(
      (await queryRequisites(fixture, fixture.root)).map((line) => `${line}\n`).join(''),
    );
  });

  it('prints the tree of nix-store -q --tree', async () => {
    const output = await storepackOutput(['closure', '--tree', fixture.root]);
    expect(output).toBe(await nixOutput('nix-store', ['--query', '--tree', fixture.root]));
  });

  it('prints the graph of nix-store -q --graph', async () => {
    // Nix colours each edge differently; storepack draws them all black.
    const normalise = (dot: string) =>
      dot
        .replace(/\[color = "[a-z]+"\]/g, '[color = "black"]')
        .split('\n')
        .sort();
    const output = await storepackOutput(['closure', '--graph', 'dot', fixture.root]);
    expect(normalise(output)).toEqual(
      normalise(await nixOutput('nix-store', ['--query', '--graph', fixture.root])),
    );
  });

  it.each(['db', 'scan', 'command'])('prints the sizes of nix path-info from %s', async (from) => {
    const expected = await nixSizes(fixture.root);
    const output = await storepackOutput([
      'closure',
      '--size',
      '--closure-from',
      from,
      fixture.root,
    ]);

    const lines = output.trimEnd().split('\n');
    expect(lines.length).toBe(expected.size);
    for (const line of lines) {
      const [storePath, ...sizes] = line.split(/ {2,}/);
      const [narSize, closureSize] = expected.get(storePath as string) as [number, number];
      expect(sizes, storePath).toEqual([humanSize(narSize), humanSize(closureSize)]);
    }
  });

  it('prints JSON with sizes and referrers', async () => {
    const expected = await nixSizes(fixture.root);
    const document = JSON.parse(await storepackOutput(['closure', '--json', fixture.root]));

    expect(document.storeDir).toBe('/nix/store');
    expect(document.roots).toEqual([fixture.root]);
    expect(document.source).toBe('db');
    expect(document.narSize).toBe(expected.get(fixture.root)?.[1]);
    const jq = document.items.find((item: { path: string }) => item.path === fixture.items.jq);
    expect(jq).toEqual({
      path: fixture.items.jq,
      references: [fixture.items.glibc, fixture.items.jq].sort(),
      referrers: [fixture.root],
      narSize: expected.get(fixture.items.jq)?.[0],
      closureSize: expected.get(fixture.items.jq)?.[1],
      fileCount: null,
    });
  });

  it('follows a result link', async () => {
    const link = path.join(work, 'result');
    await execFileAsync('ln', ['-s', fixture.root, link]);
    const output = await storepackOutput(['closure', link]);
    expect(output.split('\n')).toContain(fixture.items.glibc);
  });

  it('reads a closure file and builds from it', async () => {
    const file = path.join(work, 'registration');
    const items = await queryRequisites(fixture, fixture.root);
    await writeFile(file, await nixOutput('nix-store', ['--dump-db', ...items]));

    const output = await storepackOutput(['closure', '--closure-from', file, fixture.root]);
    expect(output).toBe(items.map((line) => `${line}\n`).join(''));
    const archive = path.join(work, 'from-file.tar');
    await storepackOutput(['build', '--closure-from', file, fixture.root, '-o', archive]);
    const listing = await nixOutput('sh', [
      '-c',
      'tar -xOf "$1" --wildcards "*/layer.tar" | tar -t',
      'sh',
      archive,
    ]);
    expect(listing).toContain(`${fixture.items.glibc.slice(1)}/lib/`);
  });
});

describe('storepack closure on a generated store', () => {
  let store: GeneratedStore;

  beforeAll(async () => {
    store = await generateStore({ root: path.join(work, 'generated'), count: 2000 });
  }, 120_000);

  it.each(['auto', 'command', 'scan'])('prints nix-store -qR from %s', async (from) => {
    const expected = await nixOutput('nix-store', [
      '--store',
      store.storeUri,
      '--query',
      '--requisites',
      store.rootItem,
    ]);
    const output = await storepackOutput([
      'closure',
      '--root',
      store.root,
      '--closure-from',
      from,
      store.rootItem,
    ]);
    expect(output).toBe(`${expected.trimEnd().split('\n').sort().join('\n')}\n`);
  });
});

describe('storepack closure errors', () => {
  it.each([
    [['closure'], 2, 'storepack: closure: no store path given (see storepack closure --help)'],
    [
      ['closure', '--graph', 'svg', '/nix/store/x'],
      2,
      'storepack: closure: invalid --graph "svg": expected dot',
    ],
    [
      ['closure', '--tree', '--size', '/nix/store/x'],
      2,
      'storepack: closure: --size and --tree cannot be combined: choose one output',
    ],
    [
      ['closure', '/usr/bin/jq'],
      1,
      'storepack: "/usr/bin/jq" is not a store path: no component has the form <32-character hash>-<name>',
    ],
    [
      ['closure', '--closure-from', '/nonexistent/graph.json', `/nix/store/${'0'.repeat(32)}-x`],
      1,
      'storepack: reading closure file /nonexistent/graph.json: no such file or directory',
    ],
  ])('%j exits with %i', async (args, status, message) => {
    const run = await runStorepack(args);
    expect(run.stdout.toString()).toBe('');
    expect(run.stderr).toBe(`${message}\n`);
    expect(run.status).toBe(status);
  });

  it('names root missing from database', async () => {
    const guix = await buildNixClosure({ layout: 'guix' });
    const run = await runStorepack([
      'closure',
      '--closure-from',
      'db',
      '--db',
      guix.dbPath,
      fixture.root,
    ]);
    expect(run.stderr).toBe(
      `storepack: ${fixture.root} is not a valid path in store database ${guix.dbPath}\n`,
    );
    expect(run.status).toBe(1);
  });
});
